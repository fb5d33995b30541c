package org.dealbridge.schemas.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.schemas.DealChanged;
import org.dealbridge.schemas.OrderChanged;
import org.dealbridge.schemas.SampleRecords;
import org.dealbridge.schemas.SyncLink;
import org.dealbridge.schemas.Topics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The Kafka-backed registry on a real in-process broker. Each test uses its own schema topic. */
class EmbeddedSchemaRegistryTest {
    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();
    private static final AtomicInteger TOPICS = new AtomicInteger();
    private static final Schema ORDER = OrderChanged.getClassSchema();
    private static final Schema DEAL = DealChanged.getClassSchema();
    private final String topic = "_schemas-test-" + TOPICS.incrementAndGet();

    private static Map<String, Object> clientConfig() {
        return Map.of("bootstrap.servers", KAFKA.bootstrapServers());
    }

    private EmbeddedSchemaRegistry open() {
        return EmbeddedSchemaRegistry.onTopic(clientConfig(), topic, (short) 1);
    }

    private long endOffset() {
        try (KafkaConsumer<String, String> consumer = consumer()) {
            TopicPartition partition = new TopicPartition(topic, 0);
            consumer.assign(List.of(partition));
            return consumer.endOffsets(List.of(partition), Duration.ofSeconds(10)).get(partition);
        }
    }

    private static KafkaConsumer<String, String> consumer() {
        return new KafkaConsumer<>(Map.of("bootstrap.servers", KAFKA.bootstrapServers(), "isolation.level", "read_committed"),
                new StringDeserializer(), new StringDeserializer());
    }

