package org.dealbridge.benchmarks;

import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;
import org.dealbridge.app.config.ConfigLoader;
import org.dealbridge.app.runtime.DealBridgeRuntime;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.Call;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.emulator.NewOrder;
import org.dealbridge.emulator.Portal;
import org.dealbridge.mapping.DocumentCheck;
import org.dealbridge.mapping.MappingPublisher;
import org.dealbridge.mapping.MappingTopics;

/**
 * The whole way, as a shop sees it: orders placed in the emulated store (its shop API, which fires
 * {@code ONSALEORDERSAVED} at DealBridge's hook), DealBridge's real runtime (embedded broker, both ingestions, both
 * projectors, both connectors) against both emulated portals at their default limits (2 requests/s, burst 50 each),
 * until every order has its deal in the emulated CRM. Counts every request and sub-command each portal was charged,
 * ingestion included, and then watches the idle store for a while: an idle poller should list and read nothing.
 */
final class EndToEndBenchmark {

    /**
     * @param orders   orders placed
     * @param rate     orders per second after the burst
     * @param burst    orders placed at once first
     * @param idle     how long the store is watched once every deal exists
     */
    static BenchResult run(int orders, double rate, int burst, Duration idle) throws Exception {
        BenchResult result = new BenchResult("end-to-end");
        result.put("orders", orders).put("burst", Math.min(burst, orders)).put("ratePerSecondAfterBurst", rate);
        Path dir = Files.createTempDirectory("dealbridge-bench-e2e");
        String crmToken = UUID.randomUUID().toString().replace("-", "");
        String storeToken = UUID.randomUUID().toString().replace("-", "");
        try (BitrixEmulator emu = BitrixEmulator.start(EmulatorOptions.defaults())) {
            seed(emu);
            Map<String, String> env = new HashMap<>();
            env.put("DEALBRIDGE_DATA_DIR", dir.resolve("data").toString());
            env.put("DEALBRIDGE_HTTP_PORT", "0");
            env.put("DEALBRIDGE_CRM_WEBHOOK_URL", emu.crmWebhookUrl());
            env.put("DEALBRIDGE_CRM_APPLICATION_TOKEN", crmToken);
            env.put("DEALBRIDGE_STORE_WEBHOOK_URL", emu.storeWebhookUrl());
            env.put("DEALBRIDGE_STORE_APPLICATION_TOKEN", storeToken);
            env.put("DEALBRIDGE_STORE_POLL_INTERVAL", "10s");
            env.put("DEALBRIDGE_REST_ALLOW_INSECURE_HTTP", "true");
            try (DealBridgeRuntime runtime = DealBridgeRuntime.start(ConfigLoader.load(null, env))) {
                String base = "http://127.0.0.1:" + runtime.httpPort();
                emu.subscribeStore(base + "/hooks/store", storeToken, "ONSALEORDERSAVED", "ONSALEBEFOREORDERDELETE");
                emu.subscribeCrm(base + "/hooks/bitrix24", crmToken, "ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE");
                new MappingPublisher(runtime.clientProperties(), MappingTopics.of(runtime.schemaRegistry(), runtime.topics().prefix()),
                        Clock.systemUTC()).publish(BenchRig.MAPPING, "bench", false, DocumentCheck.NONE);
                BenchRig.sleep(5000);  // the projectors' global stores take the mapping in
                emu.calls().clear();

                long start = System.nanoTime();
                int placedAtOnce = Math.min(burst, orders);
                for (int i = 0; i < orders; i++) {
                    if (i >= placedAtOnce) {
                        long due = start + (long) ((i - placedAtOnce + 1) / rate * 1e9);
                        long wait = due - System.nanoTime();
                        if (wait > 0) {
                            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                        }
                    }
                    emu.store().addOrder(order(i));
                }
                double placing = (System.nanoTime() - start) / 1e9;
                long deadline = System.nanoTime() + Duration.ofSeconds(120 + orders).toNanos();
                while (emu.crm().deals().size() < orders) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("only " + emu.crm().deals().size() + " of " + orders + " deals after "
                                + (System.nanoTime() - start) / 1_000_000_000 + " s");
                    }
                    Thread.sleep(50);
                }
                double toLastDeal = (System.nanoTime() - start) / 1e9;
                List<Call> calls = emu.calls().all();

                result.put("secondsPlacing", round(placing), "placing the orders in the store");
                result.put("secondsToLastDeal", round(toLastDeal), "first order placed → last deal exists");
                result.put("dealsPerSecond", round(orders / toLastDeal), "orders ÷ time to the last deal");
                result.put("deals", emu.crm().deals().size(), "must equal orders");
                put(result, "store", calls, Portal.STORE, orders);
                put(result, "crm", calls, Portal.CRM, orders);
                // crm.deal.list with @ID is deal-events' alone (the connector looks deals up by ORIGINATOR_ID/ORIGIN_ID);
                // product rows are read by both, crm.deal.get now only by the connector
                result.put("crmIngestionDealListsPerDeal", round(count(calls, c -> c.method().equals("crm.deal.list") && filterHas(c, "@ID")) / (double) orders),
                        "deal-events' bulk reads (crm.deal.list @ID; echoes of our writes included)");
                result.put("crmProductRowReadsPerDeal", round(count(calls, c -> c.method().equals("crm.deal.productrows.get")) / (double) orders),
                        "crm.deal.productrows.get, by deal-events (deals whose rows can have changed) or the connector");
                result.put("crmDealGetsPerDeal", round(count(calls, c -> c.method().equals("crm.deal.get")) / (double) orders),
                        "crm.deal.get (the connector; deal-events no longer uses it)");
                result.put("storeOrderReads", calls.stream().filter(EndToEndBenchmark::storeOrderRead).count(),
                        "sale.order.get, or bulk sale.order.list with @id");

                if (!idle.isZero()) {
                    emu.calls().clear();
                    BenchRig.sleep(idle.toMillis());
                    List<Call> idleCalls = emu.calls().all().stream().filter(c -> c.portal() == Portal.STORE && !c.inBatch()).toList();
                    result.put("idleSeconds", idle.toSeconds());
                    result.put("idleStoreRequests", idleCalls.size(), "every store request while nothing changed");
                    result.put("idleStoreRequestsByMethod", idleCalls.stream().collect(java.util.stream.Collectors.groupingBy(Call::method,
                            java.util.TreeMap::new, java.util.stream.Collectors.counting())).toString());
                    result.put("idleStoreOrderReads", emu.calls().all().stream().filter(EndToEndBenchmark::storeOrderRead).count(),
                            "must be 0: nothing changed");
                }
            }
        } finally {
            BenchRig.delete(dir);
        }
        return result;
    }

    private static void put(BenchResult result, String portal, List<Call> calls, Portal which, int orders) {
        List<Call> mine = calls.stream().filter(c -> c.portal() == which).toList();
        long requests = mine.stream().filter(c -> !c.inBatch()).count();
        long batches = mine.stream().filter(c -> !c.inBatch() && c.method().equals("batch")).count();
        long sub = mine.stream().filter(Call::inBatch).count() + requests - batches;
        long refused = mine.stream().filter(c -> !c.inBatch() && c.httpStatus() == 503).count();
        result.put(portal + "Requests", requests, "HTTP requests the " + portal + " was charged (batch = 1)");
        result.put(portal + "SubCommands", sub, "commands run: a batch's sub-commands, plus every call outside a batch");
        result.put(portal + "SubCommandsPerDeal", round(sub / (double) orders));
        result.put(portal + "RequestsPerDeal", round(requests / (double) orders));
        result.put(portal + "503s", refused, "refused for the rate limit");
    }

    /** A read of orders: one {@code sale.order.get}, or a bulk {@code sale.order.list} naming them with {@code @id}. */
    private static boolean storeOrderRead(Call c) {
        return c.portal() == Portal.STORE && (c.method().equals("sale.order.get") || (c.method().equals("sale.order.list") && filterHas(c, "@id")));
    }

    private static long count(List<Call> calls, Predicate<Call> crmCall) {
        return calls.stream().filter(c -> c.portal() == Portal.CRM).filter(crmCall).count();
    }

    private static boolean filterHas(Call c, String key) {
        return c.params().get("filter") instanceof Map<?, ?> filter && filter.containsKey(key);
    }

    /** The store as the benchmarks' mapping expects it: statuses, a pay system, a sofa in section 12 (pipeline 2). */
    private static void seed(BitrixEmulator emu) {
        BenchRig.seed(emu);
        var store = emu.store();
        store.addStatus("N", "Accepted");
        store.addStatus("P", "Paid");
        store.addStatus("F", "Delivered");
        store.addPaySystem(1, "Cash", true);
        store.addSection(10, null, "Catalog");
        store.addSection(12, 10L, "Sofas");
        store.addProduct(1001, "Sofa", 12L, new BigDecimal("1500.00"));
    }

    private static NewOrder order(int i) {
        return NewOrder.create().site("s1").status("N").item(1001, "Sofa", new BigDecimal("1500.00"), 1)
                .property("FIO", "Buyer " + i).property("EMAIL", "buyer" + i + "@example.com")
                .payment(1, new BigDecimal("1500.00"), false);
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    private EndToEndBenchmark() {
    }
}
