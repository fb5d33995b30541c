package org.dealbridge.emulator;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Fault injection per portal and method (method names are case-insensitive; {@code "*"} means any method).
 * Faults act on whole HTTP calls; a fault on a method called inside a {@code batch} turns HTTP_500/503/502 into that
 * command's {@code result_error}, while TIMEOUT, DROP and APPLY_THEN_DROP cut the whole batch at that command, and a
 * slow method delays the batch while that command runs.
 */
public final class Faults {
    private final Clock clock;
    private final Map<Portal, Map<String, Deque<Fault>>> pending = new EnumMap<>(Portal.class);
    private final Map<Portal, Map<String, Duration>> slow = new EnumMap<>(Portal.class);
    private final Map<Portal, Instant> outageUntil = new EnumMap<>(Portal.class);
    private final Map<Portal, Fault> outageFault = new EnumMap<>(Portal.class);
    private final Map<Portal, Map<String, Deque<Runnable>>> afterCall = new EnumMap<>(Portal.class);

    Faults(Clock clock) {
        this.clock = clock;
        for (Portal p : Portal.values()) {
            pending.put(p, new HashMap<>());
            slow.put(p, new HashMap<>());
            afterCall.put(p, new HashMap<>());
        }
    }

    /**
     * Right after the next call of {@code method} on {@code portal} is served (a command inside a {@code batch} too),
     * {@code action} runs before anything else is served: what a person does in the portal between two of a client's
     * calls, placed exactly (a read that spans several calls sees the change in the middle). Runs once.
     */
    public synchronized void afterNext(Portal portal, String method, Runnable action) {
        Objects.requireNonNull(action, "action");
        afterCall.get(portal).computeIfAbsent(key(method), k -> new ArrayDeque<>()).add(action);
    }

    synchronized Runnable takeAfterCall(Portal portal, String method) {
        Deque<Runnable> q = afterCall.get(portal).get(key(method));
        return q == null ? null : q.poll();
    }

    /** The next {@code n} calls of {@code method} on either portal fail with {@code fault}. */
    public void failNext(String method, int n, Fault fault) {
        for (Portal p : Portal.values()) {
            failNext(p, method, n, fault);
        }
    }

    public synchronized void failNext(Portal portal, String method, int n, Fault fault) {
        Objects.requireNonNull(fault, "fault");
        if (n < 1) {
            throw new IllegalArgumentException("failNext: n must be positive, got " + n);
        }
        Deque<Fault> queue = pending.get(portal).computeIfAbsent(key(method), k -> new ArrayDeque<>());
        for (int i = 0; i < n; i++) {
            queue.add(fault);
        }
    }

    /** Every call of {@code method} on either portal waits {@code delay} before it is served. */
    public void slow(String method, Duration delay) {
        for (Portal p : Portal.values()) {
            slow(p, method, delay);
        }
    }

    public synchronized void slow(Portal portal, String method, Duration delay) {
        Objects.requireNonNull(delay, "delay");
        slow.get(portal).put(key(method), delay);
    }

    /**
     * Every call to {@code portal} fails with {@code fault} until {@code duration} has passed on the emulator's clock:
     * HTTP_500, HTTP_503 or HTTP_502_HTML answer at once, TIMEOUT holds every socket for the emulator's timeout hold
     * and then drops it, DROP closes every connection without an answer; nothing is applied. (Refused connections,
     * a closed port, are {@link BitrixEmulator#refuseConnections}.)
     */
    public synchronized void outage(Portal portal, Duration duration, Fault fault) {
        Objects.requireNonNull(fault, "fault");
        if (fault == Fault.APPLY_THEN_DROP) {
            throw new IllegalArgumentException("outage: fault must be HTTP_500, HTTP_503, HTTP_502_HTML, TIMEOUT or DROP, got " + fault);
        }
        outageUntil.put(portal, clock.instant().plus(duration));
        outageFault.put(portal, fault);
    }

    public synchronized void endOutage(Portal portal) {
        outageUntil.remove(portal);
        outageFault.remove(portal);
    }

    /** Removes every pending fault, slowness and outage on both portals. */
    public synchronized void clear() {
        for (Portal p : Portal.values()) {
            clear(p);
        }
    }

    public synchronized void clear(Portal portal) {
        pending.get(portal).clear();
        slow.get(portal).clear();
        afterCall.get(portal).clear();
        endOutage(portal);
    }

    /** How many injected faults are still waiting for a call of {@code method}. */
    public synchronized int pending(Portal portal, String method) {
        Deque<Fault> q = pending.get(portal).get(key(method));
        return q == null ? 0 : q.size();
    }

    synchronized Fault take(Portal portal, String method) {
        Deque<Fault> q = pending.get(portal).get(key(method));
        if (q == null || q.isEmpty()) {
            q = pending.get(portal).get("*");
        }
        return q == null ? null : q.poll();
    }

    synchronized Duration slowness(Portal portal, String method) {
        Duration d = slow.get(portal).get(key(method));
        return d != null ? d : slow.get(portal).get("*");
    }

    synchronized Fault outage(Portal portal) {
        Instant until = outageUntil.get(portal);
        if (until == null) {
            return null;
        }
        if (!clock.instant().isBefore(until)) {
            endOutage(portal);
            return null;
        }
        return outageFault.get(portal);
    }

    private static String key(String method) {
        Objects.requireNonNull(method, "method");
        String m = method.toLowerCase(Locale.ROOT);
        return m.endsWith(".json") ? m.substring(0, m.length() - 5) : m;
    }
}
