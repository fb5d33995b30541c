package org.dealbridge.mapping;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.dealbridge.kafka.embedded.EmbeddedKafka;
import org.dealbridge.schemas.registry.InMemorySchemaRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * After the log cleaner has run, a site's latest record on {@code mapping-config} is all that is left of it. A bad
 * record there (written around the CLI) must not cost the site its mapping at the next restart: with the
 * {@link MappingKeeper} the last good version is the record compaction keeps; without it (the control), the restarted
 * store finds nothing valid — which is what happened before the keeper existed.
 */
class MappingKeeperCompactionTest {

    @TempDir
    static Path brokerDir;
    private static EmbeddedKafka broker;
    private static int seq;

    private final InMemorySchemaRegistry registry = new InMemorySchemaRegistry();

    @BeforeAll
    static void startBrokerWithAnEagerLogCleaner() {
        broker = EmbeddedKafka.start(brokerDir, 0, Map.of("log.cleaner.backoff.ms", "100"));
    }

    @AfterAll
    static void stopBroker() {
        broker.close();
    }

    private Properties client() {
        Properties p = new Properties();
        p.put("bootstrap.servers", broker.bootstrapServers());
        return p;
    }

    /** Topics that roll a segment every 200 ms and compact as soon as anything is dirty. */
    private MappingTopics tinySegmentTopics() throws Exception {
        seq++;
        MappingTopics topics = MappingTopics.named(registry, "keeper-config-" + seq, "keeper-history-" + seq);
        try (Admin admin = Admin.create(client())) {
            List<NewTopic> created = new ArrayList<>();
            for (String name : List.of(topics.current(), topics.history())) {
                created.add(new NewTopic(name, 1, (short) 1).configs(Map.of(
                        TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
                        TopicConfig.SEGMENT_MS_CONFIG, "200",
                        TopicConfig.MIN_CLEANABLE_DIRTY_RATIO_CONFIG, "0.001",
                        TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, "0",
                        TopicConfig.DELETE_RETENTION_MS_CONFIG, "0")));
            }
            admin.createTopics(created).all().get();
        }
        return topics;
    }

    @Test
    void theLastGoodVersionIsWhatCompactionKeepsAfterABadRecord() throws Exception {
        MappingTopics topics = tinySegmentTopics();
        new MappingPublisher(client(), topics, Clock.systemUTC()).publish(MappingTableTest.V1, "admin", false, DocumentCheck.NONE);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (MappingKeeper keeper = MappingKeeper.start(client(), topics, meters)) {
            assertThat(keeper.awaitCaughtUp(Duration.ofSeconds(30))).isTrue();
            writeBytes(topics, "s1", "not a mapping at all".getBytes());
            await(() -> reasserted(meters) == 1, "the keeper wrote version 1 again");
            compactUntilOneRecordIsLeft(topics, "s1");
        }
        assertThat(restartedStore(topics)).as("after compaction and a restart").map(CompiledMapping::version).contains(1L);
    }

    @Test
    void withoutTheKeeperARestartAfterCompactionFindsNoMapping() throws Exception {
        MappingTopics topics = tinySegmentTopics();
        new MappingPublisher(client(), topics, Clock.systemUTC()).publish(MappingTableTest.V1, "admin", false, DocumentCheck.NONE);
        writeBytes(topics, "s1", "not a mapping at all".getBytes());
        compactUntilOneRecordIsLeft(topics, "s1");
        assertThat(restartedStore(topics)).as("the bug the keeper prevents").isEmpty();
    }

    private static double reasserted(SimpleMeterRegistry meters) {
        Counter c = meters.find(MappingKeeper.REASSERTED_METRIC).tag("site", "s1").counter();
        return c == null ? 0 : c.count();
    }

    /**
     * Writes filler tombstones (another key) so the segment holding the site's records rolls and the cleaner may take
     * it, until a read from the beginning finds one record left for the site.
     */
    private void compactUntilOneRecordIsLeft(MappingTopics topics, String site) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (recordsOf(topics, site).size() > 1) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the log cleaner did not compact " + topics.current() + " within 60 s");
            }
            Thread.sleep(300);
            writeBytes(topics, "filler", null);
        }
    }

    private List<byte[]> recordsOf(MappingTopics topics, String site) {
        List<byte[]> found = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(client(), new StringDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(topics.current(), 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            while (consumer.position(tp) < end) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (site.equals(r.key())) {
                        found.add(r.value());
                    }
                }
            }
        }
        return found;
    }

    /** A new instance's global store, restored from the topic as it is now (an empty state dir). */
    private Optional<CompiledMapping> restartedStore(MappingTopics topics) throws Exception {
        MappingTable table = new MappingTable(topics, new SimpleMeterRegistry());
        StreamsBuilder builder = new StreamsBuilder();
        table.addTo(builder);
        Properties props = client();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "keeper-restart-" + seq);
        Path state = Files.createTempDirectory("keeper-state-");
        props.put(StreamsConfig.STATE_DIR_CONFIG, state.toString());
        try (KafkaStreams streams = new KafkaStreams(builder.build(), props)) {
            streams.start();
            await(() -> streams.state() == KafkaStreams.State.RUNNING, "the restarted instance RUNNING");
            return table.lookup(streams).forSite("s1");
        }
    }

    private void writeBytes(MappingTopics topics, String key, byte[] value) {
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(client(), new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topics.current(), key, value)).get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(100);
        }
    }
}
