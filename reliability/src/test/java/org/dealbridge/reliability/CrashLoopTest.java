package org.dealbridge.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The crash loop through {@code bin/dealbridge run}, both directions, small enough for CI: 160 orders placed in the
 * store with their basket replacements and status changes, managers' edits of settled deals (stage, pipeline, amount)
 * and two deals made by hand; DealBridge killed with SIGKILL three times: in a rebalance as a second instance joins,
 * then during start-up and during state restore while the second carries the sync. Afterwards every order has exactly one deal and every
 * hand-made deal one order, each pair as the last change dictates, a manager's value standing; nothing is
 * dead-lettered; no webhook secret appears in anything DealBridge printed or served. {@code -Dcrashloop.seed=N} repeats
 * a run (the seed is printed); {@code -Dcrashloop.orders}, {@code -Dcrashloop.kills} change its size. The long run is
 * {@link CrashLoopBenchmark}.
 */
class CrashLoopTest {
    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();

    @Test
    void killedAtStartUpDuringRestoreAndInARebalanceDealBridgeKeepsEveryPairExactInBothDirections() throws Exception {
        long seed = Long.getLong("crashloop.seed", System.nanoTime());
        CrashLoop.Size size = new CrashLoop.Size(Integer.getInteger("crashloop.orders", 160), 2,
                Integer.getInteger("crashloop.kills", 3), 150, seed);
        // DealBridge's logs stay under target/ when the run fails, for the report
        Path dir = Path.of("target", "crash-loop", Long.toString(seed)).toAbsolutePath();
        delete(dir);  // a seed run again starts afresh
        CrashLoop.Result result = new CrashLoop(KAFKA.bootstrapServers(), dir, size).run(Duration.ofSeconds(150));
        System.out.print(result.figures());
        System.out.println("DealBridge's logs in " + dir);
        assertThat(result.quietMillis()).as("seed %d: the sync came to rest (%s)", seed, result.stillMoving()).isNotNegative();
        assertThat(result.verdict().exact()).as("seed %d: %s", seed, result.verdict()).isTrue();
        assertThat(result.handMade().exact()).as("seed %d: %s", seed, result.handMade()).isTrue();
        assertThat(result.strayOrders()).as("seed %d: store orders nobody placed", seed).isEmpty();
        assertThat(result.deadLetters()).as("seed %d: dead letters", seed).isEmpty();
        assertThat(result.secretsLeaked()).as("secrets in the output, /metrics, /health or dead letters").isEmpty();
        assertThat(result.kills()).extracting(CrashLoop.Kill::moment).contains(CrashLoop.Moment.START_UP, CrashLoop.Moment.RESTORE,
                CrashLoop.Moment.REBALANCE_JOIN);
        assertThat(result.kills()).as("the JVM itself was killed, not a shell around it (the launcher execs java)")
                .allSatisfy(kill -> assertThat(kill.command()).endsWith("/java"));
        assertThat(result.basketChanges()).as("basket replacements, each moving an order's pipeline and price").isGreaterThan(30);
        assertThat(result.managerEdits().values().stream().mapToInt(Integer::intValue).sum()).as("managers' edits").isGreaterThan(10);
        assertThat(result.childOutput()).as("the production log configuration (the test's has no date)")
                .containsPattern("\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d{3} INFO .*DealBridge is running");
        delete(dir);
    }

    private static void delete(Path dir) throws java.io.IOException {
        if (java.nio.file.Files.exists(dir)) {
            try (var paths = java.nio.file.Files.walk(dir)) {
                for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    java.nio.file.Files.delete(p);
                }
            }
        }
    }
}
