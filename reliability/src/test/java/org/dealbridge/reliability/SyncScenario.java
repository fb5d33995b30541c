package org.dealbridge.reliability;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.mapping.DocumentCheck;
import org.dealbridge.mapping.MappingPublisher;
import org.dealbridge.mapping.MappingTopics;
import org.dealbridge.schemas.DeadLetter;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.OrderChanged;
import org.dealbridge.schemas.Topics;
import org.dealbridge.schemas.registry.EmbeddedSchemaRegistry;

/**
 * What the reliability tests share: the shop's CRM side seeded into the emulator, the mapping, publishing the store's
 * changes, and the verifier that compares the CRM with what the store said.
 */
final class SyncScenario implements AutoCloseable {
    static final String ORIGINATOR = "dealbridge:" + OrderStream.SITE;

    static final String MAPPING = """
            site: s1
            pipelines:
              default: 0
              bySection:
                - { section: 12, pipeline: 2 }
            stages:
              "0":
                - { stage: NEW, status: N }
                - { stage: EXECUTING, status: P }
                - { stage: WON, status: F }
              "2":
                - { stage: "C2:NEW", status: N }
                - { stage: "C2:EXECUTING", status: P }
                - { stage: "C2:WON", status: F }
            responsible:
              default: 1
              byPipeline: { "2": 9 }
              contactOwner: false
            payment: { default: 1 }
            """;

    /** Strictly increasing publish stamps: two changes of one order never share a millisecond. */
    private final java.util.concurrent.atomic.AtomicLong lastStamp = new java.util.concurrent.atomic.AtomicLong();
    private final String bootstrapServers;
    private final BitrixEmulator emulator;
    private final EmbeddedSchemaRegistry registry;
    private final Topics topics;

    SyncScenario(String bootstrapServers, BitrixEmulator emulator) {
        this.bootstrapServers = bootstrapServers;
        this.emulator = emulator;
        this.registry = EmbeddedSchemaRegistry.open(Map.of("bootstrap.servers", bootstrapServers), (short) 1);
        this.topics = new Topics(registry);
    }

    /** The CRM the mapping refers to: pipeline 2 with its stages and its manager. */
    static void seedCrm(BitrixEmulator emulator) {
        emulator.crm().addUser(1, "Anna", "Admin", "anna@example.com", true);
        emulator.crm().addUser(9, "Egor", "Electronics", "egor@example.com", true);
        emulator.crm().addPipeline(2, "Electronics", true);
    }

    Topics topics() {
        return topics;
    }

