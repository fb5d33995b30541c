package org.dealbridge.orderevents;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.bitrix.store.StoreApi;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.emulator.ManualClock;
import org.dealbridge.emulator.Store;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.schemas.Topics;
import org.dealbridge.schemas.registry.InMemorySchemaRegistry;

/**
 * The store emulator (on a manual clock, so dateUpdate values are chosen by the test), a StoreApi over real HTTP
 * to it, and the topics over a real broker. The catalog every test shares:
 * <pre>
 *   section 1 Home
 *     section 2 Toys
 *       section 3 Puzzles      product 100 "Puzzle 500"
 *   section 1                  product 200 "T-shirt" with variations 201 (M) and 202 (L)
 *   (no section)               product 300 "Gift card"
 * </pre>
 */
final class StoreFixture implements AutoCloseable {
    static final Instant T0 = Instant.parse("2026-01-10T09:00:00Z");

    final ManualClock clock = new ManualClock(T0);
    final BitrixEmulator emulator;
    final BitrixClient client;
    final StoreApi store;
    final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    final IngestMetrics metrics = new IngestMetrics(meters);
    /** One registry for the whole test JVM: records written by one test must stay readable in the next. */
    private static final Topics SHARED_TOPICS = new Topics(new InMemorySchemaRegistry());
    final Topics topics = SHARED_TOPICS;

    /**
     * Requests that read orders: {@code sale.order.get}, or a bulk {@code sale.order.list} with an {@code @id} filter;
     * not the list of the orders' saves that closes a bulk read of several pages ({@link StoreApi#SAVES_SELECT}).
     */
    int orderReads() {
        return orderReads(null);
    }

    /** Of those, the ones that read {@code orderId}. */
    int orderReads(Long orderId) {
        return (int) emulator.calls().all().stream().filter(c -> c.portal() == org.dealbridge.emulator.Portal.STORE).filter(c ->
                (c.method().equals("sale.order.get") && (orderId == null || String.valueOf(orderId).equals(c.param("id"))))
                        || (c.method().equals("sale.order.list") && bulkNames(c, orderId))).count();
    }

    private static boolean bulkNames(org.dealbridge.emulator.Call c, Long orderId) {
        Object filter = c.params().get("filter");
        Object ids = filter instanceof Map<?, ?> m ? m.get("@id") : null;
        Object select = c.params().get("select");
        java.util.Collection<?> selected = select instanceof Map<?, ?> m ? m.values() : select instanceof java.util.Collection<?> l ? l : List.of();
        if (ids == null || selected.stream().map(String::valueOf).toList().equals(StoreApi.SAVES_SELECT)) {
            return false;
        }
        java.util.Collection<?> values = ids instanceof Map<?, ?> m ? m.values() : ids instanceof java.util.Collection<?> l ? l : List.of(ids);
        return orderId == null || values.stream().anyMatch(v -> String.valueOf(orderId).equals(String.valueOf(v)));
    }

    StoreFixture() {
        emulator = BitrixEmulator.start(EmulatorOptions.defaults().clock(clock).rateLimitDisabled());
        client = BitrixClient.builder(emulator.storeWebhookUrl()).portal("store").rateLimit(1000, 1000)
                .retry(2, Duration.ofMillis(20), Duration.ofMillis(100)).callTimeout(Duration.ofSeconds(10))
                .meterRegistry(meters).build();
        store = new StoreApi(client);
        Store s = emulator.store();
        s.addSection(1, null, "Home");
        s.addSection(2, 1L, "Toys");
        s.addSection(3, 2L, "Puzzles");
        s.addProduct(100, "Puzzle 500", 3L, "990.00");
        s.addProduct(200, "T-shirt", 1L, "1500.00");
        s.addVariation(201, 200, "T-shirt M", "1500.00");
        s.addVariation(202, 200, "T-shirt L", "1600.00");
        s.addProduct(300, "Gift card", null, "500.00");
        s.addPaySystem(5, "Card");
        s.addPaySystem(6, "Cash", true);
        s.addOrderProperty(1, "FIO", "Full name");
        s.addOrderProperty(2, "EMAIL", "E-mail");
        s.addOrderProperty(3, "PHONE", "Phone");
    }

    Map<String, Object> producerConfig(EmbeddedKafkaCluster kafka) {
        Map<String, Object> config = new HashMap<>();
        config.put("bootstrap.servers", kafka.bootstrapServers());
        return config;
    }

    static void createTopics(EmbeddedKafkaCluster kafka) {
        for (Topics.Definition d : Topics.DEFINITIONS) {
            kafka.createTopics(1, d.configs(), d.name());
        }
    }

    ProductSections sections() {
        return new ProductSections(store, Duration.ofMinutes(10), clock);
    }

    OrderReader reader() {
        return new OrderReader(store, sections());
    }

    /**
     * Every record of a topic from the beginning, polling until {@code until} holds for what was read or
     * {@code timeout} passes; then returns what was read (the caller asserts).
     */
    static <V> List<ConsumerRecord<String, V>> read(EmbeddedKafkaCluster kafka, Topics.Topic<String, V> topic,
                                                    Predicate<List<ConsumerRecord<String, V>>> until, Duration timeout) {
        Map<String, Object> config = new HashMap<>();
        config.put("bootstrap.servers", kafka.bootstrapServers());
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        List<ConsumerRecord<String, V>> out = new ArrayList<>();
        try (KafkaConsumer<String, V> consumer = new KafkaConsumer<>(config, topic.keySerde().deserializer(), topic.valueSerde().deserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic.name()).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(100)).forEach(out::add);
                if (until.test(out)) {
                    break;
                }
            }
        }
        return out;
    }

    static <V> List<ConsumerRecord<String, V>> withKeyPrefix(List<ConsumerRecord<String, V>> records, String prefix) {
        return records.stream().filter(r -> r.key() != null && r.key().startsWith(prefix)).toList();
    }

    @Override
    public void close() {
        client.close();
        emulator.close();
    }
}
