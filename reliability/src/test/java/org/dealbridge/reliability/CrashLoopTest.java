package org.dealbridge.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * 1000 orders with their status changes and basket replacements (each moving the order to another pipeline at another
 * price), DealBridge killed with SIGKILL three times at random moments: afterwards every order has exactly one deal,
 * with the order's final price and basket, in the pipeline the final basket maps to and at the stage the last status
 * maps to there; nothing is dead-lettered, and no webhook secret appears in anything the child printed or served.
 */
class CrashLoopTest {
    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();

    @TempDir
    Path dir;

    @Test
    void killedThreeTimesWhileSyncingAThousandOrdersEveryOrderHasExactlyOneConsistentDeal() throws Exception {
        long seed = Long.getLong("reliability.seed", System.nanoTime());
        int kills = Integer.getInteger("reliability.kills", 3);  // 0: the same stream without kills, to tell crashes from the rest
        CrashLoop.Result result = new CrashLoop(KAFKA.bootstrapServers(), dir, 1000, kills, seed).run(Duration.ofSeconds(150));
        System.out.printf("crash loop (seed %d): %d orders, %d status changes, %d basket changes (%d around the kills), %d kills;"
                        + " commands %s -> %s; %d dead letters; %d ms%n%s", seed, result.orders(), result.statusChanges(), result.basketChanges(),
                result.basketChangesAroundKills(), result.kills(), result.commands(), result.verdict(), result.deadLetters().size(),
                result.syncMillis(), result.diagnosis());
        assertThat(result.basketChanges()).as("basket replacements, each moving an order's pipeline and price").isGreaterThan(300);
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