    Properties clientProperties() {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrapServers);
        return p;
    }

    void publishMapping() {
        new MappingPublisher(clientProperties(), MappingTopics.of(registry), Clock.systemUTC())
                .publish(MAPPING, "reliability", false, DocumentCheck.NONE);
    }

    /** A producer as the store ingestion uses one: idempotent, acks=all, so what it publishes is there exactly once. */
    KafkaProducer<String, byte[]> producer() {
        Properties p = clientProperties();
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000);
        return new KafkaProducer<>(p, new StringSerializer(), new org.apache.kafka.common.serialization.ByteArraySerializer());
    }

    /**
     * The change as the store ingestion would publish it: {@code dateUpdate} is the moment of publishing (the store saved
     * the order just now), so it is later than every write DealBridge made before and earlier than those it makes after,
     * as in production. ({@code -Dreliability.backdated=true} keeps the stream's dates from the start of the month: a
     * backlog caught up after long downtime, where every DealBridge write looks later than the order's change.)
     */
    ProducerRecord<String, byte[]> record(OrderChanged change) {
        OrderChanged stamped = Boolean.getBoolean("reliability.backdated") ? change
                : OrderChanged.newBuilder(change).setDateUpdate(java.time.Instant.ofEpochMilli(
                        lastStamp.updateAndGet(last -> Math.max(last + 1, System.currentTimeMillis())))).build();
        return new ProducerRecord<>(Topics.ORDER_CHANGES, Keys.order(change.getSiteId(), change.getOrderId()),
                topics.orderChanges().valueSerde().serializer().serialize(Topics.ORDER_CHANGES, stamped));
    }

    /** The CRM stage an order with this change must be at: its pipeline by section, the stage by status. */
    static String expectedStage(OrderChanged change) {
        boolean electronics = change.getItems().get(0).getSectionPath().contains(OrderStream.ELECTRONICS);
        String stage = switch (change.getStatusId()) {
            case "N" -> "NEW";
            case "P" -> "EXECUTING";
            case "F" -> "WON";
            default -> throw new IllegalArgumentException("no stage for status " + change.getStatusId());
        };
        return electronics ? "C2:" + stage : stage;
    }

    static String expectedPipeline(OrderChanged change) {
        return change.getItems().get(0).getSectionPath().contains(OrderStream.ELECTRONICS) ? "2" : "0";
    }

    /** What the CRM shows against what the store said; empty lists everywhere mean the sync is exact. */
    record Verdict(int orders, int deals, List<Long> missing, Map<Long, Integer> duplicated, Map<Long, String> inconsistent,
                   List<String> strayDeals) {
        boolean exact() {
            return missing.isEmpty() && duplicated.isEmpty() && inconsistent.isEmpty() && strayDeals.isEmpty();
        }

        @Override
        public String toString() {
            return orders + " orders, " + deals + " deals; missing " + missing.size() + " " + head(missing) + ", duplicated "
                    + duplicated.size() + " " + head(duplicated.entrySet()) + ", inconsistent " + inconsistent.size() + " "
                    + head(inconsistent.entrySet()) + ", stray deals " + strayDeals.size() + " " + head(strayDeals);
        }

        private static String head(java.util.Collection<?> c) {
            return c.stream().limit(5).toList().toString();
        }
    }

    /** Compares every deal of the CRM with the last change of every order (deals are found by ORIGIN_ID, as the connector does). */
    Verdict verify(Map<Long, OrderChanged> expected) {
        Map<String, List<Map<String, Object>>> byOrigin = new HashMap<>();
        List<String> stray = new ArrayList<>();
        List<Map<String, Object>> deals = emulator.crm().deals();
        for (Map<String, Object> deal : deals) {
            Object originator = deal.get("ORIGINATOR_ID");
            Object origin = deal.get("ORIGIN_ID");
            if (!ORIGINATOR.equals(originator) || origin == null || !expected.containsKey(Long.parseLong(origin.toString()))) {
                stray.add("deal " + deal.get("ID") + " (" + originator + "/" + origin + ")");
                continue;
            }
            byOrigin.computeIfAbsent(origin.toString(), o -> new ArrayList<>()).add(deal);
        }
        List<Long> missing = new ArrayList<>();
        Map<Long, Integer> duplicated = new TreeMap<>();
        Map<Long, String> inconsistent = new TreeMap<>();
        expected.forEach((orderId, change) -> {
            List<Map<String, Object>> of = byOrigin.getOrDefault(Long.toString(orderId), List.of());
            if (of.isEmpty()) {
                missing.add(orderId);
                return;
            }
            if (of.size() > 1) {
                duplicated.put(orderId, of.size());
            }
            Map<String, Object> deal = of.get(0);
            String stage = String.valueOf(deal.get("STAGE_ID"));
            String pipeline = String.valueOf(deal.get("CATEGORY_ID"));
            if (!expectedStage(change).equals(stage) || !expectedPipeline(change).equals(pipeline)
                    || new java.math.BigDecimal(change.getPrice()).compareTo(new java.math.BigDecimal(String.valueOf(deal.get("OPPORTUNITY")))) != 0) {
                inconsistent.put(orderId, "status " + change.getStatusId() + " price " + change.getPrice() + " but deal " + deal.get("ID")
                        + " is at " + pipeline + "/" + stage + " for " + deal.get("OPPORTUNITY"));
            }
        });
        java.util.Collections.sort(missing);
        return new Verdict(expected.size(), deals.size(), missing, duplicated, inconsistent, stray);
    }

    /** Every dead letter on the topic now. */
    List<DeadLetter> deadLetters() {
        return readAll(Topics.DEAD_LETTERS, topics.deadLetters().valueSerde().deserializer());
    }

    /** Every value on a topic now, read to its end offsets (read_committed); tombstones left out. */
    <V> List<V> readAll(String topic, org.apache.kafka.common.serialization.Deserializer<V> values) {
        Properties p = clientProperties();
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        List<V> seen = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long deadline = System.currentTimeMillis() + 30_000;
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp)) && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.value() != null) {
                        seen.add(values.deserialize(topic, r.value()));
                    }
                }
            }
        }
        return seen;
    }

    EmbeddedSchemaRegistry registry() {
        return registry;
    }

    /** Polls the verifier until the CRM matches the store or the time is up; returns the last verdict. */
    Verdict awaitExact(Map<Long, OrderChanged> expected, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Verdict verdict = verify(expected);
        while (!verdict.exact() && System.nanoTime() < deadline) {
            Thread.sleep(500);
            verdict = verify(expected);
        }
        return verdict;
    }

    static Set<String> secretsOf(BitrixEmulator emulator) {
        return Set.of(emulator.crmWebhookUrl(), emulator.storeWebhookUrl());
    }

    @Override
    public void close() {
        registry.close();
    }
}
