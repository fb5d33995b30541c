package org.dealbridge.benchmarks;

import java.time.Duration;
import java.util.Map;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.EmulatorOptions;

/**
 * N new orders at once against the CRM emulator at its default limits (2 requests/s, burst 50; batches of 50): deal
 * writes per second over the ceiling of 100/s, next to a naive sync that makes one call per order on its own portal.
 */
final class ApiBudgetBenchmark {
    /** Deal writes per second a portal allows at most: 2 batch calls/s × 50 commands. */
    static final double CEILING = 100.0;

    static BenchResult run(int orders, Duration baselineLimit) {
        BenchResult result = new BenchResult("api-budget");
        result.put("orders", orders);
        try (BitrixEmulator crm = BitrixEmulator.start(EmulatorOptions.defaults()); BenchRig rig = new BenchRig(4)) {
            BenchRig.seed(crm);
            var config = BenchRig.projectorConfig(Duration.ofMillis(500), "bench-api-budget-crm");
            rig.publishMapping();
            rig.startProjector(config, "bench-api-budget", true, rig.dir.resolve("state"));
            rig.startConnector(config, crm, true);
            long started = System.nanoTime();
            for (long id = 1; id <= orders; id++) {
                rig.send(BenchRig.order(id, "N", id % 2 == 0 ? 12 : 99, "1500"));
            }
            rig.producer.flush();
            BenchRig.await("all " + orders + " orders have deals", Duration.ofSeconds(120 + orders / 5),
                    () -> crm.crm().deals().size() >= orders);
            double seconds = (System.nanoTime() - started) / 1e9;
            CrmCalls calls = CrmCalls.of(crm);
            double writesPerSecond = calls.dealWrites() / seconds;
            result.put("seconds", seconds);
            result.put("dealWrites", calls.dealWrites(), "crm.deal.add + crm.deal.update that succeeded");
            result.put("dealWritesPerSecond", writesPerSecond);
            result.put("ratioToCeiling", writesPerSecond / CEILING, "deal writes/s ÷ 100 (target ≥ 0.95)");
            result.put("subCommandsPerDeal", calls.commands() / (double) Math.max(1, calls.dealWrites()),
                    "everything the budget paid for, per deal write");
            result.put("commandsPerSecond", calls.commands() / seconds, "sub-commands/s (the budget is 100/s after the burst)");
            result.put("batchCalls", calls.batchCalls());
            result.put("httpCalls", calls.httpCalls());
            result.put("meanBatchFill", calls.meanBatchFill(), "sub-commands per batch ÷ 50");
            result.put("http503", calls.http503(), "refusals (target 0)");
            result.put("budgetUse", calls.httpCalls() / (50 + 2 * seconds), "HTTP calls ÷ (burst 50 + 2/s × elapsed)");
        }
        naiveBaseline(orders, baselineLimit, result);
        return result;
    }

    /**
     * The peer: a module that syncs each order on its own with one crm.deal.add call (no contact, no rows — the
     * cheapest a per-order sync can be), on a fresh portal with the same limits, for the same orders or until the limit.
     */
    private static void naiveBaseline(int orders, Duration limit, BenchResult result) {
        try (BitrixEmulator crm = BitrixEmulator.start(EmulatorOptions.defaults());
             BitrixClient client = BitrixClient.builder(crm.crmWebhookUrl()).portal("crm").callTimeout(Duration.ofSeconds(5)).build()) {
            BenchRig.seed(crm);
            long started = System.nanoTime();
            long deadline = started + limit.toNanos();
            int done = 0;
            for (long id = 1; id <= orders && System.nanoTime() < deadline; id++) {
                client.call("crm.deal.add", Map.of("fields", Map.of("TITLE", "Order #A-" + id, "CATEGORY_ID", "0",
                        "STAGE_ID", "NEW", "OPPORTUNITY", "1500", "CURRENCY_ID", "RUB",
                        "ORIGINATOR_ID", "naive:s1", "ORIGIN_ID", Long.toString(id))));
                done++;
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            CrmCalls calls = CrmCalls.of(crm);
            result.put("naiveOrders", done, "orders the one-call-per-order sync finished (stops at the limit)");
            result.put("naiveSeconds", seconds);
            result.put("naiveDealWritesPerSecond", calls.dealWrites() / seconds);
            result.put("naiveHttp503", calls.http503());
            double ours = ((Number) result.figures().get("dealWritesPerSecond")).doubleValue();
            result.put("speedupOverNaive", ours / (calls.dealWrites() / seconds), "DealBridge deal writes/s ÷ naive");
        }
    }

    private ApiBudgetBenchmark() {
    }
}
