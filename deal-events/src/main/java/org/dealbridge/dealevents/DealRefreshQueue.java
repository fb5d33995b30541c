package org.dealbridge.dealevents;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.dealbridge.schemas.ChangeCause;
import org.dealbridge.schemas.ChangeSource;
import org.dealbridge.schemas.DealChanged;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deals named by hook events, waiting to be read. Ids are gathered for one coalesce window, so a burst of events for
 * one deal (a manager saving three times) becomes one read; then all pending deals are read in batch calls and
 * published. A deletion is published at once, without a read (the deal is gone). When a read fails, the ids stay
 * pending for the next round; the poller covers whatever a crash loses.
 */
public final class DealRefreshQueue implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(DealRefreshQueue.class);

    /** What happened to a submitted id. */
    public enum Submitted { QUEUED, ALREADY_QUEUED }

    private final DealReader reader;
    private final DealPublisher publisher;
    private final Set<Long> pending = new LinkedHashSet<>();
    private final ScheduledExecutorService worker;
    private volatile boolean closed;

    public DealRefreshQueue(DealReader reader, DealPublisher publisher, DealEventsConfig config) {
        this.reader = reader;
        this.publisher = publisher;
        this.worker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "deal-refresh");
            t.setDaemon(true);
            return t;
        });
        long window = Math.max(1, config.coalesceWindow().toMillis());
        worker.scheduleWithFixedDelay(this::drain, window, window, TimeUnit.MILLISECONDS);
    }

    /** @throws IllegalStateException when closed */
    public synchronized Submitted submit(long dealId) {
        if (closed) {
            throw new IllegalStateException("refresh queue is closed");
        }
        return pending.add(dealId) ? Submitted.QUEUED : Submitted.ALREADY_QUEUED;
    }

    /** Publishes a deletion now: the deal cannot be read any more. */
    public void deleted(long dealId) throws InterruptedException {
        synchronized (this) {
            pending.remove(dealId);
        }
        publisher.publish(List.of(DealChanged.newBuilder().setDealId(dealId).setDeleted(true).setStageId("")
                .setDateModify(Instant.now())
                .setCause(ChangeCause.newBuilder().setSource(ChangeSource.CRM_HOOK).build()).build()));
    }

    synchronized int pending() {
        return pending.size();
    }

    private void drain() {
        List<Long> ids;
        synchronized (this) {
            if (pending.isEmpty()) {
                return;
            }
            ids = new ArrayList<>(pending);
            pending.clear();  // an event arriving during the read queues the deal again: it changed after the read began
        }
        try {
            Map<Long, Optional<DealChanged>> read = reader.read(ids, ChangeSource.CRM_HOOK);
            List<DealChanged> found = read.values().stream().flatMap(Optional::stream).toList();
            publisher.publish(found);
            read.forEach((id, deal) -> {
                if (deal.isEmpty()) {
                    log.info("deal {} named by a hook no longer exists; nothing published", id);
                }
            });
        } catch (InterruptedException e) {
            requeue(ids);
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            requeue(ids);
            log.warn("reading {} deal(s) named by hooks failed; they stay queued: {}", ids.size(), e.getMessage());
        }
    }

    private synchronized void requeue(List<Long> ids) {
        pending.addAll(ids);
    }

    @Override
    public void close() {
        closed = true;
        worker.shutdown();
        try {
            worker.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
