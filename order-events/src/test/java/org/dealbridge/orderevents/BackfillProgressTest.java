package org.dealbridge.orderevents;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackfillProgressTest {
    @Test
    void progressLineShowsDoneTotalRateAndEta() {
        assertThat(Backfill.progressLine("s1", 150, 1234, Duration.ofSeconds(10)))
                .isEqualTo("backfill s1: 150/1234 orders, 15.0 orders/s, ETA 00:01:13");
        assertThat(Backfill.progressLine("s1", 7200, 14400, Duration.ofHours(1)))
                .isEqualTo("backfill s1: 7200/14400 orders, 2.0 orders/s, ETA 01:00:00");
    }

    @Test
    void unknownTotalOrNoRateYetShowQuestionMarks() {
        assertThat(Backfill.progressLine("s2", 0, 10, Duration.ZERO)).isEqualTo("backfill s2: 0/10 orders, 0.0 orders/s, ETA ?");
        assertThat(Backfill.progressLine("s2", 5, -1, Duration.ofSeconds(1))).isEqualTo("backfill s2: 5/? orders, 5.0 orders/s, ETA ?");
    }
}
