package org.dealbridge.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.Call;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.emulator.NewOrder;
import org.dealbridge.emulator.Portal;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two DealBridge processes of one installation (issue 15, item 4) against one broker and one emulated portal: 500
 * orders placed in the store, announced by the store's hook to both instances, and the instance running the pollers
 * killed with SIGKILL halfway. The survivor takes the pollers over and finishes the work: every order has exactly one
 * deal at the stage of its last status, and the portal never refused a request for its rate, from the start-up burst
 * on (each instance spends only its share of the budget).
 *
 * <p>The CRM keeps the emulator's default limit (burst 50, then 2 requests/s). The store's limit is raised to 20/s: each
 * order is read once per hook delivery and once by the poller, one {@code sale.order.get} each (no batch), which at
 * 2/s would take eight minutes; the share rule is the same for both portals and both are checked for 503s.
 */
class SeveralInstancesTest {
    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();

    private static final int ORDERS = Integer.getInteger("reliability.instances.orders", 500);
    private static final String STORE_POLLERS = "pollers of group dealbridge-store-pollers";

    @TempDir
    Path dir;

    @Test
    void twoInstancesSyncFiveHundredOrdersOnceEachAtThePortalsRateWhileThePollerLeaderIsKilled() throws Exception {
        String storeToken = "storetoken" + UUID.randomUUID().toString().replace("-", "");
        Random random = new Random(Long.getLong("reliability.seed", 15L));
        try (BitrixEmulator emulator = BitrixEmulator.start(EmulatorOptions.defaults().rateLimit(Portal.STORE, 20, 50));
             SyncScenario scenario = new SyncScenario(KAFKA.bootstrapServers(), emulator)) {
            SyncScenario.seedCrm(emulator);
            SyncScenario.seedStore(emulator);  // products 1101 (books) and 1201 (electronics) among them
            Map<String, String> settings = Map.of(
                    "kafka.bootstrap-servers", KAFKA.bootstrapServers(),
                    "kafka.topic.partitions", "3",
                    "crm.webhook-url", emulator.crmWebhookUrl(),
                    "crm.poll.interval", "5000",
                    "store.webhook-url", emulator.storeWebhookUrl(),
                    "store.application-token", storeToken,
                    "store.poll-interval", "PT3S",
                    "store.rate.requests-per-second", "20",
                    "rest.allow-insecure-http", "true");
            List<ChildDealBridge> instances = List.of(new ChildDealBridge(dir.resolve("a"), settings),
                    new ChildDealBridge(dir.resolve("b"), settings));
            try {
                long started = System.currentTimeMillis();
                for (ChildDealBridge instance : instances) {
                    instance.start();
                }
                for (ChildDealBridge instance : instances) {
                    instance.awaitHealthy(Duration.ofSeconds(180));
                    emulator.subscribeStore("http://127.0.0.1:" + instance.httpPort() + "/hooks/store", storeToken, "ONSALEORDERSAVED");
                }
                scenario.publishMapping();
                // the portal's burst (50 requests at once) is spent by then if the shares are wrong
                Instant burstOver = Instant.now().plusSeconds(30);

                Map<Long, String> statuses = new TreeMap<>();
                Map<Long, Long> pipelines = new HashMap<>();
                ChildDealBridge leader = null;
                long killedAt = 0;
                for (int i = 0; i < ORDERS; i++) {
                    if (i == ORDERS / 2) {
                        leader = awaitStorePollerLeader(instances);
                        leader.kill();
                        killedAt = System.currentTimeMillis();
                    }
                    boolean electronics = random.nextInt(3) == 0;
                    String status = List.of("N", "P", "F").get(random.nextInt(3));
                    long orderId = emulator.store().addOrder(electronics
                            ? NewOrder.create().status(status).item(1201, "Charger", new BigDecimal("990.00"), 1)
                                    .payment(1, new BigDecimal("990.00"), false)
                            : NewOrder.create().status(status).item(1101, "Novel", new BigDecimal("300.00"), 1 + random.nextInt(3))
                                    .payment(1, new BigDecimal("300.00"), false));
                    statuses.put(orderId, status);
                    pipelines.put(orderId, electronics ? 2L : 0L);
                    Thread.sleep(100);
                }
                // a manager of the shop finishes the first orders after the kill: the survivor carries their updates
                for (long orderId : statuses.keySet().stream().limit(50).toList()) {
                    emulator.store().updateOrderAsHuman(orderId, Map.of("statusId", "F"));
                    statuses.put(orderId, "F");
                }
                ChildDealBridge survivor = instances.get(0) == leader ? instances.get(1) : instances.get(0);

                long deadline = System.currentTimeMillis() + Duration.ofMinutes(4).toMillis();
                Map<String, List<Long>> wrong = check(emulator, statuses, pipelines);
                while (!wrong.values().stream().allMatch(List::isEmpty) && System.currentTimeMillis() < deadline) {
                    Thread.sleep(1_000);
                    wrong = check(emulator, statuses, pipelines);
                }
                long syncMillis = System.currentTimeMillis() - started;
                Thread.sleep(3_000);  // a late duplicate would show up now
                wrong = check(emulator, statuses, pipelines);

                List<Call> calls = emulator.calls().all();
                long refusedAfterBurst = calls.stream().filter(c -> c.httpStatus() == 503 && c.time().isAfter(burstOver)).count();
                long refused = calls.stream().filter(c -> c.httpStatus() == 503).count();
                String survivorLog = survivor.output();
                long takeover = takeoverMillis(survivorLog, killedAt);
                System.out.printf("two instances: %d orders, %d CRM and %d store requests (a batch is one), %d refused (503) in all, %d after"
                                + " the burst; store pollers taken over %d ms after the kill; synced in %d ms; wrong %s%n", ORDERS,
                        calls.stream().filter(c -> c.portal() == Portal.CRM && !c.inBatch()).count(),
                        calls.stream().filter(c -> c.portal() == Portal.STORE && !c.inBatch()).count(),
                        refused, refusedAfterBurst, takeover, syncMillis, wrong);

                assertThat(wrong.get("missing")).as("orders without a deal").isEmpty();
                assertThat(wrong.get("duplicated")).as("orders with more than one deal").isEmpty();
                assertThat(wrong.get("wrong stage")).as("deals not at the stage of the order's last status").isEmpty();
                assertThat(wrong.get("wrong pipeline")).as("deals not in the order's pipeline").isEmpty();
                // with every instance spending the whole budget (the share rule left out) the portal refused 9 requests
                // in the first 30 s of a run and none later (each instance's limiter lowers its rate after a 503), so
                // the whole run is counted; with the shares it refuses none
                assertThat(refused).as("requests the portal refused for its rate (%d of them after the burst)", refusedAfterBurst).isZero();
                assertThat(survivorLog).as("the survivor took the store pollers over").contains("now runs the " + STORE_POLLERS);
                assertThat(scenario.deadLetters()).as("dead letters").isEmpty();
            } finally {
                for (ChildDealBridge instance : instances) {
                    instance.close();
                }
            }
        }
    }

