package org.dealbridge.retry;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How one layer retries: at most {@code maxAttempts} attempts (the first included), and before attempt n+1 a wait of
 * {@code initialBackoff · 2^(n-1)}, capped at {@code maxBackoff}, with ±50 % jitter so that many clients do not retry
 * in step — and never more than {@code maxBackoff}, the bound the settings promise. Every retrying layer (the REST
 * client, the schema registry client, the CRM and store connectors) uses this type, each with its own settings, so
 * the worst case of a layer is {@link #longestWaits()} over {@code maxAttempts} attempts.
 *
 * <p>Ours, not Kafka's {@code ExponentialBackoff}: the REST client must not depend on kafka-clients, and a layer's bound
 * is its attempts as much as its delays, which that class does not hold.
 */
public record RetryPolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff) {

    /** How a layer waits between attempts; tests pass one that records instead of sleeping. */
    @FunctionalInterface
    public interface Sleeper {
        Sleeper THREAD = duration -> Thread.sleep(duration.toMillis());

        void sleep(Duration duration) throws InterruptedException;
    }

    public RetryPolicy {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1, got " + maxAttempts);
        }
        positive("initialBackoff", initialBackoff);
        positive("maxBackoff", maxBackoff);  // a cap below initialBackoff caps every wait: the cap is the promise
    }

    private static void positive(String name, Duration d) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be a positive duration, got " + d);
        }
    }

    /** True when another attempt may follow attempt {@code attempt} (1 = the first). */
    public boolean mayRetryAfter(int attempt) {
        return attempt < maxAttempts;
    }

    /** The wait after failed attempt {@code attempt} (1 = the first): exponential, jittered, never above maxBackoff. */
    public Duration delayAfter(int attempt) {
        long base = base(attempt);
        long jittered = (long) (base * (0.5 + ThreadLocalRandom.current().nextDouble()));
        return Duration.ofMillis(Math.max(1, Math.min(maxBackoff.toMillis(), jittered)));
    }

    /** The sum of the longest waits this policy can make between its attempts: its worst case besides the attempts. */
    public Duration longestWaits() {
        long total = 0;
        for (int attempt = 1; attempt < maxAttempts; attempt++) {
            total += Math.min(maxBackoff.toMillis(), base(attempt) + base(attempt) / 2);
        }
        return Duration.ofMillis(total);
    }

    private long base(int attempt) {
        int doublings = Math.min(Math.max(attempt - 1, 0), 30);
        long max = maxBackoff.toMillis();
        long initial = initialBackoff.toMillis();
        return initial > (max >> doublings) ? max : Math.min(max, initial << doublings);
    }

    @Override
    public String toString() {
        return maxAttempts + " attempt(s), backoff " + initialBackoff.toMillis() + " ms doubling to at most " + maxBackoff.toMillis() + " ms";
    }
}