    private List<ConsumerRecord<String, String>> records() {
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = consumer()) {
            TopicPartition partition = new TopicPartition(topic, 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long deadline = System.currentTimeMillis() + 60_000;
            // a read_committed end offset is the last stable offset: the coordinator writes a committed transaction's
            // marker after commitTransaction returns, so right after a registration it can still stand before the
            // record; wait until it reaches everything written (the high watermark), then read up to it
            long end = committedEnd(consumer, partition);
            try (KafkaConsumer<String, String> uncommitted = new KafkaConsumer<>(Map.of("bootstrap.servers", KAFKA.bootstrapServers()),
                    new StringDeserializer(), new StringDeserializer())) {
                long written = uncommitted.endOffsets(List.of(partition)).get(partition);
                while (end < written && System.currentTimeMillis() < deadline) {
                    end = committedEnd(consumer, partition);
                }
            }
            while (consumer.position(partition) < end && System.currentTimeMillis() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        return records;
    }

    private static long committedEnd(KafkaConsumer<String, String> consumer, TopicPartition partition) {
        return consumer.endOffsets(List.of(partition)).get(partition);
    }

    private static Schema record(String name) {
        return SchemaBuilder.record(name).namespace("org.dealbridge.test").fields().requiredString("value").endRecord();
    }

    @Test
    void theTopicIsCreatedCompactedWithOnePartition() throws Exception {
        try (EmbeddedSchemaRegistry ignored = open(); Admin admin = Admin.create(clientConfig())) {
            assertThat(admin.describeTopics(Set.of(topic)).allTopicNames().get().get(topic).partitions()).hasSize(1);
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            Config config = admin.describeConfigs(Set.of(resource)).all().get().get(resource);
            assertThat(config.get(TopicConfig.CLEANUP_POLICY_CONFIG).value()).isEqualTo(TopicConfig.CLEANUP_POLICY_COMPACT);
        }
    }

    @Test
    void idsSurviveClosingAndReopening() {
        int orderId;
        int dealId;
        try (EmbeddedSchemaRegistry first = open()) {
            orderId = first.register("order-changes-value", ORDER);
            dealId = first.register("deal-changes-value", DEAL);
        }
        long written = endOffset();
        try (EmbeddedSchemaRegistry second = open()) {
            assertThat(second.schemaById(orderId)).isEqualTo(ORDER);
            assertThat(second.schemaById(dealId)).isEqualTo(DEAL);
            assertThat(second.register("order-changes-value", ORDER)).isEqualTo(orderId);
            assertThat(second.register("deal-changes-value", DEAL)).isEqualTo(dealId);
            int linkId = second.register("deal-links-value", SyncLink.getClassSchema());
            assertThat(linkId).isNotIn(orderId, dealId);
        }
        assertThat(endOffset()).as("re-registering known schemas writes nothing").isGreaterThan(written);
        assertThat(records()).hasSize(3);
    }

    @Test
    void theSameSchemaGetsTheSameIdUnderEverySubject() {
        try (EmbeddedSchemaRegistry registry = open()) {
            int id = registry.register("order-changes-value", ORDER);
            assertThat(registry.register("order-changes-value", ORDER)).isEqualTo(id);
            assertThat(registry.register("order-changes-replay-value", ORDER)).isEqualTo(id);
            assertThat(registry.register("deal-changes-value", DEAL)).isEqualTo(id + 1);
        }
    }

    @Test
    void recordsHaveTheDocumentedKeyAndJsonValue() throws Exception {
        int id;
        try (EmbeddedSchemaRegistry registry = open()) {
            id = registry.register("order-changes-value", ORDER);
        }
        List<ConsumerRecord<String, String>> records = records();
        assertThat(records).hasSize(1);
        assertThat(records.get(0).key()).isEqualTo("order-changes-value:" + id);
        JsonNode value = new ObjectMapper().readTree(records.get(0).value());
        assertThat(value.get("subject").asText()).isEqualTo("order-changes-value");
        assertThat(value.get("id").asInt()).isEqualTo(id);
        assertThat(new Schema.Parser().parse(value.get("schema").asText())).isEqualTo(ORDER);
    }

    @Test
    void twoOpenInstancesSeeEachOthersRegistrations() {
        try (EmbeddedSchemaRegistry run = open(); EmbeddedSchemaRegistry cli = open()) {
            int orderId = run.register("order-changes-value", ORDER);
            assertThat(cli.schemaById(orderId)).as("found by reading on after a miss").isEqualTo(ORDER);
            int dealId = cli.register("deal-changes-value", DEAL);
            assertThat(dealId).isNotEqualTo(orderId);
            assertThat(run.schemaById(dealId)).isEqualTo(DEAL);
            assertThat(run.register("deal-changes-value", DEAL)).isEqualTo(dealId);
        }
    }

    @Test
    void concurrentRegistrationsFromTwoInstancesNeverShareAnId() throws Exception {
        int perInstance = 4;
        Map<Schema, Integer> ids = new HashMap<>();
        try (EmbeddedSchemaRegistry a = open(); EmbeddedSchemaRegistry b = open()) {
            ExecutorService pool = Executors.newFixedThreadPool(2);
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Map<Schema, Integer>>> results = new ArrayList<>();
            for (EmbeddedSchemaRegistry registry : List.of(a, b)) {
                String prefix = registry == a ? "A" : "B";
                Callable<Map<Schema, Integer>> job = () -> {
                    start.await();
                    Map<Schema, Integer> mine = new HashMap<>();
                    for (int i = 0; i < perInstance; i++) {
                        Schema schema = record(prefix + i);
                        mine.put(schema, registry.register("subject-" + prefix + i, schema));
                    }
                    return mine;
                };
                results.add(pool.submit(job));
            }
            start.countDown();
            for (Future<Map<Schema, Integer>> result : results) {
                ids.putAll(result.get(120, TimeUnit.SECONDS));
            }
            pool.shutdown();
        }
        assertThat(new HashSet<>(ids.values())).as("distinct ids for %s", ids).hasSize(2 * perInstance);
        try (EmbeddedSchemaRegistry fresh = open()) {
            ids.forEach((schema, id) -> assertThat(fresh.schemaById(id)).isEqualTo(schema));
            assertThat(fresh.skippedRecords()).isEmpty();
        }
        assertThat(records()).as("aborted writes of fenced instances are not visible").hasSize(2 * perInstance);
    }

    @Test
    void aConflictingRecordWrittenOutsideTheProtocolLosesToTheFirst() {
        int id;
        try (EmbeddedSchemaRegistry registry = open()) {
            id = registry.register("order-changes-value", ORDER);
        }
        String rogue = "{\"subject\":\"deal-changes-value\",\"id\":" + id + ",\"schema\":" + quote(DEAL.toString()) + "}";
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of("bootstrap.servers", KAFKA.bootstrapServers()),
                new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(topic, "deal-changes-value:" + id, rogue));
            producer.send(new ProducerRecord<>(topic, "junk", "{not json"));
            producer.flush();
        }
        try (EmbeddedSchemaRegistry registry = open()) {
            assertThat(registry.schemaById(id)).isEqualTo(ORDER);
            assertThat(registry.skippedRecords()).hasSize(2);
            assertThat(registry.skippedRecords().get(0)).contains("deal-changes-value:" + id).contains("id " + id + " already belongs to");
            assertThat(registry.skippedRecords().get(1)).contains("junk").contains("unreadable");
            assertThat(registry.register("deal-changes-value", DEAL)).isNotEqualTo(id);
        }
    }

