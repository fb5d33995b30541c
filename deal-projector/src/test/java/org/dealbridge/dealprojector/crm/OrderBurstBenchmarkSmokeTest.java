package org.dealbridge.dealprojector.crm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The burst benchmark on a small burst: every order ends with exactly one deal and the figures are printed. */
class OrderBurstBenchmarkSmokeTest {

    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();

    @Test
    void aSmallBurstUnderTheDefaultLimitsGivesEveryOrderOneDeal(@TempDir Path stateDir) throws Exception {
        OrderBurstBenchmark.Figures figures = OrderBurstBenchmark.run(KAFKA, 40, stateDir);
        System.out.println(figures.report());

        assertThat(figures.ordersWithOneDeal()).isEqualTo(40);
        assertThat(figures.batchCalls()).isPositive();
    }
}
