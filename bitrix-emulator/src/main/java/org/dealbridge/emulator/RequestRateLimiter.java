package org.dealbridge.emulator;

import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * The cloud's leaky bucket for one portal, kept per client IP: each HTTP request (a whole {@code batch} included) adds
 * one, the level drains at a fixed rate, and a request arriving while the level is at the burst size is refused with
 * 503 {@code QUERY_LIMIT_EXCEEDED}. Refused requests do not add to the level.
 */
final class RequestRateLimiter {
    private final Clock clock;
    private double drainPerSecond;
    private int burst;
    private boolean enabled;
    private int forcedRefusals;
    private boolean forcedAlways;
    private final Map<String, double[]> levels = new HashMap<>(); // ip -> {level, lastEpochMillis}

    RequestRateLimiter(Clock clock, double drainPerSecond, int burst, boolean enabled) {
        this.clock = clock;
        this.drainPerSecond = drainPerSecond;
        this.burst = burst;
        this.enabled = enabled;
    }

    synchronized void configure(double drainPerSecond, int burst) {
        this.drainPerSecond = drainPerSecond;
        this.burst = burst;
        this.enabled = true;
        levels.clear();
    }

    synchronized void disable() {
        enabled = false;
        levels.clear();
    }

    synchronized void forceRefusals(int count) {
        forcedRefusals = count;
    }

    synchronized void forceAlways(boolean on) {
        forcedAlways = on;
    }

    synchronized boolean tryAcquire(String clientIp) {
        if (forcedAlways) {
            return false;
        }
        if (forcedRefusals > 0) {
            forcedRefusals--;
            return false;
        }
        if (!enabled) {
            return true;
        }
        Instant now = clock.instant();
        double[] state = levels.computeIfAbsent(clientIp, ip -> new double[] {0, now.toEpochMilli()});
        double elapsed = Math.max(0, now.toEpochMilli() - state[1]) / 1000.0;
        state[0] = Math.max(0, state[0] - elapsed * drainPerSecond);
        state[1] = now.toEpochMilli();
        if (state[0] + 1 > burst + 1e-9) {
            return false;
        }
        state[0] += 1;
        return true;
    }
}