    @Test
    void anIncompatibleSchemaIsRefusedWith409AndNotWritten() {
        Schema v1 = record("Evolving");
        Schema v2 = SchemaBuilder.record("Evolving").namespace("org.dealbridge.test").fields()
                .requiredString("value").requiredLong("addedWithoutDefault").endRecord();
        try (EmbeddedSchemaRegistry registry = open()) {
            registry.register("evolving-value", v1);
            assertThat(registry.isCompatible("evolving-value", v2)).isFalse();
            assertThatThrownBy(() -> registry.register("evolving-value", v2))
                    .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.errorCode()).isEqualTo(409))
                    .hasMessageContaining("evolving-value");
        }
        assertThat(records()).hasSize(1);
    }

    @Test
    void recordsWrittenUnderOneInstanceAreReadUnderTheNextOne() {
        String dataTopic = topic + "-order-changes";
        KAFKA.createTopics(1, dataTopic);
        OrderChanged sent = SampleRecords.orderChanged();
        try (EmbeddedSchemaRegistry writerSide = open();
             KafkaProducer<String, OrderChanged> producer = new KafkaProducer<>(Map.of("bootstrap.servers", KAFKA.bootstrapServers()),
                     new StringSerializer(), new Topics(writerSide).orderChanges().valueSerde().serializer())) {
            producer.send(new ProducerRecord<>(dataTopic, "s1:5001", sent));
            producer.flush();
        }
        try (EmbeddedSchemaRegistry readerSide = open();
             KafkaConsumer<String, OrderChanged> consumer = new KafkaConsumer<>(Map.of("bootstrap.servers", KAFKA.bootstrapServers()),
                     new StringDeserializer(), new Topics(readerSide).orderChanges().valueSerde().deserializer())) {
            TopicPartition partition = new TopicPartition(dataTopic, 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            List<OrderChanged> received = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 10_000;
            while (received.isEmpty() && System.currentTimeMillis() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> received.add(r.value()));
            }
            assertThat(received).containsExactly(sent);
        }
    }

    @Test
    void aSchemaTopicWithSeveralPartitionsIsRefused() throws Exception {
        try (Admin admin = Admin.create(clientConfig())) {
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get();
        }
        assertThatThrownBy(this::open)
                .isInstanceOf(SchemaRegistryException.class)
                .hasMessageContaining(topic).hasMessageContaining("3 partitions");
    }

    @Test
    void anUnknownIdIsTheRegistrys40403() {
        try (EmbeddedSchemaRegistry registry = open()) {
            assertThatThrownBy(() -> registry.schemaById(4711))
                    .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.errorCode()).isEqualTo(40403));
        }
    }

    private static String quote(String s) {
        try {
            return new ObjectMapper().writeValueAsString(s);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