    /** Orders by what is wrong with their deals: missing, duplicated, wrong stage, wrong pipeline. */
    private static Map<String, List<Long>> check(BitrixEmulator emulator, Map<Long, String> statuses, Map<Long, Long> pipelines) {
        Map<String, List<Long>> wrong = new TreeMap<>();
        for (String what : List.of("missing", "duplicated", "wrong stage", "wrong pipeline")) {
            wrong.put(what, new ArrayList<>());
        }
        statuses.forEach((orderId, status) -> {
            List<Map<String, Object>> deals = emulator.crm().dealsByOrigin(SyncScenario.ORIGINATOR, Long.toString(orderId));
            if (deals.isEmpty()) {
                wrong.get("missing").add(orderId);
                return;
            }
            if (deals.size() > 1) {
                wrong.get("duplicated").add(orderId);
            }
            Map<String, Object> deal = deals.get(0);
            long pipeline = pipelines.get(orderId);
            if (!Long.toString(pipeline).equals(String.valueOf(deal.get("CATEGORY_ID")))) {
                wrong.get("wrong pipeline").add(orderId);
            } else if (!SyncScenario.mapping().isConsistent(pipeline, String.valueOf(deal.get("STAGE_ID")), status)) {
                wrong.get("wrong stage").add(orderId);
            }
        });
        return wrong;
    }

    /** The instance whose log last says it runs the store pollers. */
    private static ChildDealBridge awaitStorePollerLeader(List<ChildDealBridge> instances) throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        while (System.currentTimeMillis() < deadline) {
            for (ChildDealBridge instance : instances) {
                String log = instance.output();
                if (log.lastIndexOf("now runs the " + STORE_POLLERS) > log.lastIndexOf("no longer runs the " + STORE_POLLERS)) {
                    return instance;
                }
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no instance says it runs the store pollers");
    }

    /** How long after the kill the survivor said it runs the store pollers (from the log's time stamps), or -1. */
    private static long takeoverMillis(String log, long killedAt) {
        java.time.LocalDate today = java.time.LocalDate.now();
        long found = -1;
        for (String line : log.split("\n")) {
            if (line.contains("now runs the " + STORE_POLLERS) && line.length() > 12) {
                try {  // the child's lines start with HH:mm:ss.SSS
                    long at = java.time.LocalTime.parse(line.substring(0, 12)).atDate(today)
                            .atZone(java.time.ZoneId.systemDefault()).toInstant().toEpochMilli();
                    if (at >= killedAt - 1_000) {
                        found = at - killedAt;
                    }
                } catch (java.time.format.DateTimeParseException notATimeStamp) {
                    // a continuation line
                }
            }
        }
        return found;
    }
}
