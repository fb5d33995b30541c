package org.dealbridge.orderevents;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.dealbridge.bitrix.BitrixException;
import org.dealbridge.bitrix.store.SaleOrder;
import org.dealbridge.bitrix.store.StoreApi;
import org.dealbridge.schemas.ChangeSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reconciliation for the hook (online events are delivered once, never retried, reference §10.5): every
 * {@code store.poll-interval}, {@code sale.order.list} with {@code >dateUpdate} the cursor, every page, oldest first
 * (dateUpdate, id), walked by keyset ({@link StoreApi#listOrdersUpdatedSince}); each order is read in full and
 * published; then the producer is flushed; only then is the new cursor written to the compacted
 * {@code ingest-cursors} topic under {@code store-poll:{siteId}}. A crash anywhere before the cursor write re-reads
 * those orders on the next start (re-publishing full-state events is harmless), never skips them.
 *
 * <p>Overlap: {@code dateUpdate} has second precision, so an order saved later in the same second as the cursor has
 * the same {@code dateUpdate} and {@code >cursor} would miss it. The filter is therefore {@code >cursor - overlap}
 * (overlap at least 1 s); the price is that the orders of the cursor's last second are published again on every round
 * until a newer change moves the cursor.
 *
 * <p>Why keyset and not {@code start=50, 100...}: with offset pages, an order on an already-read page that is saved
 * during the walk moves to the end and every later order shifts one place forward, so one order would be skipped and
 * the cursor would move past it for good.
 *
 * <p>A poison order (missing, malformed) becomes a dead letter and the cursor moves past it. A retryable portal failure
 * ends the round: what was published so far is flushed and the cursor moves to the last order handled; the next round
 * resumes there.
 */
public final class StorePoller implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StorePoller.class);
    public static final String COMPONENT = "store-poller";
    /** Cursor text: ISO with seconds always written and the portal's own offset, e.g. {@code 2026-01-10T12:00:00+03:00}. */
    private static final DateTimeFormatter CURSOR_FORMAT = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ssxxx");

    /**
     * @param siteId       the store site polled ({@code lid})
     * @param pollInterval time between the end of one round and the start of the next
     * @param overlap      how far before the cursor each round starts; at least 1 s (dateUpdate precision)
     * @param firstCursor  where to start when no cursor was ever stored (history is the backfill's job)
     */
    public record Settings(String siteId, Duration pollInterval, Duration overlap, OffsetDateTime firstCursor) {
        public Settings {
            if (siteId == null || siteId.isBlank() || siteId.indexOf(':') >= 0) {
                throw new IllegalArgumentException("store poller siteId must be non-empty without ':', got '" + siteId + "'");
            }
            if (pollInterval == null || pollInterval.isNegative() || pollInterval.isZero()) {
                throw new IllegalArgumentException("store.poll-interval must be a positive duration, got " + pollInterval);
            }
            if (overlap == null || overlap.compareTo(Duration.ofSeconds(1)) < 0) {
                throw new IllegalArgumentException("store poll overlap must be at least 1 s (dateUpdate has second precision), got " + overlap);
            }
            Objects.requireNonNull(firstCursor, "firstCursor");
        }
    }

    /** What one round did. */
    public record Round(OffsetDateTime from, int listed, int published, int deadLettered, OffsetDateTime cursor, boolean interrupted) {
    }

    private final StoreApi store;
    private final OrderIngest ingest;
    private final CursorStore cursors;
    private final Settings settings;
    private final String cursorKey;
    private OffsetDateTime cursor;
    private volatile ScheduledExecutorService scheduler;

    public StorePoller(StoreApi store, OrderIngest ingest, CursorStore cursors, Settings settings) {
        this.store = Objects.requireNonNull(store, "store");
        this.ingest = Objects.requireNonNull(ingest, "ingest");
        this.cursors = Objects.requireNonNull(cursors, "cursors");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.cursorKey = cursorKey(settings.siteId());
    }

    public static String cursorKey(String siteId) {
        return "store-poll:" + siteId;
    }

    /** The cursor in force: loaded from the topic on first use. */
    public synchronized OffsetDateTime cursor() {
        if (cursor == null) {
            cursor = cursors.load(cursorKey).map(this::parseCursor).orElse(settings.firstCursor());
            log.info("store poller for site {} starts from cursor {}", settings.siteId(), cursor.format(CURSOR_FORMAT));
        }
        return cursor;
    }

    private OffsetDateTime parseCursor(String stored) {
        try {
            return OffsetDateTime.parse(stored, CURSOR_FORMAT);
        } catch (DateTimeParseException e) {
            throw new IllegalStateException("stored cursor " + cursorKey + " in topic ingest-cursors is not an ISO date-time with offset: '" + stored + "'", e);
        }
    }

    /** One round: list, read and publish, flush, then move the cursor. */
    public synchronized Round pollOnce() {
        OffsetDateTime from = cursor().minus(settings.overlap());
        List<SaleOrder> changed = latestPerOrder(store.listOrdersUpdatedSince(from, settings.siteId()));
        List<OrderIngest.Outcome> outcomes = new ArrayList<>(changed.size());
        OffsetDateTime handledUpTo = null;
        boolean interrupted = false;
        for (SaleOrder order : changed) {
            try {
                outcomes.add(ingest.ingest(order.id(), ChangeSource.STORE_POLL, COMPONENT, settings.siteId()));
            } catch (BitrixException e) {
                log.warn("store poll round for site {} stops at order {}: {}; the next round resumes there", settings.siteId(), order.id(), e.getMessage());
                interrupted = true;
                break;
            }
            if (order.dateUpdate() != null) {
                handledUpTo = order.dateUpdate();
            }
        }
        ingest.publisher().flush();
        int published = 0;
        for (OrderIngest.Outcome outcome : outcomes) {
            // a failed send throws here, before the cursor moves
            OrderPublisher.await(outcome.sent(), "order " + outcome.orderId());
            if (outcome.published()) {
                published++;
            }
        }
        if (handledUpTo != null && handledUpTo.isAfter(cursor)) {
            cursors.store(cursorKey, handledUpTo.format(CURSOR_FORMAT));
            cursor = handledUpTo;
        }
        Round round = new Round(from, changed.size(), published, outcomes.size() - published, cursor, interrupted);
        log.debug("store poll round for site {}: {}", settings.siteId(), round);
        return round;
    }

    // An order saved during the walk is listed twice (old and new dateUpdate); reading it once, at its later place,
    // keeps the list sorted and costs one read.
    private static List<SaleOrder> latestPerOrder(List<SaleOrder> changes) {
        java.util.Map<Long, Integer> last = new java.util.HashMap<>();
        for (int i = 0; i < changes.size(); i++) {
            last.put(changes.get(i).id(), i);
        }
        List<SaleOrder> out = new ArrayList<>(last.size());
        for (int i = 0; i < changes.size(); i++) {
            if (last.get(changes.get(i).id()) == i) {
                out.add(changes.get(i));
            }
        }
        return out;
    }

    /** Starts polling every {@code pollInterval} on a daemon thread; a failed round is logged and retried next time. */
    public synchronized void start() {
        if (scheduler != null) {
            throw new IllegalStateException("store poller already started");
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "store-poller-" + settings.siteId());
            t.setDaemon(true);
            return t;
        });
        long millis = settings.pollInterval().toMillis();
        scheduler.scheduleWithFixedDelay(() -> {
            try {
                pollOnce();
            } catch (RuntimeException e) {
                log.error("store poll round for site {} failed; the cursor stays at {}", settings.siteId(), cursor, e);
            }
        }, 0, millis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        ScheduledExecutorService s = scheduler;
        if (s != null) {
            s.shutdown();
            try {
                s.awaitTermination(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
