package org.dealbridge.retry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {

    private static final RetryPolicy CRM_DEFAULTS = new RetryPolicy(6, Duration.ofMillis(500), Duration.ofSeconds(10));

    @RepeatedTest(20)
    void everyWaitIsWithinHalfAndOneAndAHalfOfItsExponentialStepAndNeverAboveTheCap() {
        for (int attempt = 1; attempt <= 40; attempt++) {
            long step = Math.min(10_000, 500L << Math.min(attempt - 1, 20));
            assertThat(CRM_DEFAULTS.delayAfter(attempt).toMillis()).as("after attempt %d", attempt)
                    .isBetween(step / 2, Math.min(10_000, step + step / 2));
        }
    }

    @Test
    void theAttemptsAreBoundedByMaxAttempts() {
        assertThat(CRM_DEFAULTS.mayRetryAfter(5)).isTrue();
        assertThat(CRM_DEFAULTS.mayRetryAfter(6)).isFalse();
        assertThat(new RetryPolicy(1, Duration.ofMillis(1), Duration.ofMillis(1)).mayRetryAfter(1)).isFalse();
    }

    @Test
    void theLongestWaitsAreTheSumOfTheCappedJitteredSteps() {
        // 750 + 1500 + 3000 + 6000 + min(10000, 12000)
        assertThat(CRM_DEFAULTS.longestWaits()).isEqualTo(Duration.ofMillis(21_250));
        assertThat(new RetryPolicy(1, Duration.ofMillis(500), Duration.ofSeconds(10)).longestWaits()).isZero();
    }

    @Test
    void aCapBelowTheFirstWaitCapsEveryWait() {
        RetryPolicy capped = new RetryPolicy(3, Duration.ofSeconds(2), Duration.ofSeconds(1));
        assertThat(capped.delayAfter(1)).isLessThanOrEqualTo(Duration.ofSeconds(1));
        assertThat(capped.longestWaits()).isEqualTo(Duration.ofSeconds(2));
        assertThatThrownBy(() -> new RetryPolicy(0, Duration.ofSeconds(1), Duration.ofSeconds(1)))
                .hasMessageContaining("maxAttempts");
    }
}
