package org.dealbridge.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.dealbridge.app.config.ConfigLoader;
import org.dealbridge.app.runtime.DealBridgeRuntime;
import org.dealbridge.schemas.Buyer;
import org.dealbridge.schemas.ChangeCause;
import org.dealbridge.schemas.ChangeSource;
import org.dealbridge.schemas.DeadLetter;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.OrderChanged;
import org.dealbridge.schemas.SyncOutcome;
import org.dealbridge.schemas.Topics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A record the projector cannot read becomes a dead letter naming what was wrong, and the records after it still flow. */
class BadRecordsTest {
    @TempDir
    Path dir;

    @Test
    void aRecordThatIsNotAvroIsDeadLetteredAndTheNextOrderIsStillDecided() throws Exception {
        var config = ConfigLoader.load(null, Map.of("DEALBRIDGE_DATA_DIR", dir.resolve("data").toString(), "DEALBRIDGE_HTTP_PORT", "0",
                "DEALBRIDGE_KAFKA_TOPIC_PARTITIONS", "1"));
        try (DealBridgeRuntime runtime = DealBridgeRuntime.start(config)) {
            Topics topics = runtime.topics();
            try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(runtime.clientProperties(),
                    new org.apache.kafka.common.serialization.StringSerializer(), new ByteArraySerializer())) {
                producer.send(new ProducerRecord<>(Topics.ORDER_CHANGES, "s1:7001", "not avro".getBytes(StandardCharsets.UTF_8))).get();
                OrderChanged good = OrderChanged.newBuilder().setSiteId("s1").setOrderId(7002).setStatusId("N").setCurrency("RUB")
                        .setPrice("100.00").setBuyer(Buyer.newBuilder().build()).setDateUpdate(Instant.now())
                        .setCause(ChangeCause.newBuilder().setSource(ChangeSource.UPSTREAM).build()).build();
                producer.send(new ProducerRecord<>(Topics.ORDER_CHANGES, Keys.order("s1", 7002),
                        topics.orderChanges().valueSerde().serializer().serialize(Topics.ORDER_CHANGES, good))).get();
            }
            List<DeadLetter> letters = readUntil(runtime, Topics.DEAD_LETTERS, topics.deadLetters().valueSerde().deserializer(), 1);
            assertThat(letters).hasSize(1);
            DeadLetter letter = letters.get(0);
            assertThat(letter.getSourceTopic()).isEqualTo(Topics.ORDER_CHANGES);
            assertThat(letter.getSiteId()).isEqualTo("s1");
            assertThat(letter.getReason()).contains("order-changes").contains("magic byte");
            assertThat(new String(letter.getValue().array(), StandardCharsets.UTF_8)).isEqualTo("not avro");

            List<SyncOutcome> outcomes = readUntil(runtime, Topics.SYNC_OUTCOMES, topics.syncOutcomes().valueSerde().deserializer(), 1);
            assertThat(outcomes).as("the order after the bad record is still decided (no mapping for s1 yet)")
                    .anySatisfy(o -> assertThat(o.getOrderId()).isEqualTo(7002L));
        }
    }

    private static <V> List<V> readUntil(DealBridgeRuntime runtime, String topic, Deserializer<V> values, int atLeast) {
        Properties p = new Properties();
        p.putAll(runtime.clientProperties());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "test-" + topic);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<V> seen = new ArrayList<>();
        try (KafkaConsumer<String, V> consumer = new KafkaConsumer<>(p, new StringDeserializer(), values)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.currentTimeMillis() + 60_000;
            while (seen.size() < atLeast && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, V> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.value() != null) {
                        seen.add(r.value());
                    }
                }
            }
        }
        return seen;
    }
}
