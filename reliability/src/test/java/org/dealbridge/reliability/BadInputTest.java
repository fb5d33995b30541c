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

    @BeforeAll
    static void start() {
        emulator = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled());
        SyncScenario.seedCrm(emulator);
        emulator.store().addStatus("N", "Accepted");
        emulator.store().addPaySystem(1, "Cash", true);
        emulator.store().addSection(10, null, "Catalog");
        emulator.store().addSection(OrderStream.ELECTRONICS, 10L, "Electronics");
        emulator.store().addProduct(1201, "Phone", OrderStream.ELECTRONICS, new BigDecimal("500.00"));
        Map<String, String> env = new HashMap<>();
        env.put("DEALBRIDGE_DATA_DIR", dir.resolve("data").toString());
        env.put("DEALBRIDGE_HTTP_PORT", "0");
        env.put("DEALBRIDGE_KAFKA_BOOTSTRAP_SERVERS", KAFKA.bootstrapServers());
        env.put("DEALBRIDGE_KAFKA_TOPIC_PARTITIONS", "1");
        env.put("DEALBRIDGE_CRM_WEBHOOK_URL", emulator.crmWebhookUrl());
        env.put("DEALBRIDGE_STORE_WEBHOOK_URL", emulator.storeWebhookUrl());
        env.put("DEALBRIDGE_STORE_APPLICATION_TOKEN", storeToken);
        env.put("DEALBRIDGE_STORE_POLL_INTERVAL", "PT2S");
        env.put("DEALBRIDGE_REST_ALLOW_INSECURE_HTTP", "true");
        runtime = DealBridgeRuntime.start(ConfigLoader.load(null, env));
        emulator.subscribeStore("http://127.0.0.1:" + runtime.httpPort() + "/hooks/store", storeToken, "ONSALEORDERSAVED");
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

    // --- helpers

    private static long publishGoodOrder() throws Exception {
        long id = nextOrderId++;
        try (KafkaProducer<String, byte[]> producer = scenario.producer()) {
            producer.send(scenario.record(OrderStream.order(id, "N", OrderStream.BOOKS, 300, Instant.now()))).get();
        }
        return id;
    }

    private static void sendRaw(String topic, String key, byte[] value) throws Exception {
        try (KafkaProducer<String, byte[]> producer = scenario.producer()) {
            producer.send(new ProducerRecord<>(topic, key, value)).get();
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
