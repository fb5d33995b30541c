package org.dealbridge.connector;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How long a connector waits before it restarts a died loop: doubling from {@code initial} per consecutive failure, at
 * most {@code max}, with +-50% jitter so that instances that failed together (a broker restart) do not come back in
 * step. A loop that commits a poll counts as healthy again and the next failure starts from {@code initial}. The same
 * shape paces the waits for an unreachable side ({@code {prefix}.initial-backoff} up to
 * {@code {prefix}.unreachable-backoff-max}, see {@code ConnectorLoop.waitForTheSide}).
 */
public record RestartBackoff(Duration initial, Duration max) {

    /** One second, doubling up to one minute. */
    public static final RestartBackoff DEFAULT = new RestartBackoff(Duration.ofSeconds(1), Duration.ofMinutes(1));

    public RestartBackoff {
        if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("restart backoff needs 0 < initial <= max but was initial=" + initial + " max=" + max);
        }
    }

    /** The wait before restart number {@code failures} (1 for the first failure in a row). */
    public Duration delay(int failures) {
        long base = initial.toMillis();
        for (int i = 1; i < failures && base < max.toMillis(); i++) {
            base *= 2;
        }
        base = Math.min(base, max.toMillis());
        long jittered = (long) (base * (0.5 + ThreadLocalRandom.current().nextDouble()));
        return Duration.ofMillis(Math.max(1, Math.min(jittered, max.toMillis())));
    }
}
