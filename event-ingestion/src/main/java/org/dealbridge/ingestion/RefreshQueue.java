package org.dealbridge.ingestion;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.dealbridge.retry.RetryPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ids named by hook events, waiting to be refreshed, each at most once while it waits. A portal fires an event on
 * every save and every event only names the record, so reading it once after the burst gives the same final state as
 * reading it for every event: a burst of N events for one record that arrives while it is read costs at most two
 * reads, the one in progress and one queued.
 *
 * <p>One worker waits {@code coalesceWindow} after an id arrives (so the burst gathers), then hands up to
 * {@code batchSize} ids, in arrival order, to the {@link Refresher}.
 *
 * <p><b>A failed refresh waits; it is never given up.</b> The refresher dead-letters what can never be read (the
 * record is malformed or refused for good) and throws for what may work later: refused connections, timeouts, 5xx,
 * HTML error pages, rate refusals, a webhook refused until an operator acts. The ids of a batch that threw stay queued
 * (where they were, ahead of newer ones, and coalesced with later events for them) and are read again after a backoff
 * of their own, growing with their failures ({@code initialBackoff} doubling, ±50 % jitter, at most
 * {@code maxBackoff}); meanwhile other ids are read, so one record that keeps failing does not hold the others. When
 * refreshes fail one after another the portal itself is likely down, so the whole queue pauses too, by the same
 * growing backoff: one read probes the portal per pause instead of every id hammering it. The first read that works
 * ends that pause, and then every id that waited is read without waiting out its own backoff.
 * {@link ReadFailureListener}s hear when reads fail one after another (the portal is likely down: unreachable,
 * refusing) and when one works again; one record failing while others are read is only logged.
 *
 * <p>The queue is bounded: when {@code capacity} ids wait, new ones are dropped with a WARN (the hook still answers
 * 200). The poller covers them: it publishes every record it lists before its cursor moves past it, and its round
 * stops at a record it cannot read, so a dropped record is in Kafka or after the stored cursor.
 *
 * <p>Nothing here is durable: what the queue holds when the process dies is recovered by the poller, whose cursor is
 * stored before the queue {@link #open() opens} (see {@link Ingestion}).
 */
public final class RefreshQueue implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RefreshQueue.class);
    /** Gauge: ids accepted and not yet in Kafka (waiting or being read), by {@code queue}. */
    public static final String READS_WAITING = "dealbridge.ingest.reads.waiting";
    /** Gauge: of those, ids whose last read failed and that wait to be read again, by {@code queue}. */
    public static final String READS_RETRYING = "dealbridge.ingest.reads.retrying";
    public static final Duration DEFAULT_INITIAL_BACKOFF = Duration.ofSeconds(1);
    /** A record whose portal was down is read again at most this long after the portal is back. */
    public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(60);

    /** What became of a submitted id. */
    public enum Submitted { QUEUED, ALREADY_PENDING, DROPPED_FULL }

    /**
     * @param name           for logs, metrics and the worker thread, e.g. {@code store-order-refresh}
     * @param coalesceWindow how long ids gather before they are read (zero: at once)
     * @param batchSize      most ids handed to the refresher at once
     * @param capacity       most ids waiting; more are left to the poller
     * @param initialBackoff wait after the first failed refresh of an id (and of the queue); doubles per failure
     * @param maxBackoff     longest wait between two reads of an id that fails, and longest pause of the queue
     */
    public record Settings(String name, Duration coalesceWindow, int batchSize, int capacity, Duration initialBackoff, Duration maxBackoff) {
        public Settings {
            Objects.requireNonNull(name, "name");
            if (coalesceWindow == null || coalesceWindow.isNegative()) {
                throw new IllegalArgumentException(name + ": the coalesce window must be zero or positive, got " + coalesceWindow);
            }
            if (batchSize < 1 || capacity < 1) {
                throw new IllegalArgumentException(name + ": batch size and capacity must be >= 1, got " + batchSize + " and " + capacity);
            }
            new RetryPolicy(1, initialBackoff, maxBackoff);  // refuses a missing, zero or negative backoff, naming it
        }

        /** The defaults for the backoffs. */
        public Settings(String name, Duration coalesceWindow, int batchSize, int capacity) {
            this(name, coalesceWindow, batchSize, capacity, DEFAULT_INITIAL_BACKOFF, DEFAULT_MAX_BACKOFF);
        }
    }

    /** An id waiting: how often its read failed in a row, and not before when it is read again (nanoTime). */
    private record Waiting(int failures, long notBefore) {
        static final Waiting NEW = new Waiting(0, 0);

        boolean due(long now) {
            return failures == 0 || now - notBefore >= 0;
        }
    }

    private final Refresher refresher;
    private final Settings settings;
    /** Unbounded attempts: a read that may work later is never given up, only spaced out. */
    private final RetryPolicy backoff;
    private final List<ReadFailureListener> listeners = new CopyOnWriteArrayList<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Condition closing = lock.newCondition();
    private final LinkedHashMap<Long, Waiting> pending = new LinkedHashMap<>();
    private final Thread worker;
    private int inFlight;
    /**
     * Refreshes failing one after another from which the portal is taken to be down (listeners hear it; its return
     * makes every waiting id due): one alone may be one record's trouble, and the ids that did not just fail go next.
     */
    static final int PORTAL_DOWN_AFTER = 2;
    /** Refreshes that failed one after another; 0 after one that worked. */
    private int failingInARow;
    private long failingSince;
    private boolean open;
    private boolean closed;

    /** The queue starts closed to submissions: {@link #open()} it once the poll cursors are stored. */
    public RefreshQueue(Refresher refresher, Settings settings) {
        this.refresher = Objects.requireNonNull(refresher, "refresher");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.backoff = new RetryPolicy(Integer.MAX_VALUE, settings.initialBackoff(), settings.maxBackoff());
        this.worker = new Thread(this::drain, settings.name());
        this.worker.setDaemon(true);
        this.worker.start();
    }

    public Settings settings() {
        return settings;
    }

    /** Tells {@code listener} when refreshes start failing and when they work again. */
    public RefreshQueue addListener(ReadFailureListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
        return this;
    }

    /** Registers the gauges {@link #READS_WAITING} and {@link #READS_RETRYING}, tagged {@code queue} = the name. */
    public RefreshQueue bindTo(MeterRegistry registry) {
        Gauge.builder(READS_WAITING, this, RefreshQueue::waiting).tag("queue", settings.name())
                .description("Records named by hook events and not yet in Kafka (waiting to be read or being read)").register(registry);
        Gauge.builder(READS_RETRYING, this, RefreshQueue::retrying).tag("queue", settings.name())
                .description("Records whose last read failed (portal unreachable or refusing); they are read again after a backoff")
                .register(registry);
        return this;
    }

    /** From now on ids are accepted. */
    public void open() {
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException(settings.name() + " is closed");
            }
            open = true;
        } finally {
            lock.unlock();
        }
    }

    /** @throws IllegalStateException before {@link #open()} and after {@link #close()}: the caller answers 503 */
    public Submitted submit(long id) {
        lock.lock();
        try {
            if (!open || closed) {
                throw new IllegalStateException(settings.name() + (closed ? " is closed" : " is not open yet"));
            }
            if (pending.containsKey(id)) {
                return Submitted.ALREADY_PENDING;
            }
            if (pending.size() >= settings.capacity()) {
                log.warn("{} is full ({} ids waiting); {} is left to the poller", settings.name(), settings.capacity(), id);
                return Submitted.DROPPED_FULL;
            }
            pending.put(id, Waiting.NEW);
            changed.signalAll();
            return Submitted.QUEUED;
        } finally {
            lock.unlock();
        }
    }

    /** Drops an id that no longer needs a read (e.g. the record was deleted). */
    public void forget(long id) {
        lock.lock();
        try {
            pending.remove(id);
        } finally {
            lock.unlock();
        }
    }

    /** Ids waiting (not counting those being read). */
    public int pending() {
        lock.lock();
        try {
            return pending.size();
        } finally {
            lock.unlock();
        }
    }

    /** Ids waiting or being read: accepted and not yet in Kafka. */
    public int waiting() {
        lock.lock();
        try {
            return pending.size() + inFlight;
        } finally {
            lock.unlock();
        }
    }

    /** Ids waiting because their last read failed. */
    public int retrying() {
        lock.lock();
        try {
            return (int) pending.values().stream().filter(w -> w.failures() > 0).count();
        } finally {
            lock.unlock();
        }
    }

    /** Waits until nothing is waiting or being read; false on timeout. For shutdown and tests. */
    public boolean awaitIdle(long timeout, TimeUnit unit) throws InterruptedException {
        long nanos = unit.toNanos(timeout);
        lock.lock();
        try {
            while (inFlight > 0 || !pending.isEmpty()) {
                if (nanos <= 0) {
                    return false;
                }
                nanos = changed.awaitNanos(nanos);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    private void drain() {
        while (true) {
            Map<Long, Waiting> batch = next();
            if (batch == null) {
                return;
            }
            RuntimeException failure = null;
            try {
                refresher.refresh(List.copyOf(batch.keySet()));
            } catch (RuntimeException e) {
                failure = e;
            }
            if (failure == null) {
                succeeded();
            } else {
                failed(batch, failure);
            }
        }
    }

    private void succeeded() {
        long failedFor;
        boolean portalWasDown;
        lock.lock();
        try {
            inFlight = 0;
            failedFor = failingInARow > 0 ? System.nanoTime() - failingSince : -1;
            portalWasDown = failingInARow >= PORTAL_DOWN_AFTER;
            if (portalWasDown) {
                // the portal is back: what waited for it is read now rather than after its own backoff (one record that
                // keeps failing while others are read never gets here)
                long now = System.nanoTime();
                pending.replaceAll((id, w) -> w.failures() == 0 ? w : new Waiting(w.failures(), now));
            }
            failingInARow = 0;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (failedFor >= 0) {
            log.info("{}: reads work again after failing for {} ms", settings.name(), TimeUnit.NANOSECONDS.toMillis(failedFor));
        }
        if (portalWasDown) {
            listeners.forEach(l -> l.readsRecovered(settings.name(), Duration.ofNanos(failedFor)));
        }
    }

    private void failed(Map<Long, Waiting> batch, RuntimeException failure) {
        boolean first;
        boolean portalDown;
        Duration pause;
        lock.lock();
        try {
            inFlight = 0;
            first = failingInARow == 0;
            long now = System.nanoTime();
            if (first) {
                failingSince = now;
            }
            failingInARow++;
            portalDown = failingInARow == PORTAL_DOWN_AFTER;
            pause = backoff.delayAfter(failingInARow);
            if (!closed) {
                // back where they were, ahead of newer ids; an id submitted again meanwhile is read once, on this schedule
                LinkedHashMap<Long, Waiting> again = new LinkedHashMap<>();
                // due only after the queue's pause and a backoff of their own, so the ids that did not just fail go first
                long pauseEnds = now + pause.toNanos();
                batch.forEach((id, w) -> again.put(id, new Waiting(w.failures() + 1, pauseEnds + backoff.delayAfter(w.failures() + 1).toNanos())));
                pending.keySet().removeAll(again.keySet());
                again.putAll(pending);
                pending.clear();
                pending.putAll(again);
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        String ids = batch.size() == 1 ? "id " + batch.keySet().iterator().next() : batch.size() + " ids";
        if (first) {
            log.warn("{}: reading {} failed; it waits and is read again (no dead letter): {}", settings.name(), ids, failure.toString());
        } else {
            log.info("{}: reading {} failed again ({} in a row), pausing {} ms: {}", settings.name(), ids, failingInARow, pause.toMillis(),
                    failure.toString());
        }
        if (portalDown) {
            listeners.forEach(l -> l.readsFailing(settings.name(), failure));
        }
        lock.lock();
        try {
            pause(pause);  // the portal may be down: probe it once per pause rather than with every id
        } finally {
            lock.unlock();
        }
    }

    /** The next batch of ids due, after the coalesce window; null once closed. */
    private Map<Long, Waiting> next() {
        lock.lock();
        try {
            while (true) {
                if (closed) {
                    return null;
                }
                if (pending.isEmpty()) {
                    changed.awaitUninterruptibly();
                    continue;
                }
                long wait = untilDue(System.nanoTime());
                if (wait > 0) {
                    // every id waits on a failure of its own; a new id (due at once) wakes the worker early
                    changed.awaitNanos(wait);
                    continue;
                }
                pause(settings.coalesceWindow());
                if (closed) {
                    return null;
                }
                long now = System.nanoTime();
                Map<Long, Waiting> batch = new LinkedHashMap<>();
                // from now on a new event for one of these ids queues a second read: it changed after the read began
                for (Iterator<Map.Entry<Long, Waiting>> it = pending.entrySet().iterator(); it.hasNext() && batch.size() < settings.batchSize(); ) {
                    Map.Entry<Long, Waiting> e = it.next();
                    if (e.getValue().due(now)) {
                        batch.put(e.getKey(), e.getValue());
                        it.remove();
                    }
                }
                if (batch.isEmpty()) {
                    continue;  // forgotten during the window
                }
                inFlight = batch.size();
                return batch;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } finally {
            lock.unlock();
        }
    }

    /** Nanos until the first id is due (0 or less: one is due now). */
    private long untilDue(long now) {
        long soonest = Long.MAX_VALUE;
        for (Waiting w : pending.values()) {
            if (w.due(now)) {
                return 0;
            }
            soonest = Math.min(soonest, w.notBefore() - now);
        }
        return soonest;
    }

    // waits with the lock released, woken early only by close()
    private void pause(Duration duration) {
        long nanos = duration.toNanos();
        while (nanos > 0 && !closed) {
            try {
                nanos = closing.awaitNanos(nanos);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Stops the worker after the batch it is reading; ids still waiting are left to the poller. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            changed.signalAll();
            closing.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            worker.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
