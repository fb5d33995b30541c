package org.dealbridge.emulator;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * The cloud's per-method operating-time limit: execution seconds of each method are summed in one-minute buckets over
 * a sliding 10 minutes; once the sum exceeds the limit, the next call of that method is refused with 429
 * {@code OPERATION_TIME_LIMIT} (the call that crossed the limit still completed). Off unless a limit is configured.
 */
final class OperatingTimeLimiter {
    private static final long WINDOW_SECONDS = 600;
    private final Clock clock;
    private volatile Duration limit;
    private final Map<String, Deque<long[]>> buckets = new HashMap<>(); // method -> {minuteEpochSecond, micros}
    private final Map<String, Duration> extraCost = new HashMap<>();

    OperatingTimeLimiter(Clock clock, Duration limit) {
        this.clock = clock;
        this.limit = limit;
    }

    boolean enabled() {
        return limit != null;
    }

    void limit(Duration limit) {
        this.limit = limit;
    }

    synchronized void chargeExtra(String method, Duration perCall) {
        extraCost.put(method, perCall);
    }

    synchronized boolean blocked(String method) {
        return limit != null && operatingSeconds(method) > limit.toMillis() / 1000.0;
    }

    synchronized void record(String method, long processingNanos) {
        if (limit == null) {
            return;
        }
        long micros = processingNanos / 1000 + extraCost.getOrDefault(method, Duration.ZERO).toNanos() / 1000;
        long minute = clock.instant().getEpochSecond() / 60 * 60;
        Deque<long[]> deque = buckets.computeIfAbsent(method, m -> new ArrayDeque<>());
        long[] last = deque.peekLast();
        if (last != null && last[0] == minute) {
            last[1] += micros;
        } else {
            deque.addLast(new long[] {minute, micros});
        }
    }

    synchronized double operatingSeconds(String method) {
        Deque<long[]> deque = buckets.get(method);
        if (deque == null) {
            return 0;
        }
        long now = clock.instant().getEpochSecond();
        while (!deque.isEmpty() && deque.peekFirst()[0] + WINDOW_SECONDS <= now) {
            deque.removeFirst();
        }
        long micros = 0;
        for (long[] b : deque) {
            micros += b[1];
        }
        return micros / 1_000_000.0;
    }

    synchronized long resetAt(String method) {
        Deque<long[]> deque = buckets.get(method);
        long now = clock.instant().getEpochSecond();
        return deque == null || deque.isEmpty() ? now + WINDOW_SECONDS : deque.peekFirst()[0] + WINDOW_SECONDS;
    }
}
