package org.dealbridge.orderevents;

import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Order ids waiting to be re-read, each at most once while it waits. The store fires ONSALEORDERSAVED on every save
 * (a checkout saves an order several times), and every event only names the order; reading the order once after the
 * burst gives the same final state as reading it for every event. So a burst of N events for one order that arrives
 * while the worker reads it costs at most two reads: the one in progress and one queued.
 *
 * <p>One worker thread drains the ids in arrival order and hands each to the refresher, which reads and publishes
 * the order and deals with its own failures. When {@code capacity} ids are waiting, new ids are dropped with a WARN:
 * the store poller re-reads every changed order anyway, the hook only makes it faster.
 */
public final class OrderRefreshQueue implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(OrderRefreshQueue.class);

    /** What became of a submitted id. */
    public enum Submitted { QUEUED, ALREADY_PENDING, DROPPED_FULL }

    private final LongConsumer refresher;
    private final int capacity;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    private final Condition idle = lock.newCondition();
    private final LinkedHashSet<Long> pending = new LinkedHashSet<>();
    private final Thread worker;
    private boolean busy;
    private volatile boolean closed;

    public OrderRefreshQueue(LongConsumer refresher, int capacity) {
        this.refresher = Objects.requireNonNull(refresher, "refresher");
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
        }
        this.capacity = capacity;
        this.worker = new Thread(this::drain, "store-order-refresh");
        this.worker.setDaemon(true);
        this.worker.start();
    }

    public Submitted submit(long orderId) {
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("order refresh queue is closed");
            }
            if (pending.contains(orderId)) {
                return Submitted.ALREADY_PENDING;
            }
            if (pending.size() >= capacity) {
                log.warn("order refresh queue is full ({} orders waiting); order {} is left to the store poller", capacity, orderId);
                return Submitted.DROPPED_FULL;
            }
            pending.add(orderId);
            notEmpty.signal();
            return Submitted.QUEUED;
        } finally {
            lock.unlock();
        }
    }

    /** Ids waiting (not counting the one being read). */
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
            while (busy || !pending.isEmpty()) {
                if (nanos <= 0) {
                    return false;
                }
                nanos = idle.awaitNanos(nanos);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    private void drain() {
        while (!closed) {
            long orderId;
            lock.lock();
            try {
                while (pending.isEmpty() && !closed) {
                    notEmpty.await();
                }
                if (closed) {
                    return;
                }
                Iterator<Long> first = pending.iterator();
                orderId = first.next();
                first.remove(); // from now on a new event for this order queues a second read
                busy = true;
            } catch (InterruptedException e) {
                return;
            } finally {
                lock.unlock();
            }
            try {
                refresher.accept(orderId);
            } catch (RuntimeException e) {
                log.error("refreshing store order {} failed", orderId, e);
            } finally {
                lock.lock();
                try {
                    busy = false;
                    if (pending.isEmpty()) {
                        idle.signalAll();
                    }
                } finally {
                    lock.unlock();
                }
            }
        }
    }

    /** Stops the worker after the order it is reading; ids still waiting are left to the poller. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            notEmpty.signalAll();
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
