package org.dealbridge.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.dealbridge.app.config.ConfigLoader;
import org.dealbridge.app.runtime.DealBridgeRuntime;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.emulator.NewOrder;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.schemas.DeadLetter;
import org.dealbridge.schemas.MappingProfile;
import org.dealbridge.schemas.OrderChanged;
import org.dealbridge.schemas.Topics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input of every kind reaches a running DealBridge (in this JVM, on a real broker, with both emulators): each gets a
 * clear error naming what was wrong - a dead letter or a 4xx answer - and the order sent right after it is still synced,
 * so no partition stalls. One partition per topic, so "the next order" really is behind the bad record.
 */
class BadInputTest {
    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    static Path dir;

    static BitrixEmulator emulator;
    static DealBridgeRuntime runtime;
    static SyncScenario scenario;
    static String storeToken = "storetoken" + UUID.randomUUID().toString().replace("-", "");
    static long nextOrderId = 50_000;
    static final Map<String, String> env = new HashMap<>();

    private static void subscribeStoreHook() {
        emulator.subscribeStore("http://127.0.0.1:" + runtime.httpPort() + "/hooks/store", storeToken, "ONSALEORDERSAVED");
    }

    @BeforeAll
    static void start() {
        emulator = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled());
        SyncScenario.seedCrm(emulator);
        emulator.store().addStatus("N", "Accepted");
        emulator.store().addPaySystem(1, "Cash", true);
        emulator.store().addSection(10, null, "Catalog");
        emulator.store().addSection(OrderStream.ELECTRONICS, 10L, "Electronics");
        emulator.store().addProduct(1201, "Phone", OrderStream.ELECTRONICS, new BigDecimal("500.00"));
        env.putAll(SyncScenario.runtimeEnv(dir.resolve("data"), KAFKA.bootstrapServers(), emulator));
        env.put("DEALBRIDGE_KAFKA_TOPIC_PARTITIONS", "1");
        env.put("DEALBRIDGE_STORE_APPLICATION_TOKEN", storeToken);
        env.put("DEALBRIDGE_STORE_POLL_INTERVAL", "PT2S");
        runtime = DealBridgeRuntime.start(ConfigLoader.load(null, env));
        subscribeStoreHook();
        scenario = new SyncScenario(KAFKA.bootstrapServers(), emulator);
        scenario.publishMapping();
    }

    @AfterAll
    static void stop() {
        if (scenario != null) {
            scenario.close();
        }
        if (runtime != null) {
            runtime.close();
        }
        if (emulator != null) {
            emulator.close();
        }
    }

    @Test
    void aRecordThatIsNotAvroIsDeadLetteredNamingTheTopicAndTheNextOrderGetsItsDeal() throws Exception {
        sendRaw(Topics.ORDER_CHANGES, "s1:1", "{\"orderId\": 1}".getBytes(StandardCharsets.UTF_8));
        long next = publishGoodOrder();

        DeadLetter letter = awaitDeadLetter(l -> l.getValue() != null
                && new String(l.getValue().array(), StandardCharsets.UTF_8).equals("{\"orderId\": 1}"));
        assertThat(letter.getSourceTopic()).isEqualTo(Topics.ORDER_CHANGES);
        assertThat(letter.getReason()).contains(Topics.ORDER_CHANGES).contains("magic byte");
        awaitDeal(next);
    }

    @Test
    void anOrderWithANegativeIdIsDeadLetteredNamingTheFieldAndValue() throws Exception {
        // our own producers cannot even build the key of such an order (Keys refuses it); a foreign producer can
        OrderChanged impossible = OrderStream.order(-7, "N", 11, 100, Instant.now());
        sendRaw(Topics.ORDER_CHANGES, "s1:-7", scenario.topics().orderChanges().valueSerde().serializer()
                .serialize(Topics.ORDER_CHANGES, impossible));
        long next = publishGoodOrder();

        DeadLetter letter = awaitDeadLetter(l -> l.getKey() != null
                && new String(l.getKey().array(), StandardCharsets.UTF_8).equals("s1:-7"));
        assertThat(letter.getReason()).contains("orderId").contains("-7");
        awaitDeal(next);
        assertThat(emulator.crm().dealsByOrigin(SyncScenario.ORIGINATOR, "-7")).as("no deal for an impossible order").isEmpty();
    }

    @Test
    void anOrderOfAnUnknownSiteIsSkippedWithAnOutcomeNamingTheSiteAndGetsNoDeal() throws Exception {
        OrderChanged unknown = OrderChanged.newBuilder(OrderStream.order(77, "N", 11, 100, Instant.now())).setSiteId("zz").build();
        try (KafkaProducer<String, byte[]> producer = scenario.producer()) {
            producer.send(scenario.record(unknown)).get();
        }
        long next = publishGoodOrder();

        awaitDeal(next);
        await("an outcome for zz:77 names the site", () -> outcomes().stream()
                .anyMatch(o -> o.getSiteId().toString().equals("zz") && o.getOrderId() == 77
                        && o.getReason().toString().contains("site zz")));
        assertThat(emulator.crm().dealsByOrigin("dealbridge:zz", "77")).isEmpty();
    }

    @Test
    void anOrderWhoseProductIsMissingFromTheCatalogStillGetsOneDealInTheDefaultPipeline() throws Exception {
        long orderId = emulator.store().addOrder(NewOrder.create().status("N")
                .item(999_999, "Deleted product", new BigDecimal("250.00"), 1)
                .payment(1, new BigDecimal("250.00"), false));
        awaitDeal(orderId);
        Map<String, Object> deal = emulator.crm().dealsByOrigin(SyncScenario.ORIGINATOR, Long.toString(orderId)).get(0);
        assertThat(deal).containsEntry("CATEGORY_ID", "0").containsEntry("STAGE_ID", "NEW");

        long phoneOrder = emulator.store().addOrder(NewOrder.create().status("N").item(1201, "Phone", new BigDecimal("500.00"), 1)
                .payment(1, new BigDecimal("500.00"), false));
        awaitDeal(phoneOrder);
        assertThat(emulator.crm().dealsByOrigin(SyncScenario.ORIGINATOR, Long.toString(phoneOrder)).get(0))
                .as("a known product still decides the pipeline").containsEntry("CATEGORY_ID", "2");
    }

    @Test
    void hookRequestsWithAWrongTokenOrAnOversizedOrMalformedBodyGet4xxNamingTheProblemAndNeverTheToken() throws Exception {
        HttpResponse<String> wrong = post("event=ONSALEORDERSAVED&data%5BFIELDS%5D%5BID%5D=1&auth%5Bapplication_token%5D=guess");
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(wrong.body()).contains("application_token");

        HttpResponse<String> missing = post("event=ONSALEORDERSAVED&data%5BFIELDS%5D%5BID%5D=1");
        assertThat(missing.statusCode()).isEqualTo(401);

        // the handler drains the rest of an oversized body and closes the connection, so the client gets the 413 itself
        // and its next request is not sent on a connection the server already hung up
        HttpResponse<String> oversized = post("event=ONSALEORDERSAVED&padding=" + "x".repeat(64 * 1024));
        assertThat(oversized.statusCode()).isEqualTo(413);
        assertThat(oversized.body()).contains("larger than");

        HttpResponse<String> malformed = post("event=ONSALEORDERSAVED&data%5BFIELDS%5D%5BID%5D=%ZZ&auth%5Bapplication_token%5D=" + storeToken);
        assertThat(malformed.statusCode()).isEqualTo(400);
        assertThat(malformed.body()).contains("malformed");

        HttpResponse<String> notAnId = post("event=ONSALEORDERSAVED&data%5BFIELDS%5D%5BID%5D=-3&auth%5Bapplication_token%5D=" + storeToken);
        assertThat(notAnId.statusCode()).isEqualTo(400);
        assertThat(notAnId.body()).contains("data[FIELDS][ID]").contains("-3");

        for (HttpResponse<String> r : List.of(wrong, missing, oversized, malformed, notAnId)) {
            assertThat(r.body()).doesNotContain(storeToken);
        }
        long next = publishGoodOrder();
        awaitDeal(next);
    }

    @Test
    void aMappingRecordPublishedAroundTheCliIsRejectedWithAnErrorNamingWhatIsWrongAndTheMappingInForceStays() throws Exception {
        try (CapturedLog log = CapturedLog.attach()) {
            sendRaw(Topics.MAPPING_CONFIG, "s1", "site: s1\npipelines: {default: 2}".getBytes(StandardCharsets.UTF_8));
            // valid Avro, but the document was edited after hashing and routes everything to pipeline 2 at a stage nobody has
            MappingProfile tampered = MappingProfile.newBuilder(
                            org.dealbridge.mapping.MappingProfiles.build("s1", SyncScenario.MAPPING, 99, "around-the-cli", Instant.now()))
                    .setDocument(SyncScenario.MAPPING.replace("default: 0", "default: nowhere")).build();
            try (KafkaProducer<String, byte[]> producer = scenario.producer()) {
                producer.send(new ProducerRecord<>(Topics.MAPPING_CONFIG, "s1",
                        org.dealbridge.mapping.MappingTopics.of(scenario.registry()).valueSerde().serializer()
                                .serialize(Topics.MAPPING_CONFIG, tampered))).get();
            }
            await("both mapping records are rejected in the log", () -> log.messages().stream()
                    .anyMatch(m -> m.contains("mapping-config") && m.contains("magic byte"))
                    && log.messages().stream().anyMatch(m -> m.contains("version 99") && m.contains("contentHash")
                    && m.contains("pipelines.default = \"nowhere\"")));
            long next = publishGoodOrder();
            awaitDeal(next);
            assertThat(emulator.crm().dealsByOrigin(SyncScenario.ORIGINATOR, Long.toString(next)).get(0))
                    .as("the valid mapping version 1 is still in force").containsEntry("CATEGORY_ID", "0").containsEntry("STAGE_ID", "NEW");
        }
    }

    /**
     * What a record DealBridge cannot read must do on each of its topics. The test below goes through {@link Topics#DEFINITIONS}
     * and fails for a topic without a rule here, so a topic added later is covered as soon as someone says what a bad
     * record on it must do.
     */
    private enum PillRule {
        /** Consumed by a Streams app or a connector: a dead letter naming the topic and offset, and the partition goes on. */
        DEAD_LETTER,
        /** The mapping: a bad record is refused in the log and the last good version stays in force. */
        MAPPING_REFUSED,
        /**
         * Read when an instance starts (the pollers' cursors, the embedded registry's schemas) or never read for its records
         * (the pollers' leadership group): a bad record there is skipped and the instance restarted on it still syncs.
         */
        SKIPPED_AT_START,
        /**
         * Written by the sync and read only by the console and the admin commands (dlq, trace, mapping history); an
         * unreadable dead letter is passed over by {@code dlq list} and {@code trace} (DeadLetterCommandTest).
         */
        NOT_CONSUMED_BY_THE_SYNC
    }

    private static final Map<String, PillRule> PILL_RULES = Map.ofEntries(
            Map.entry(Topics.ORDER_CHANGES, PillRule.DEAD_LETTER),
            Map.entry(Topics.DEAL_CHANGES, PillRule.DEAD_LETTER),
            Map.entry(Topics.DEAL_COMMANDS, PillRule.DEAD_LETTER),
            Map.entry(Topics.ORDER_COMMANDS, PillRule.DEAD_LETTER),
            Map.entry(Topics.DEAL_LINKS, PillRule.DEAD_LETTER),
            Map.entry(Topics.MAPPING_CONFIG, PillRule.MAPPING_REFUSED),
            Map.entry(Topics.INGEST_CURSORS, PillRule.SKIPPED_AT_START),
            Map.entry(Topics.BUYER_CONTACTS, PillRule.SKIPPED_AT_START),
            Map.entry(Topics.POLLER_LEADERSHIP, PillRule.SKIPPED_AT_START),
            Map.entry(Topics.SCHEMAS, PillRule.SKIPPED_AT_START),
            Map.entry(Topics.SYNC_OUTCOMES, PillRule.NOT_CONSUMED_BY_THE_SYNC),
            Map.entry(Topics.DEAD_LETTERS, PillRule.NOT_CONSUMED_BY_THE_SYNC),
            Map.entry(Topics.MAPPING_HISTORY, PillRule.NOT_CONSUMED_BY_THE_SYNC));

    @Test
    void aPoisonPillOnEveryTopicDealBridgeConsumesLeavesADeadLetterOrARefusalAndTheSyncGoesOn() throws Exception {
        byte[] notAvro = "{\"poison\": true}".getBytes(StandardCharsets.UTF_8);
        org.dealbridge.schemas.MappingProfile profile = org.dealbridge.mapping.MappingProfiles.build("s1", SyncScenario.MAPPING, 1,
                "poison", Instant.now());
        Map<String, PillRule> rules = new java.util.TreeMap<>();
        for (Topics.Definition topic : Topics.DEFINITIONS) {
            PillRule rule = PILL_RULES.get(topic.name());
            assertThat(rule).as("what a record DealBridge cannot read on %s must do (add it to PILL_RULES)", topic.name()).isNotNull();
            rules.put(topic.name(), rule);
        }
        try (CapturedLog log = CapturedLog.attach()) {
            for (Map.Entry<String, PillRule> e : rules.entrySet()) {
                String topic = e.getKey();
                if (e.getValue() == PillRule.DEAD_LETTER) {
                    // Avro of another schema: a mapping profile, registered under mapping-config's subject
                    byte[] otherSchema = scenario.mappingTopics().valueSerde().serializer().serialize(Topics.MAPPING_CONFIG, profile);
                    for (byte[] pill : List.of(notAvro, otherSchema)) {
                        long offset = sendRaw(topic, topic.equals(Topics.ORDER_COMMANDS) ? "777" : "s1:777", pill);
                        DeadLetter letter = awaitDeadLetter(l -> l.getSourceTopic().toString().equals(topic) && l.getSourceOffset() == offset);
                        assertThat(letter.getReason()).as("dead letter of the pill at %s offset %d", topic, offset).contains(topic);
                        assertThat(letter.getValue().array()).isEqualTo(pill);
                    }
                } else if (e.getValue() == PillRule.MAPPING_REFUSED) {
                    byte[] otherSchema = scenario.topics().orderChanges().valueSerde().serializer()
                            .serialize(Topics.ORDER_CHANGES, OrderStream.order(778, "N", 11, 100, Instant.now()));
                    sendRaw(topic, "s1", notAvro);
                    sendRaw(topic, "s1", otherSchema);
                    await("both mapping pills are refused in the log", () -> log.messages().stream()
                            .filter(m -> m.contains("Rejected mapping record of site s1") && m.contains("on " + topic)).count() >= 2);
                }
            }
            long afterPills = publishGoodOrder();
            awaitDeal(afterPills);
            assertThat(emulator.crm().dealsByOrigin(SyncScenario.ORIGINATOR, Long.toString(afterPills)).get(0))
                    .as("the mapping in force before the pills (version 1) still decides").containsEntry("CATEGORY_ID", "0");
            // the deal → order direction has no order to show it here: every projector and connector must still run
            assertEveryRoleRuns();

            // the topics read at start: pills written while the instance is down, then it starts on them
            runtime.close();
            emulator.events().unsubscribeAll();
            long cursorPill = sendRaw(Topics.INGEST_CURSORS, "store-poll:s1", "not a cursor".getBytes(StandardCharsets.UTF_8));
            sendRaw(Topics.POLLER_LEADERSHIP, "s1", notAvro);
            sendRaw(Topics.BUYER_CONTACTS, "email:buyer@example.com", notAvro);
            long schemaPill = sendRaw(Topics.SCHEMAS, "order-changes-value:1", notAvro);
            long schemaOfAnotherId = sendRaw(Topics.SCHEMAS, "order-changes-value:1",
                    "{\"subject\": \"order-changes-value\", \"id\": 1, \"schema\": \"\\\"string\\\"\"}".getBytes(StandardCharsets.UTF_8));
            runtime = DealBridgeRuntime.start(ConfigLoader.load(null, env));
            assertThat(((org.dealbridge.schemas.registry.EmbeddedSchemaRegistry) runtime.schemaRegistry()).skippedRecords())
                    .as("the registry skipped both pills on its topic")
                    .anyMatch(r -> r.startsWith("offset " + schemaPill + " ")).anyMatch(r -> r.startsWith("offset " + schemaOfAnotherId + " "));
            // the hook is not subscribed again yet: this order reaches DealBridge only through the store poller
            long polled = emulator.store().addOrder(NewOrder.create().status("N").item(1201, "Phone", new BigDecimal("500.00"), 1)
                    .payment(1, new BigDecimal("500.00"), false));
            awaitDeal(polled);
            assertThat(log.messages()).as("the unreadable cursor at offset %d is named", cursorPill)
                    .anyMatch(m -> m.contains("store-poll:s1") && m.contains("not a cursor"));
            assertThat(log.messages()).as("the unreadable buyer contact is named")
                    .anyMatch(m -> m.contains("buyer-contacts") && m.contains("email:buyer@example.com"));
        } finally {
            subscribeStoreHook();
        }
        long last = publishGoodOrder();
        awaitDeal(last);
        assertEveryRoleRuns();
    }

    private static void assertEveryRoleRuns() {
        // a Streams client that stopped on a pill is DOWN (its state ERROR or NOT_RUNNING); give a late one a moment to show
        long until = System.nanoTime() + Duration.ofSeconds(3).toNanos();
        while (System.nanoTime() < until) {
            assertThat(runtime.health().components()).as("roles of the running instance")
                    .allSatisfy((role, health) -> assertThat(health.status()).as(role + ": " + health.detail())
                            .isNotEqualTo(org.dealbridge.app.runtime.Health.Status.DOWN));
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    // --- helpers

    private static long publishGoodOrder() throws Exception {
        long id = nextOrderId++;
        try (KafkaProducer<String, byte[]> producer = scenario.producer()) {
            producer.send(scenario.record(OrderStream.order(id, "N", OrderStream.BOOKS, 300, Instant.now()))).get();
        }
        return id;
    }

    /** @return the record's offset */
    private static long sendRaw(String topic, String key, byte[] value) throws Exception {
        try (KafkaProducer<String, byte[]> producer = scenario.producer()) {
            return producer.send(new ProducerRecord<>(topic, key, value)).get().offset();
        }
    }

    private static HttpResponse<String> post(String form) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + runtime.httpPort() + "/hooks/store"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void awaitDeal(long orderId) {
        await("order " + orderId + " has a deal", () -> !emulator.crm().dealsByOrigin(SyncScenario.ORIGINATOR, Long.toString(orderId)).isEmpty());
        assertThat(emulator.crm().dealsByOrigin(SyncScenario.ORIGINATOR, Long.toString(orderId))).hasSize(1);
    }

    private static DeadLetter awaitDeadLetter(java.util.function.Predicate<DeadLetter> which) {
        DeadLetter[] found = new DeadLetter[1];
        await("the dead letter", () -> {
            found[0] = scenario.deadLetters().stream().filter(which).findFirst().orElse(null);
            return found[0] != null;
        });
        return found[0];
    }

    private static List<org.dealbridge.schemas.SyncOutcome> outcomes() {
        return scenario.readAll(Topics.SYNC_OUTCOMES, scenario.topics().syncOutcomes().valueSerde().deserializer());
    }

    static void await(String what, BooleanSupplier condition) {
        await(() -> what, condition, scenario);
    }

    static void await(java.util.function.Supplier<String> what, BooleanSupplier condition, SyncScenario scenario) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 60 s: " + what.get() + "; dead letters: " + scenario.deadLetters());
            }
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
