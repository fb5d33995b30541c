package org.dealbridge.dealprojector.crm;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.stream.LongStream;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.Portal;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.schemas.Topics;

/**
 * N orders created at once against the emulator's default limits (2 requests/s, burst 50) with the client's
 * standard rate budget: how fast they all get deals, compared with the ceiling of 2 batch calls/s × 50 = 100
 * sub-commands/s, and how many 503 refusals the burst caused. Prints figures; asserts nothing about speed.
 *
 * <p>Run: {@code java -cp <test classpath> org.dealbridge.dealprojector.crm.OrderBurstBenchmark [orders]}.
 */
public final class OrderBurstBenchmark {

    /** The measured figures. */
    record Figures(int orders, int ordersWithOneDeal, Duration elapsed, long batchCalls, long http503) {
        double dealsPerSecond() {
            return orders / (elapsed.toMillis() / 1000.0);
        }

        /** Deals per second over the ceiling of 100 (2 batch calls/s × 50). */
        double ofCeiling() {
            return dealsPerSecond() / 100.0;
        }

        String report() {
            return String.format(Locale.ROOT, "%d orders -> %d with exactly one deal in %.2f s: %.1f deals/s, "
                            + "deals/s ÷ 100 = %.3f; %d batch calls; HTTP 503 after the burst: %d",
                    orders, ordersWithOneDeal, elapsed.toMillis() / 1000.0, dealsPerSecond(), ofCeiling(), batchCalls, http503);
        }
    }

    public static void main(String[] args) throws Exception {
        int orders = args.length > 0 ? Integer.parseInt(args[0]) : 300;
        EmbeddedKafkaCluster kafka = EmbeddedKafkaCluster.singleNode();
        kafka.start();
        try {
            System.out.println(run(kafka, orders, Files.createTempDirectory("deal-projector-bench")).report());
        } finally {
            kafka.stop();
        }
    }

    static Figures run(EmbeddedKafkaCluster kafka, int orders, Path stateDir) throws Exception {
        kafka.createTopics(4, Topics.ORDER_CHANGES, Topics.DEAL_COMMANDS, Topics.DEAL_LINKS, Topics.BUYER_CONTACTS, Topics.SYNC_OUTCOMES, Topics.ORDER_COMMANDS,
                Topics.DEAD_LETTERS);
        kafka.createTopics(1, Topics.MAPPING_CONFIG);
        try (BitrixEmulator crm = BitrixEmulator.start()) {  // default limits: 2 requests/s, burst 50
            crm.crm().addPipeline(2, "Sofas");
            crm.crm().addUser(9, "Sofa", "Manager", "sofas@example.com", true);
            crm.crm().addDealUserField("UF_CRM_PAY_SYSTEM", "string");
            try (DealBridgeUnderTest bridge = new DealBridgeUnderTest(kafka.bootstrapServers(), crm, stateDir,
                    "burst-" + System.nanoTime(), true).start()) {
                bridge.publishMapping("s1", DealProjectorEndToEndTest.MAPPING, 1);
                Thread.sleep(500);  // the mapping reaches the global store before the orders
                long started = System.nanoTime();
                LongStream.rangeClosed(1, orders).forEach(id ->
                        bridge.storeReports(DealProjectorEndToEndTest.order(id, "N", id % 2 == 0 ? 12 : 99)));
                DealBridgeUnderTest.await("all " + orders + " orders have deals", Duration.ofMinutes(5),
                        () -> crm.crm().deals().size() >= orders);
                Duration elapsed = Duration.ofNanos(System.nanoTime() - started);
                int withOneDeal = (int) LongStream.rangeClosed(1, orders)
                        .filter(id -> crm.crm().dealsByOrigin("dealbridge:s1", Long.toString(id)).size() == 1).count();
                long http503 = crm.calls().all().stream().filter(call -> call.httpStatus() == 503).count();
                long batches = crm.calls().all().stream().filter(call -> call.portal() == Portal.CRM && call.method().equals("batch")).count();
                return new Figures(orders, withOneDeal, elapsed, batches, http503);
            }
        }
    }

    private OrderBurstBenchmark() {
    }

}
