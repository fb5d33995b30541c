package org.dealbridge.benchmarks;

import java.time.Duration;
import org.dealbridge.schemas.OrderChanged;
import org.apache.kafka.clients.admin.Admin;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.schemas.Topics;

/**
 * Ten status changes to each order within one coalesce window: how many CRM deal writes each order costs, once for
 * orders that are new (no deal yet) and once for orders already linked to their deal. Call counts, not speed, matter
 * here, so the emulator and the client run without rate limits.
 */
final class CoalescingBenchmark {

    private static final String APP_ID = "bench-coalescing";

    /** A site the bench publishes no mapping for: its orders warm the pipeline up and get no deal. */
    private static final String UNMAPPED_SITE = "s9";

    static BenchResult run(int orders, int changesPerOrder, Duration window) {
        BenchResult result = new BenchResult("coalescing");
        result.put("orders", orders).put("changesPerOrder", changesPerOrder).put("coalesceWindowMs", window.toMillis());
        try (BitrixEmulator crm = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled()); BenchRig rig = new BenchRig(4);
             Admin admin = Admin.create(rig.clientProperties())) {
            BenchRig.seed(crm);
            var config = BenchRig.projectorConfig(window, "bench-coalescing-crm");
            rig.publishMapping();
            rig.startProjector(config, APP_ID, true, rig.dir.resolve("state"));
            rig.startConnector(config, crm, false);

            // a cold projector and producer take the first thousands of changes in slowly, which says nothing of coalescing
            // in a running installation: the same burst for a site without a mapping first (no deal, no CRM call)
            rig.warmUpSender();
            long warmUp = System.nanoTime();
            for (int change = 1; change <= changesPerOrder; change++) {
                for (long id = 1; id <= orders; id++) {
                    rig.send(OrderChanged.newBuilder(BenchRig.order(id, "N", 99, "1500")).setSiteId(UNMAPPED_SITE).build());
                }
            }
            rig.producer.flush();
            result.put("warmUpIntakeMs", takenIn(admin, warmUp, orders), "the same burst for a site without a mapping, first");

            // new orders: N, P, N, P, ... ending at P (EXECUTING), all sent at once
            long sent = System.nanoTime();
            burst(rig, orders, changesPerOrder, "P");
            result.put("newOrderBurstSendMs", Duration.ofNanos(System.nanoTime() - sent).toMillis(),
                    "first change sent → the last acknowledged: an order's changes span about this much of their own time");
            result.put("newOrderBurstIntakeMs", takenIn(admin, sent, orders),
                    "first change sent → projector has taken in the last; changes are inside one window only below it");
            awaitStage(crm, orders, "EXECUTING");
            settle(window);
            CrmCalls afterNew = CrmCalls.of(crm);
            result.put("newOrderDealWritesPerOrder", afterNew.dealWrites() / (double) orders,
                    "adds + updates per new order (target 1–2)");
            result.put("newOrderDealAdds", afterNew.dealAdds());
            result.put("newOrderDealUpdates", afterNew.dealUpdates());

            // linked orders: the same burst again, ending at N (NEW)
            sent = System.nanoTime();
            burst(rig, orders, changesPerOrder, "N");
            result.put("linkedOrderBurstSendMs", Duration.ofNanos(System.nanoTime() - sent).toMillis());
            result.put("linkedOrderBurstIntakeMs", takenIn(admin, sent, orders));
            awaitStage(crm, orders, "NEW");
            settle(window);
            CrmCalls afterLinked = CrmCalls.of(crm);
            long linkedWrites = afterLinked.dealWrites() - afterNew.dealWrites();
            result.put("linkedOrderDealWritesPerOrder", linkedWrites / (double) orders,
                    "updates per already linked order (target 1–2)");
            result.put("linkedOrderDealAdds", afterLinked.dealAdds() - afterNew.dealAdds(), "must be 0: no second deal");
            result.put("deals", crm.crm().deals().size(), "must equal orders");
            result.put("subCommandsPerOrder", afterLinked.commands() / (double) orders, "everything, both bursts");
        }
        return result;
    }

    private static void burst(BenchRig rig, int orders, int changes, String last) {
        String other = last.equals("P") ? "N" : "P";
        for (int change = 1; change <= changes; change++) {
            // the last change sets the final status; before it, statuses alternate
            String status = (changes - change) % 2 == 0 ? last : other;
            for (long id = 1; id <= orders; id++) {
                rig.send(BenchRig.order(id, status, 99, "1500"));
            }
        }
        rig.producer.flush();
    }

    /**
     * Milliseconds from the burst's first send until the projector's committed offsets reach the end of order-changes
     * (committed every 100 ms): an order's changes span about this much of the projector's time, so they fall inside
     * one coalesce window only when it is shorter than the window.
     */
    private static long takenIn(Admin admin, long sentNanos, int orders) {
        BenchRig.await("the projector took the burst in", Duration.ofSeconds(60 + orders / 5),
                () -> BenchRig.caughtUp(admin, APP_ID, Topics.ORDER_CHANGES));
        return Duration.ofNanos(System.nanoTime() - sentNanos).toMillis();
    }

    private static void awaitStage(BitrixEmulator crm, int orders, String stage) {
        BenchRig.await("all " + orders + " deals are at " + stage, Duration.ofSeconds(60 + orders / 5), () -> {
            var deals = crm.crm().deals();
            return deals.size() >= orders && deals.stream().allMatch(deal -> stage.equals(deal.get("STAGE_ID")));
        });
    }

    /** Whatever is still coming arrives within a window, a commit and a poll; then the links are in the projector. */
    private static void settle(Duration window) {
        BenchRig.sleep(window.toMillis() * 2 + 2000);
    }

    private CoalescingBenchmark() {
    }
}
