package org.dealbridge.orderevents;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Objects;
import org.dealbridge.bitrix.store.StoreApi;
import org.dealbridge.ingestion.Change;
import org.dealbridge.ingestion.ChangePoller;
import org.dealbridge.ingestion.CursorStore;
import org.dealbridge.ingestion.FirstCursor;
import org.dealbridge.schemas.ChangeSource;

/**
 * The store's side of the {@link ChangePoller}: per site, {@code sale.order.list} with {@code >dateUpdate} the cursor
 * minus the overlap, every page, oldest first (dateUpdate, id), walked by keyset ({@link StoreApi#listOrdersUpdatedSince});
 * the orders read in full, 50 per bulk read, and published ({@link OrderIngest#refresh}); the cursor under
 * {@code store-poll:{siteId}}. An order listed as it was published (same {@code dateUpdate}, same content:
 * {@link OrderReader#content}) is not read again.
 *
 * <p>Why keyset and not {@code start=50, 100...}: with offset pages, an order on an already-read page that is saved
 * during the walk moves to the end and every later order shifts one place forward, so one order would be skipped and
 * the cursor would move past it for good.
 *
 * <p>A poison order (missing, malformed) becomes a dead letter and the cursor moves past it; a failure that may pass
 * ({@link org.dealbridge.ingestion.ReadFailures#waits}) ends the round before that order (the next one resumes there).
 */
public final class StorePoller {
    public static final String COMPONENT = "store-poller";
    /** Orders read (one bulk read) and sent before the producer is flushed and the cursor may move. */
    static final int BATCH = OrderIngest.BULK;

    /**
     * @param siteId       the store site polled ({@code lid})
     * @param pollInterval time between the end of one round and the start of the next
     * @param overlap      how far before the cursor each round starts; at least 1 s (dateUpdate precision)
     * @param firstCursor  where to start when no cursor was ever stored (history is the backfill's job), by the store's clock
     */
    public record Settings(String siteId, Duration pollInterval, Duration overlap, FirstCursor firstCursor) {
        public Settings(String siteId, Duration pollInterval, Duration overlap, OffsetDateTime firstCursor) {
            this(siteId, pollInterval, overlap, FirstCursor.at(firstCursor));
        }

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

    private StorePoller() {
    }

    public static String cursorKey(String siteId) {
        return "store-poll:" + siteId;
    }

    /** The poller of one site. */
    public static ChangePoller create(StoreApi store, OrderIngest ingest, CursorStore cursors, Settings settings) {
        String site = settings.siteId();
        return new ChangePoller(
                from -> store.listOrdersUpdatedSince(from, site).stream()
                        .map(o -> new Change(o.id(), o.dateUpdate(), OrderReader.listedContent(o))).toList(),
                orderIds -> ingest.refresh(orderIds, ChangeSource.STORE_POLL, COMPONENT, site),
                cursors,
                new ChangePoller.Settings("store-poller-" + site, cursorKey(site), settings.pollInterval(), settings.overlap(),
                        settings.firstCursor(), BATCH), ingest.publishedVersions());
    }
}
