package org.dealbridge.reliability;

import java.util.Optional;
import java.util.Properties;
import org.dealbridge.app.runtime.PortalRereads;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.bitrix.store.StoreApi;
import org.dealbridge.operations.PortalReread;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.dealbridge.app.config.ConfigLoader;
import org.dealbridge.app.runtime.DealBridgeRuntime;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.emulator.NewOrder;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.mapping.DocumentCheck;
import org.dealbridge.mapping.MappingPublisher;
import org.dealbridge.mapping.MappingTopics;
import org.dealbridge.operations.DeadLetterCommand;
import org.dealbridge.operations.DeadLetterQueue;
import org.dealbridge.operations.OperationsContext;
import org.dealbridge.schemas.DeadLetter;
import org.dealbridge.schemas.OrderChanged;
import org.dealbridge.schemas.SyncOutcome;
import org.dealbridge.schemas.Topics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Dead letters made by a running DealBridge (in this JVM, on a real broker, with both emulators) from permanent errors
 * in both directions, then the cause is fixed and {@code dlq replay --all} ends with every deal and order right:
 * <ul>
 *   <li>order → deal: orders move to a pipeline the CRM does not have ({@code crm.item.update}: "Pipeline 4 not
 *       found"); one order is paid while the pipeline is missing (two letters), one is paid after the fix, so
 *       re-sending its refused command would move its deal back to the stage of the unpaid status;</li>
 *   <li>deal → order: managers move deals to a stage mapped to a status the store does not have ("status X not
 *       found"); one deal moves on after the fix, so re-sending its refused command would set an old status.</li>
 * </ul>
 * Retiring a real dead letter with a note takes it off the list and writes nothing.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DeadLetterReplayTest {
    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();

    /** {@link SyncScenario#MAPPING}, with pipeline 0's stages PREPARATION and PREPAYMENT_INVOICE mapped to statuses X and Y. */
    static final String MAPPING = SyncScenario.MAPPING.replace("""
                - { stage: EXECUTING, status: P }
            """, """
                - { stage: PREPARATION, status: X }
                - { stage: PREPAYMENT_INVOICE, status: Y }
                - { stage: EXECUTING, status: P }
            """);

    @TempDir
    static Path dir;

    static BitrixEmulator emulator;
    static DealBridgeRuntime runtime;
    static SyncScenario scenario;

    @BeforeAll
    static void start() {
        assertThat(MAPPING).contains("status: X");
        emulator = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled());
        // the CRM has no pipeline 4 yet, and the store knows neither status X nor Y: the causes of the dead letters
        emulator.crm().addUser(1, "Anna", "Admin", "anna@example.com", true);
        emulator.crm().addUser(9, "Egor", "Electronics", "egor@example.com", true);
        emulator.crm().addPipeline(2, "Electronics", true);
        emulator.store().addStatus("N", "Accepted");
        emulator.store().addStatus("P", "Paid");
        emulator.store().addPaySystem(1, "Cash", true);
        emulator.store().addSection(10, null, "Catalog");
        emulator.store().addSection(OrderStream.BOOKS, 10L, "Books");
        emulator.store().addProduct(1101, "Novel", OrderStream.BOOKS, new BigDecimal("300.00"));
        String storeToken = "storetoken" + UUID.randomUUID().toString().replace("-", "");
        String crmToken = "crmtoken" + UUID.randomUUID().toString().replace("-", "");
        Map<String, String> env = SyncScenario.runtimeEnv(dir.resolve("data"), KAFKA.bootstrapServers(), emulator);
        env.put("DEALBRIDGE_KAFKA_TOPIC_PARTITIONS", "2");
        env.put("DEALBRIDGE_CRM_APPLICATION_TOKEN", crmToken);
        env.put("DEALBRIDGE_CRM_POLL_INTERVAL", "2000");
        env.put("DEALBRIDGE_STORE_APPLICATION_TOKEN", storeToken);
        env.put("DEALBRIDGE_STORE_POLL_INTERVAL", "PT2S");
        env.put("DEALBRIDGE_CRM_RATE_REQUESTS_PER_SECOND", "50");
        env.put("DEALBRIDGE_CRM_INITIAL_BACKOFF", "100");
        env.put("DEALBRIDGE_STORE_INITIAL_BACKOFF", "100");
        runtime = DealBridgeRuntime.start(ConfigLoader.load(null, env));
        String base = "http://127.0.0.1:" + runtime.httpPort();
        emulator.subscribeStore(base + "/hooks/store", storeToken, "ONSALEORDERSAVED");
        emulator.subscribeCrm(base + "/hooks/bitrix24", crmToken, "ONCRMDEALADD", "ONCRMDEALUPDATE");
        scenario = new SyncScenario(KAFKA.bootstrapServers(), emulator);
        new MappingPublisher(scenario.clientProperties(), MappingTopics.of(scenario.registry()), java.time.Clock.systemUTC())
                .publish(MAPPING, "reliability", false, DocumentCheck.NONE);
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
    @Order(1)
    void refusedCommandsOfBothDirectionsAreDecidedAgainAfterTheFixAndNoStaleOneWrites() throws Exception {
        // order → deal: three orders of books get their deals in pipeline 0
        long o1 = 5001;
        long o2 = 5002;
        long o3 = 5003;
        Map<Long, OrderChanged> expected = new HashMap<>();
        for (long id : List.of(o1, o2, o3)) {
            publish(expected, OrderStream.order(id, "N", OrderStream.BOOKS, 300, Instant.now()));
        }
        awaitSynced(expected, "deals before the baskets change");
        // deal → order: two orders placed in the store get their deals
        long s1 = placeStoreOrder();
        long s2 = placeStoreOrder();
        long d1 = awaitLinkedDeal(s1);
        long d2 = awaitLinkedDeal(s2);

        // their baskets move to the garden, pipeline 4, which the CRM lacks; managers move deals to stage PREPARATION,
        // whose status X the store lacks: each command is refused for good and dead-lettered
        for (long id : List.of(o1, o2, o3)) {
            publish(expected, OrderStream.order(id, "N", OrderStream.GARDEN, 700, Instant.now()));
        }
        emulator.crm().updateDealAsHuman(d1, Map.of("STAGE_ID", "PREPARATION"));
        emulator.crm().updateDealAsHuman(d2, Map.of("STAGE_ID", "PREPARATION"));
        awaitLetters(Map.of(key(o1), 1, key(o2), 1, key(o3), 1, Long.toString(d1), 1, Long.toString(d2), 1));
        // o2 is paid meanwhile: a second letter. (Its amount stays: a refused move's batch still writes the amount and the
        // rows, and no link records that DealBridge wrote them, so a later amount would be kept as a person's - a
        // connector matter of its own, not the replay's.)
        publish(expected, OrderStream.order(o2, "P", OrderStream.GARDEN, 700, Instant.now()));
        awaitLetters(Map.of(key(o2), 2));
        assertThat(scenario.deadLetters()).allSatisfy(l -> assertThat(l.getReason().toString()).containsAnyOf(
                "Pipeline 4 not found", "status X not found"));

        // the cause is fixed; then o3 and deal 2 change once more, so their refused commands are stale
        emulator.crm().addPipeline(4, "Garden", true);
        emulator.store().addStatus("X", "Packing");
        publish(expected, OrderStream.order(o3, "P", OrderStream.GARDEN, 700, Instant.now()));  // paid
        emulator.crm().updateDealAsHuman(d2, Map.of("STAGE_ID", "EXECUTING"));
        BadInputTest.await(() -> "order " + o3 + " moved to pipeline 4 at the paid stage, store order " + s2 + " paid: "
                        + scenario.verify(Map.of(o3, expected.get(o3))) + ", store order " + emulator.store().order(s2).get("statusId")
                        + "; outcomes " + story(key(o3), key(s2)),
                () -> synced(scenario.verify(Map.of(o3, expected.get(o3)))) && "P".equals(emulator.store().order(s2).get("statusId")), scenario);

        Instant replayAt = Instant.now();
        Run replay = dlq("replay", "--all");
        assertThat(replay.exitCode()).as(replay.toString()).isZero();
        assertThat(replay.out()).contains(" replayed, 0 not replayed")
                .contains("to order-changes (the latest event of " + key(o3) + ", decided again)")
                .contains("to deal-changes (the latest event of " + d1 + ", decided again)");

        // every pair the replay touched has been decided since (a stale command, if one were sent, would have run by now)
        for (String pair : List.of(key(o1), key(o2), key(o3), key(s1), key(s2))) {
            BadInputTest.await(() -> pair + " decided again after the replay", () -> outcomes().stream()
                    .anyMatch(o -> key(o.getOrderId()).equals(pair) && o.getAt().isAfter(replayAt)), scenario);
        }
        SyncScenario.Verdict verdict = awaitSynced(expected, "every order's deal right after the replay");
        assertThat(verdict.missing()).as(verdict.toString()).isEmpty();
        assertThat(verdict.duplicated()).as(verdict.toString()).isEmpty();
        assertThat(verdict.inconsistent()).as("no stale amount came back: " + verdict).isEmpty();
        BadInputTest.await(() -> "store order " + s1 + " in status X", () -> "X".equals(emulator.store().order(s1).get("statusId")), scenario);
        assertThat(emulator.store().order(s2)).as("the manager's later stage stands").containsEntry("statusId", "P");
        for (long storeOrder : List.of(s1, s2)) {
            assertThat(emulator.crm().dealsByOrigin(SyncScenario.ORIGINATOR, Long.toString(storeOrder))).hasSize(1);
        }
        assertThat(emulator.crm().deal(d1)).containsEntry("STAGE_ID", "PREPARATION");
        assertThat(emulator.crm().deal(d2)).containsEntry("STAGE_ID", "EXECUTING");
        assertThat(queue().current(null)).as("every dead letter replayed").isEmpty();
    }

    @Test
    @Order(2)
    void anOrderTheStoreIngestionCouldNotReadIsReadAgainFromTheStoreByTheReplay() throws Exception {
        // the shop's order has no currency: the store ingestion cannot read it, and no record of it is ever made
        long broken = emulator.store().addOrder(Map.of("statusId", "N", "currency", "", "basketItems",
                List.of(Map.of("productId", 1101, "price", "300.00", "quantity", 1))));
        java.util.function.Predicate<DeadLetter> namesIt = l -> keyOf(l).equals(Long.toString(broken)) || keyOf(l).equals(key(broken));
        BadInputTest.await(() -> "a dead letter of store order " + broken, () -> queue().current(null).stream().anyMatch(namesIt), scenario);
        Run early = dlq("replay", "--all");
        assertThat(early.exitCode()).as("still unreadable: refused, kept").isEqualTo(1);
        assertThat(early.err()).contains("still cannot be read").contains("currency");
        assertThat(queue().current(null)).anyMatch(namesIt);

        // the shop repairs it in its database: no event, no new dateUpdate, so only the replay can read it again
        emulator.store().repairOrderBehindTheApi(broken, Map.of("currency", "RUB"));
        Run replay = dlq("replay", "--all");
        assertThat(replay.exitCode()).as(replay.toString()).isZero();
        assertThat(replay.out()).contains(key(broken) + " read again from its portal");
        assertThat(queue().current(null)).noneMatch(namesIt);
        BadInputTest.await(() -> "a deal for store order " + broken,
                () -> emulator.crm().dealsByOrigin(SyncScenario.ORIGINATOR, Long.toString(broken)).size() == 1, scenario);
        assertThat(emulator.crm().dealsByOrigin(SyncScenario.ORIGINATOR, Long.toString(broken))).singleElement()
                .satisfies(deal -> assertThat(deal).containsEntry("CURRENCY_ID", "RUB"));
    }

    @Test
    @Order(3)  // last: it leaves the deal's other dead letters (one per event of the move) where they are
    void aRealDeadLetterRetiredWithANoteLeavesTheListAndWritesNothing() throws Exception {
        long s3 = placeStoreOrder();
        long d3 = awaitLinkedDeal(s3);
        emulator.crm().updateDealAsHuman(d3, Map.of("STAGE_ID", "PREPAYMENT_INVOICE"));  // status Y: the store has none
        awaitLetters(Map.of(Long.toString(d3), 1));
        DeadLetter letter = queue().current(null).stream().filter(l -> keyOf(l).equals(Long.toString(d3))).findFirst().orElseThrow();

        assertThat(dlq("retire", letter.getId()).exitCode()).as("--note is required").isEqualTo(2);
        Run unknown = dlq("retire", "no-such-letter", "--note", "why");
        assertThat(unknown.exitCode()).isEqualTo(1);
        assertThat(unknown.err()).contains("no current dead letter has id 'no-such-letter'");
        Run retired = dlq("retire", letter.getId(), "--note", "the shop has no prepayment status; the deal was moved by mistake");
        assertThat(retired.exitCode()).as(retired.toString()).isZero();
        assertThat(retired.out()).contains("retired " + letter.getId() + " without replay").contains("status Y not found");

        assertThat(queue().current(null)).extracting(DeadLetter::getId).doesNotContain(letter.getId());
        assertThat(emulator.store().order(s3)).as("nothing was written").containsEntry("statusId", "N");
    }

    // --- helpers

    /** Every order of {@code expected} has one deal, and it is right (the store orders' deals are not in it). */
    private static boolean synced(SyncScenario.Verdict v) {
        return v.missing().isEmpty() && v.duplicated().isEmpty() && v.inconsistent().isEmpty();
    }

    private static SyncScenario.Verdict awaitSynced(Map<Long, OrderChanged> expected, String what) {
        BadInputTest.await(() -> what + ": " + scenario.verify(expected), () -> synced(scenario.verify(expected)), scenario);
        return scenario.verify(expected);
    }

    private static void publish(Map<Long, OrderChanged> expected, OrderChanged change) throws Exception {
        try (KafkaProducer<String, byte[]> producer = scenario.producer()) {
            producer.send(scenario.record(change)).get();
        }
        expected.put(change.getOrderId(), change);
    }

    private static long placeStoreOrder() {
        return emulator.store().addOrder(NewOrder.create().status("N").item(1101, "Novel", new BigDecimal("300.00"), 1)
                .payment(1, new BigDecimal("300.00"), false));
    }

    /** The deal of a store order, once its link is on deal-links (so a manager's move is judged against it). */
    private static long awaitLinkedDeal(long storeOrder) {
        BadInputTest.await(() -> "a linked deal for store order " + storeOrder, () -> scenario.readAll(Topics.DEAL_LINKS,
                scenario.topics().dealLinks().valueSerde().deserializer()).stream().anyMatch(l -> l.getOrderId() == storeOrder), scenario);
        List<Map<String, Object>> deals = emulator.crm().dealsByOrigin(SyncScenario.ORIGINATOR, Long.toString(storeOrder));
        assertThat(deals).hasSize(1);
        return Long.parseLong(deals.get(0).get("ID").toString());
    }

    /** Waits until at least this many current dead letters have each key. */
    private static void awaitLetters(Map<String, Integer> perKey) {
        BadInputTest.await(() -> "dead letters " + perKey, () -> {
            List<DeadLetter> current = queue().current(null);
            return perKey.entrySet().stream().allMatch(e -> current.stream().filter(l -> keyOf(l).equals(e.getKey())).count() >= e.getValue());
        }, scenario);
    }

    private static String key(long orderId) {
        return OrderStream.SITE + ":" + orderId;
    }

    private static String key(Long orderId) {
        return orderId == null ? "" : key(orderId.longValue());
    }

    private static String keyOf(DeadLetter l) {
        return l.getKey() == null ? "" : StandardCharsets.UTF_8.decode(l.getKey().duplicate()).toString();
    }

    /** What DealBridge said about these pairs, for a failure's message. */
    private static String story(String... pairs) {
        List<String> of = List.of(pairs);
        return outcomes().stream().filter(o -> of.contains(key(o.getOrderId())))
                .map(o -> o.getAt() + " " + key(o.getOrderId()) + " " + o.getOutcome() + ": " + o.getReason()).toList().toString();
    }

    private static List<SyncOutcome> outcomes() {
        return scenario.readAll(Topics.SYNC_OUTCOMES, scenario.topics().syncOutcomes().valueSerde().deserializer());
    }

    private static DeadLetterQueue queue() {
        return new DeadLetterQueue(scenario.clientProperties(), scenario.topics());
    }

    record Run(int exitCode, String out, String err) {
    }

    /** {@code bin/dealbridge dlq …} as the launcher runs it, on this broker. */
    private static Run dlq(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
        OperationsContext plain = OperationsContext.of(scenario.clientProperties(), scenario.topics(), o, e);
        // as the launcher's context: with the store configured, a replay can read again what the ingestion could not
        Map<String, PortalReread> rereads = PortalRereads.of(Optional.of(new StoreApi(BitrixClient.builder(emulator.storeWebhookUrl())
                .portal("store").build())), scenario.topics(), java.time.Clock.systemUTC());
        OperationsContext ctx = new OperationsContext() {
            @Override
            public Properties kafkaClientProperties() {
                return plain.kafkaClientProperties();
            }

            @Override
            public Topics topics() {
                return plain.topics();
            }

            @Override
            public PrintStream out() {
                return o;
            }

            @Override
            public PrintStream err() {
                return e;
            }

            @Override
            public Map<String, PortalReread> portalRereads() {
                return rereads;
            }
        };
        int code = new CommandLine(new DeadLetterCommand(() -> ctx)).setErr(new java.io.PrintWriter(e, true)).execute(args);
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
