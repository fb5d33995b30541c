package org.dealbridge.benchmarks;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.Call;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.emulator.Portal;

/**
 * New orders at a steady rate that uses about half the API budget (a new deal costs ~5 sub-commands, so 10 orders/s
 * ≈ 50 of the 100 sub-commands/s): the time from handing the order to Kafka to the CRM receiving its crm.deal.add.
 * It includes the coalesce window (500 ms by default) by design: that is the wait DealBridge chooses.
 */
final class LatencyBenchmark {

    static BenchResult run(double ordersPerSecond, Duration duration, Duration window) {
        BenchResult result = new BenchResult("latency");
        result.put("ordersPerSecond", ordersPerSecond).put("seconds", duration.toSeconds()).put("coalesceWindowMs", window.toMillis());
        try (BitrixEmulator crm = BitrixEmulator.start(EmulatorOptions.defaults()); BenchRig rig = new BenchRig(4)) {
            BenchRig.seed(crm);
            var config = BenchRig.projectorConfig(window, "bench-latency-crm");
            rig.publishMapping();
            rig.startProjector(config, "bench-latency", true, rig.dir.resolve("state"));
            rig.startConnector(config, crm, true);
            Map<String, Instant> sentAt = new ConcurrentHashMap<>();
            long intervalNanos = (long) (1e9 / ordersPerSecond);
            long started = System.nanoTime();
            long end = started + duration.toNanos();
            long id = 0;
            for (long next = started; next < end; next += intervalNanos) {
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    BenchRig.sleep(wait / 1_000_000);
                }
                id++;
                sentAt.put(Long.toString(id), Instant.now());
                rig.send(BenchRig.order(id, "N", id % 2 == 0 ? 12 : 99, "1500"));
                rig.producer.flush();
            }
            long orders = id;
            BenchRig.await("all " + orders + " orders have deals", Duration.ofSeconds(120), () -> crm.crm().deals().size() >= orders);
            List<Long> millis = new ArrayList<>();
            for (Call call : crm.calls().of(Portal.CRM, "crm.deal.add")) {
                Instant sent = sentAt.remove(call.param("fields", "ORIGIN_ID"));  // the first add of each order only
                if (sent != null && call.succeeded()) {
                    millis.add(Duration.between(sent, call.time()).toMillis());
                }
            }
            millis.sort(null);
            CrmCalls calls = CrmCalls.of(crm);
            result.put("orders", orders);
            result.put("measured", millis.size());
            result.put("p50_ms", percentile(millis, 0.50));
            result.put("p99_ms", percentile(millis, 0.99), "target ≤ 1000");
            result.put("max_ms", millis.isEmpty() ? -1 : millis.get(millis.size() - 1));
            result.put("commandsPerSecond", calls.commands() / (duration.toNanos() / 1e9), "share of the 100/s budget used");
            result.put("httpCallsPerSecond", calls.httpCalls() / (duration.toNanos() / 1e9), "the portal allows 2/s after the burst of 50");
            result.put("meanBatchFill", calls.meanBatchFill(), "sub-commands per batch ÷ 50");
            result.put("http503", calls.http503());
        }
        return result;
    }

    static long percentile(List<Long> sorted, double q) {
        if (sorted.isEmpty()) {
            return -1;
        }
        int index = (int) Math.ceil(q * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
    }

    private LatencyBenchmark() {
    }
}
