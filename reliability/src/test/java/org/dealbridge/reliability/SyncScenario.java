package org.dealbridge.reliability;

import java.nio.file.Path;
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
import org.dealbridge.mapping.CompiledMapping;
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
    /**
     * The settings every in-process DealBridge of these tests starts with: its data folder, any free HTTP port, the
     * broker, and both emulated portals over plain HTTP. Each test adds its own (tokens, intervals, backoffs).
     */
    static Map<String, String> runtimeEnv(Path dataDir, String bootstrapServers, BitrixEmulator emulator) {
        Map<String, String> env = new HashMap<>();
        env.put("DEALBRIDGE_DATA_DIR", dataDir.toString());
        env.put("DEALBRIDGE_HTTP_PORT", "0");
        env.put("DEALBRIDGE_KAFKA_BOOTSTRAP_SERVERS", bootstrapServers);
        env.put("DEALBRIDGE_CRM_WEBHOOK_URL", emulator.crmWebhookUrl());
        env.put("DEALBRIDGE_STORE_WEBHOOK_URL", emulator.storeWebhookUrl());
        env.put("DEALBRIDGE_REST_ALLOW_INSECURE_HTTP", "true");
        return env;
    }

    static final String ORIGINATOR = "dealbridge:" + OrderStream.SITE;

    static final String MAPPING = """
            site: s1
            pipelines:
              default: 0
              bySection:
                - { section: 12, pipeline: 2 }
                - { section: 13, pipeline: 4 }
            stages:
              "0":
                - { stage: NEW, status: N }
                - { stage: EXECUTING, status: P }
                - { stage: WON, status: F }
              "2":
                - { stage: "C2:NEW", status: N }
                - { stage: "C2:EXECUTING", status: P }
                - { stage: "C2:WON", status: F }
              "4":
                - { stage: "C4:NEW", status: N }
                - { stage: "C4:EXECUTING", status: P }
                - { stage: "C4:WON", status: F }
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
        this(bootstrapServers, emulator, "");
    }

    /** The scenario of the installation with {@code kafka.topic-prefix} = {@code topicPrefix}: its topics and registry. */
    SyncScenario(String bootstrapServers, BitrixEmulator emulator, String topicPrefix) {
        this.bootstrapServers = bootstrapServers;
        this.emulator = emulator;
        this.registry = EmbeddedSchemaRegistry.open(Map.of("bootstrap.servers", bootstrapServers), topicPrefix, (short) 1);
        this.topics = new Topics(registry, topicPrefix);
    }

    private static final CompiledMapping COMPILED = CompiledMapping.compile(MAPPING, 1);

    /** The CRM the mapping refers to: pipelines 2 and 4 with their stages, and the users. */
    static void seedCrm(BitrixEmulator emulator) {
        emulator.crm().addUser(1, "Anna", "Admin", "anna@example.com", true);
        emulator.crm().addUser(9, "Egor", "Electronics", "egor@example.com", true);
        emulator.crm().addPipeline(2, "Electronics", true);
        emulator.crm().addPipeline(4, "Garden", true);
    }

    /** A store that sells one book (product 1101 "Novel", 300.00, section {@link OrderStream#BOOKS}) for cash, status N. */
    static void seedStoreWithBooks(BitrixEmulator emulator) {
        emulator.store().addStatus("N", "Accepted");
        emulator.store().addPaySystem(1, "Cash", true);
        emulator.store().addSection(10, null, "Catalog");
        emulator.store().addSection(OrderStream.BOOKS, 10L, "Books");
        emulator.store().addProduct(1101, "Novel", OrderStream.BOOKS, new java.math.BigDecimal("300.00"));
    }

    /**
     * A store whose catalog holds {@link OrderStream}'s baskets: every leaf section of its paths with three products
     * ({@code section * 100 + 1..3}; orders carry their own prices), statuses N/P/F and a cash pay system.
     */
    static void seedStore(BitrixEmulator emulator) {
        emulator.store().addStatus("N", "Accepted");
        emulator.store().addStatus("P", "Paid");
        emulator.store().addStatus("F", "Finished");
        emulator.store().addPaySystem(1, "Cash", true);
        emulator.store().addSection(10, null, "Catalog");
        emulator.store().addSection(OrderStream.BOOKS, 10L, "Books");
        emulator.store().addSection(OrderStream.ELECTRONICS, 10L, "Electronics");
        emulator.store().addSection(OrderStream.PHONES, OrderStream.ELECTRONICS, "Phones");
        emulator.store().addSection(OrderStream.GARDEN, 10L, "Garden");
        for (long section : List.of(OrderStream.BOOKS, OrderStream.ELECTRONICS, OrderStream.PHONES, OrderStream.GARDEN)) {
            for (int n = 1; n <= 3; n++) {
                emulator.store().addProduct(section * 100 + n, "Product " + (section * 100 + n), section, new java.math.BigDecimal("100.00"));
            }
        }
    }

    /** {@link #MAPPING} compiled by mapping-config, as the projectors compile it: its pipeline and stage rules. */
    static CompiledMapping mapping() {
        return COMPILED;
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
        publishMapping(MAPPING);
    }

    void publishMapping(String mapping) {
        new MappingPublisher(clientProperties(), mappingTopics(), Clock.systemUTC())
                .publish(mapping, "reliability", false, DocumentCheck.NONE);
    }

    MappingTopics mappingTopics() {
        return MappingTopics.of(registry, topics.prefix());
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
        return new ProducerRecord<>(topics.orderChanges().name(), Keys.order(change.getSiteId(), change.getOrderId()),
                topics.orderChanges().valueSerde().serializer().serialize(topics.orderChanges().name(), stamped));
    }

    /** What can be wrong with an order's one deal, each checked against the order's last state. */
    enum Wrong {
        /** {@code OPPORTUNITY} is not the order's final price. */
        AMOUNT("wrong amount"),
        /** {@code CATEGORY_ID} is not the pipeline the mapping picks for the order's final basket. */
        PIPELINE("wrong pipeline"),
        /** {@code STAGE_ID} is not the stage of the order's final status in that pipeline. */
        STAGE("wrong stage"),
        /** The product rows are not the final basket's lines (product, quantity, price). */
        ROWS("wrong product rows"),
        /** The store order's status is not the shop's last one, or (a manager's stage change last) not that stage's. */
        ORDER_STATUS("wrong order status");

        final String label;

        Wrong(String label) {
            this.label = label;
        }
    }

    /**
     * What the CRM shows against what the store said; empty lists everywhere mean the sync is exact. {@code inconsistent}
     * describes every order whose deal is wrong in any way; {@code wrong} lists those orders again by what is wrong.
     */
    record Verdict(int orders, int deals, List<Long> missing, Map<Long, Integer> duplicated, Map<Long, String> inconsistent,
                   Map<Wrong, List<Long>> wrong, List<String> strayDeals) {
        boolean exact() {
            return missing.isEmpty() && duplicated.isEmpty() && inconsistent.isEmpty() && strayDeals.isEmpty();
        }

        /** How many orders have a deal wrong in this way. */
        int count(Wrong what) {
            return wrong.getOrDefault(what, List.of()).size();
        }

        /** Every order that did not come out with exactly one right deal, in id order. */
        java.util.SortedSet<Long> wrongOrders() {
            java.util.SortedSet<Long> all = new java.util.TreeSet<>(missing);
            all.addAll(duplicated.keySet());
            all.addAll(inconsistent.keySet());
            return all;
        }

        @Override
        public String toString() {
            StringBuilder byWhat = new StringBuilder();
            for (Wrong what : Wrong.values()) {
                byWhat.append(byWhat.length() == 0 ? " (" : ", ").append(what.label).append(' ').append(count(what));
            }
            return orders + " orders, " + deals + " deals; missing " + missing.size() + " " + head(missing) + ", duplicated "
                    + duplicated.size() + " " + head(duplicated.entrySet()) + ", inconsistent " + inconsistent.size() + byWhat + ") "
                    + head(inconsistent.entrySet()) + ", stray deals " + strayDeals.size() + " " + head(strayDeals);
        }

        private static String head(java.util.Collection<?> c) {
            return c.stream().limit(5).toList().toString();
        }
    }

    /**
     * Compares every deal of the CRM with the last change of every order (deals are found by ORIGINATOR_ID+ORIGIN_ID, as
     * the connector does): one deal per order, with the order's final price as {@code OPPORTUNITY} (as decimals), in the
     * pipeline {@link CompiledMapping#pipelineFor} picks for the final basket, at the stage of the final status in that
     * pipeline, and with the final basket as its product rows.
     */
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
        Map<Wrong, List<Long>> wrong = new java.util.EnumMap<>(Wrong.class);
        expected.forEach((orderId, order) -> {
            List<Map<String, Object>> of = byOrigin.getOrDefault(Long.toString(orderId), List.of());
            if (of.isEmpty()) {
                missing.add(orderId);
                return;
            }
            if (of.size() > 1) {
                duplicated.put(orderId, of.size());
            }
            Map<String, Object> deal = of.get(0);
            long dealId = Long.parseLong(deal.get("ID").toString());
            String stage = String.valueOf(deal.get("STAGE_ID"));
            String pipeline = String.valueOf(deal.get("CATEGORY_ID"));
            long expectedPipeline = COMPILED.pipelineFor(order.getItems());
            List<String> rows = rowsOfDeal(emulator.crm().dealProductRows(dealId));
            java.util.EnumSet<Wrong> what = java.util.EnumSet.noneOf(Wrong.class);
            if (decimal(order.getPrice()).compareTo(decimal(deal.get("OPPORTUNITY"))) != 0) {
                what.add(Wrong.AMOUNT);
            }
            if (!Long.toString(expectedPipeline).equals(pipeline)) {
                what.add(Wrong.PIPELINE);
            }
            if (!COMPILED.isConsistent(expectedPipeline, stage, order.getStatusId().toString())) {
                what.add(Wrong.STAGE);
            }
            if (!rowsOfBasket(order.getItems()).equals(rows)) {
                what.add(Wrong.ROWS);
            }
            if (!what.isEmpty()) {
                what.forEach(w -> wrong.computeIfAbsent(w, w2 -> new ArrayList<>()).add(orderId));
                inconsistent.put(orderId, what.stream().map(w -> w.label).toList() + ": " + describe(order)
                        + " but deal " + dealId + " is at " + pipeline + "/" + stage + " for " + deal.get("OPPORTUNITY") + " " + rows);
            }
        });
        java.util.Collections.sort(missing);
        wrong.values().forEach(java.util.Collections::sort);
        return new Verdict(expected.size(), deals.size(), missing, duplicated, inconsistent, wrong, stray);
    }

    /** An order's state in one line: status, price, the pipeline its basket maps to, the basket. */
    static String describe(OrderChanged order) {
        return order.getStatusId() + " " + order.getPrice() + " pipeline " + COMPILED.pipelineFor(order.getItems()) + " "
                + rowsOfBasket(order.getItems());
    }

    /** Basket lines as "product x quantity @ price" with canonical decimals, sorted: the rows a deal must have. */
    static List<String> rowsOfBasket(List<org.dealbridge.schemas.BasketItem> items) {
        return items.stream().map(i -> row(i.getProductId(), i.getQuantity(), i.getPrice())).sorted().toList();
    }

    static List<String> rowsOfDeal(List<Map<String, Object>> rows) {
        return rows.stream().map(r -> row(Long.parseLong(String.valueOf(r.get("PRODUCT_ID"))), r.get("QUANTITY"), r.get("PRICE")))
                .sorted().toList();
    }

    private static String row(long productId, Object quantity, Object price) {
        return productId + "x" + decimal(quantity).stripTrailingZeros().toPlainString() + "@"
                + decimal(price).setScale(2, java.math.RoundingMode.HALF_UP).toPlainString();
    }

    static java.math.BigDecimal decimal(Object value) {
        return new java.math.BigDecimal(String.valueOf(value));
    }

    /**
     * Why the orders that did not come out right are wrong: for each (at most {@code limit}) what the verifier found, the
     * order's history as published, and what DealBridge said about it on {@code sync-outcomes}.
     */
    String explain(Verdict verdict, Map<Long, List<OrderChanged>> history, int limit) {
        java.util.Set<Long> shown = verdict.wrongOrders().stream().limit(limit).collect(java.util.stream.Collectors.toSet());
        Map<Long, List<String>> outcomes = new HashMap<>();
        readAll(topics.syncOutcomes().name(), topics.syncOutcomes().valueSerde().deserializer()).stream()
                .filter(o -> shown.contains(o.getOrderId()))
                .forEach(o -> outcomes.computeIfAbsent(o.getOrderId(), id -> new ArrayList<>()).add(o.getOutcome() + " " + o.getReason()));
        StringBuilder out = new StringBuilder();
        for (long orderId : new java.util.TreeSet<>(shown)) {
            String found = verdict.missing().contains(orderId) ? "no deal"
                    : verdict.duplicated().containsKey(orderId) ? verdict.duplicated().get(orderId) + " deals" : "";
            out.append("  order ").append(orderId).append(": ").append(found).append(found.isEmpty() ? "" : " ")
                    .append(verdict.inconsistent().getOrDefault(orderId, "")).append('\n');
            for (OrderChanged change : history.getOrDefault(orderId, List.of())) {
                out.append("    published ").append(describe(change)).append('\n');
            }
            for (String outcome : outcomes.getOrDefault(orderId, List.of())) {
                out.append("    outcome ").append(outcome).append('\n');
            }
        }
        return out.toString();
    }

    /** Every dead letter on the topic now. */
    List<DeadLetter> deadLetters() {
        return readAll(topics.deadLetters().name(), topics.deadLetters().valueSerde().deserializer());
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
