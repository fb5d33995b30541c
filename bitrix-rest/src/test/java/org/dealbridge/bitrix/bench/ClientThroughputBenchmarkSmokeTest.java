package org.dealbridge.bitrix.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Runs the benchmark with small numbers so it keeps working; speed figures are printed, not asserted. */
class ClientThroughputBenchmarkSmokeTest {
    @Test
    void smallRunCreatesEveryDeal() throws Exception {
        ClientThroughputBenchmark.Result r = ClientThroughputBenchmark.run(120, 5, 20, 5, 2);
        System.out.println("smoke benchmark: " + r);
        assertThat(r.dealsCreated()).isEqualTo(120);
        assertThat(r.requests()).isEqualTo(24);
        assertThat(r.burstRequests()).isBetween(1, 24);
    }
}
