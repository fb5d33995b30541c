package org.dealbridge.orderprojector;

import static org.assertj.core.api.Assertions.assertThat;

import org.dealbridge.mapping.PairDecision;
import org.junit.jupiter.api.Test;

/** The long run on a short budget with a fixed seed: the rule holds, and the broken rule is caught by the same run. */
class PairConvergenceBenchmarkSmokeTest {

    @Test
    void twoThousandSeededHistoriesHoldAndEqualityFails() {
        PairConvergenceBenchmark.Figures figures = PairConvergenceBenchmark.run(PairDecision.UNDER_MAPPING, 2_000, 42L, 60);
        System.out.println(figures.report());
        assertThat(figures.violations()).as(figures.report()).isZero();

        PairConvergenceBenchmark.Figures broken = PairConvergenceBenchmark.run(PairConvergenceTest.EQUALITY, 2_000, 42L, 60);
        System.out.println("equality: " + broken.report());
        assertThat(broken.violations()).isPositive();
    }
}
