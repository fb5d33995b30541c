package org.dealbridge.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * 1000 orders with their status changes, DealBridge killed with SIGKILL three times at random moments: afterwards every
 * order has exactly one deal, in the pipeline and at the stage its last status maps to, nothing is dead-lettered, and no
 * webhook secret appears in anything the child printed or served.
 */
class CrashLoopTest {
    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();

    @TempDir
    Path dir;

    @Test
    void killedThreeTimesWhileSyncingAThousandOrdersEveryOrderHasExactlyOneConsistentDeal() throws Exception {
        long seed = Long.getLong("reliability.seed", System.nanoTime());
        CrashLoop.Result result = new CrashLoop(KAFKA.bootstrapServers(), dir, 1000, 3, seed).run(Duration.ofSeconds(150));
        System.out.printf("crash loop (seed %d): %d orders, %d stage changes, %d kills -> %s; %d dead letters; %d ms%n", seed,
                result.orders(), result.stageChanges(), result.kills(), result.verdict(), result.deadLetters().size(), result.syncMillis());

        if (!result.verdict().exact()) {  // what DealBridge said about the orders that came out wrong
            try (SyncScenario topics = new SyncScenario(KAFKA.bootstrapServers(), null)) {
                java.util.Set<Long> wrong = new java.util.HashSet<>(result.verdict().inconsistent().keySet());
                wrong.addAll(result.verdict().missing());
                topics.readAll(org.dealbridge.schemas.Topics.SYNC_OUTCOMES, topics.topics().syncOutcomes().valueSerde().deserializer())
                        .stream().filter(o -> wrong.contains(o.getOrderId())).limit(15)
                        .forEach(o -> System.out.println("  outcome of order " + o.getOrderId() + ": " + o.getOutcome() + " " + o.getReason()));
            }
        }
        assertThat(result.verdict().exact()).as("seed %d: %s", seed, result.verdict()).isTrue();
        assertThat(result.verdict().deals()).isEqualTo(1000);
        assertThat(result.deadLetters()).as("dead letters").isEmpty();
        String everything = result.childOutput() + result.deadLetters();
        for (String secret : result.secrets()) {
            assertThat(everything).as("the child's output, /metrics, /health and dead letters").doesNotContain(secret);
        }
        assertThat(result.childOutput()).as("the child really ran each time").contains("DealBridge is running");
    }
}
