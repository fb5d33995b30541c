package org.dealbridge.ingestion;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ids named by hook events, waiting to be refreshed, each at most once while it waits. A portal fires an event on
 * every save and every event only names the record, so reading it once after the burst gives the same final state as
 * reading it for every event: a burst of N events for one record that arrives while it is read costs at most two
 * reads, the one in progress and one queued.
 *
 * <p>One worker waits {@code coalesceWindow} after an id arrives (so the burst gathers), then hands up to
 * {@code batchSize} ids, in arrival order, to the {@link Refresher}. When the refresher throws, the ids are queued
 * again (ahead of newer ones) and the worker pauses before the next try. When {@code capacity} ids wait, new ones are
 * dropped with a WARN: the poller re-reads every changed record anyway, the hook only makes it faster.
 *
 * <p>Nothing here is durable: what the queue holds when the process dies is recovered by the poller, whose cursor is
 * stored before the queue {@link #open() opens} (see {@link Ingestion}).
 */
public final class RefreshQueue implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RefreshQueue.class);

    /** What became of a submitted id. */
    public enum Submitted { QUEUED, ALREADY_PENDING, DROPPED_FULL }

    /**
     * @param name           for logs and the worker thread, e.g. {@code store-order-refresh}
     * @param coalesceWindow how long ids gather before they are read (zero: at once)
     * @param batchSize      most ids handed to the refresher at once
     * @param capacity       most ids waiting; more are left to the poller
     * @param retryPause     pause after a failed refresh
     */
    public record Settings(String name, Duration coalesceWindow, int batchSize, int capacity, Duration retryPause) {
        public Settings {
            Objects.requireNonNull(name, "name");
            if (coalesceWindow == null || coalesceWindow.isNegative()) {
                throw new IllegalArgumentException(name + ": the coalesce window must be zero or positive, got " + coalesceWindow);
            }
            if (batchSize < 1 || capacity < 1) {
                throw new IllegalArgumentException(name + ": batch size and capacity must be >= 1, got " + batchSize + " and " + capacity);
            }
            Objects.requireNonNull(retryPause, "retryPause");
        }
    }

    private final Refresher refresher;
    private final Settings settings;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Condition closing = lock.newCondition();
    private final LinkedHashSet<Long> pending = new LinkedHashSet<>();
    private final Thread worker;
    private int inFlight;
    private boolean open;
    private boolean closed;

    /** The queue starts closed to submissions: {@link #open()} it once the poll cursors are stored. */
    public RefreshQueue(Refresher refresher, Settings settings) {
        this.refresher = Objects.requireNonNull(refresher, "refresher");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.worker = new Thread(this::drain, settings.name());
        this.worker.setDaemon(true);
        this.worker.start();
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
            if (pending.contains(id)) {
                return Submitted.ALREADY_PENDING;
            }
            if (pending.size() >= settings.capacity()) {
                log.warn("{} is full ({} ids waiting); {} is left to the poller", settings.name(), settings.capacity(), id);
                return Submitted.DROPPED_FULL;
            }
            pending.add(id);
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
            List<Long> batch = next();
            if (batch == null) {
                return;
            }
            boolean failed = false;
            try {
                refresher.refresh(batch);
            } catch (RuntimeException e) {
                failed = true;
                log.warn("{}: refreshing {} id(s) failed, they stay queued: {}", settings.name(), batch.size(), e.toString());
            }
            lock.lock();
            try {
                inFlight = 0;
                if (failed && !closed) {
                    // ahead of newer ids, keeping their order; an id submitted again meanwhile stays once
                    LinkedHashSet<Long> again = new LinkedHashSet<>(batch);
                    again.addAll(pending);
                    pending.clear();
                    pending.addAll(again);
                }
                changed.signalAll();
                if (failed) {
                    pause(settings.retryPause());
                }
            } finally {
                lock.unlock();
            }
        }
    }

    /** The next batch, after the coalesce window; null once closed. */
    private List<Long> next() {
        lock.lock();
        try {
            while (pending.isEmpty() && !closed) {
                changed.awaitUninterruptibly();
            }
            pause(settings.coalesceWindow());
            if (closed) {
                return null;
            }
            List<Long> batch = new ArrayList<>(Math.min(settings.batchSize(), pending.size()));
            // from now on a new event for one of these ids queues a second read: it changed after the read began
            for (Iterator<Long> it = pending.iterator(); it.hasNext() && batch.size() < settings.batchSize(); ) {
                batch.add(it.next());
                it.remove();
            }
            inFlight = batch.size();
            return batch;
        } finally {
            lock.unlock();
        }
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
