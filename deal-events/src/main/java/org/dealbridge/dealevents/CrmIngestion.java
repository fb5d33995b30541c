package org.dealbridge.dealevents;

import com.sun.net.httpserver.HttpHandler;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.function.LongConsumer;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.bitrix.crm.CrmApi;
import org.dealbridge.ingestion.BulkRead;
import org.dealbridge.ingestion.CursorStore;
import org.dealbridge.ingestion.FirstCursor;
import org.dealbridge.ingestion.Ingestion;
import org.dealbridge.ingestion.PollerLeadership;
import org.dealbridge.ingestion.PublishedVersions;
import org.dealbridge.ingestion.RefreshQueue;
import org.dealbridge.ingestion.Refresher;
import org.dealbridge.schemas.ChangeCause;
import org.dealbridge.schemas.ChangeSource;
import org.dealbridge.schemas.DealChanged;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CRM side of {@link Ingestion}: {@code /hooks/bitrix24} and its coalescing refresh queue, and the
 * {@code >DATE_MODIFY} poller ({@link CrmPoller}), both reading deals with {@link DealReader} and publishing them with
 * {@link DealPublisher}. The launcher mounts {@link #hookHandler()}, calls {@link #start()} (the poll cursor is stored
 * before the hook accepts a deal), and {@link #close()} on shutdown; it owns the deal producer.
 */
public final class CrmIngestion implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CrmIngestion.class);
    /** Deals a hook batch reads at once (in batch calls of {@link DealReader#DEALS_PER_BATCH}). */
    static final int HOOK_BATCH = 4 * DealReader.DEALS_PER_BATCH;
    /** Deals that may wait for a hook-triggered read; more are left to the poller (its cursor stays before them). */
    static final int HOOK_QUEUE_CAPACITY = 10_000;

    private final Ingestion ingestion;
    private final RefreshQueue queue;
    private final LongConsumer deletions;
    private final DealEventsConfig config;

    /**
     * @param cursors     closed with this ingestion
     * @param firstCursor where the poller starts when no cursor was ever stored
     */
    public CrmIngestion(DealEventsConfig config, BitrixClient crm, DealPublisher publisher, CursorStore cursors, OffsetDateTime firstCursor) {
        this(config, crm, publisher, cursors, firstCursor, null);
    }

    /**
     * @param leadership when not null, the poller runs only on the instance it elects (several instances of one
     *                   installation); the hook works on every instance
     */
    public CrmIngestion(DealEventsConfig config, BitrixClient crm, DealPublisher publisher, CursorStore cursors, OffsetDateTime firstCursor,
                        PollerLeadership leadership) {
        this(config, crm, publisher, cursors, FirstCursor.at(firstCursor), leadership);
    }

    /** @param firstCursor where the poller starts when no cursor was ever stored, by the CRM's clock ({@link FirstCursor#portalTimeMinus}) */
    public CrmIngestion(DealEventsConfig config, BitrixClient crm, DealPublisher publisher, CursorStore cursors, FirstCursor firstCursor,
                        PollerLeadership leadership) {
        this.config = config;
        DealReader reader = new DealReader(crm);
        PublishedVersions published = new PublishedVersions();
        this.queue = hookQueue(config, reader, publisher, published);
        this.deletions = deletions(publisher, queue);
        List<AutoCloseable> resources = cursors instanceof AutoCloseable closeable ? List.of(closeable) : List.of();
        this.ingestion = new Ingestion(queue, List.of(CrmPoller.create(new CrmApi(crm), reader, publisher, cursors, config, firstCursor, published)),
                resources, leadership);
    }

    /** The handler for {@code POST /hooks/bitrix24}; needs {@code crm.application-token}. */
    public HttpHandler hookHandler() {
        return new CrmHookHandler(config, queue, deletions);
    }

    public Ingestion ingestion() {
        return ingestion;
    }

    /** Stores or loads the poll cursor, opens the hook, starts the poller (the first poll runs at once). */
    public void start() {
        ingestion.start();
    }

    @Override
    public void close() {
        ingestion.close();
    }

    /**
     * The hook's queue: ids gathered for {@code crm.hook.coalesce-window}, so a burst of events for one deal (a manager
     * saving three times) becomes one read; then read in batch calls and published. It is opened by {@link #start()}.
     */
    public static RefreshQueue hookQueue(DealEventsConfig config, DealReader reader, DealPublisher publisher) {
        return hookQueue(config, reader, publisher, new PublishedVersions());
    }

    /** @param published what the CRM side put in Kafka lately, shared with the poller so it does not read those again */
    public static RefreshQueue hookQueue(DealEventsConfig config, DealReader reader, DealPublisher publisher, PublishedVersions published) {
        return new RefreshQueue(refresher(reader, publisher, ChangeSource.CRM_HOOK, published),
                new RefreshQueue.Settings("deal-refresh", config.coalesceWindow(), HOOK_BATCH, HOOK_QUEUE_CAPACITY)).bindTo(publisher.meters());
    }

    /** A deletion is published at once, without a read (the deal is gone), and answered once it is in Kafka. */
    public static LongConsumer deletions(DealPublisher publisher, RefreshQueue queue) {
        return dealId -> {
            queue.forget(dealId);
            publish(publisher, List.of(DealChanged.newBuilder().setDealId(dealId).setDeleted(true).setStageId("")
                    .setDateModify(Instant.now())
                    .setCause(ChangeCause.newBuilder().setSource(ChangeSource.CRM_HOOK).build()).build()));
        };
    }

    /**
     * Reads the deals in bulk ({@link BulkRead}, {@link DealReader#readAll}: 50 per {@code crm.deal.list}) and publishes
     * them, acknowledged, each chunk under its deals' locks ({@link PublishedVersions#readingAndSending}); a deal the
     * answer lacks no longer exists (logged and skipped). A deal that can never be read is
     * thrown, as before: the CRM side has no dead letters for deals, and its ids are read again.
     */
    static Refresher refresher(DealReader reader, DealPublisher publisher, ChangeSource source, PublishedVersions published) {
        return dealIds -> {
            List<DealChanged> found = new java.util.ArrayList<>();
            BulkRead.Handler<DealChanged> handler = new BulkRead.Handler<>() {
                @Override
                public void publish(long id, DealChanged deal) {
                    found.add(deal);
                }

                @Override
                public boolean gone(long id) {
                    log.info("deal {} named by {} no longer exists; nothing published", id, source);
                    return false;
                }

                @Override
                public void unreadable(long id, RuntimeException cause) {
                    throw cause;
                }

                @Override
                public void confirm() {
                    CrmIngestion.publish(publisher, List.copyOf(found));
                    found.forEach(deal -> published.published(deal.getDealId(), deal.getDateModify(), DealReader.content(deal), deal.getReadAt()));
                    found.clear();
                }
            };
            BulkRead<DealChanged> bulk = new BulkRead<>(ids -> reader.readAll(ids, source), handler, DealReader.DEALS_PER_BATCH);
            List<Long> ids = List.copyOf(new java.util.LinkedHashSet<>(dealIds));
            Refresher.Refreshed done = Refresher.Refreshed.NONE;
            for (int from = 0; from < ids.size(); from += DealReader.DEALS_PER_BATCH) {
                List<Long> chunk = ids.subList(from, Math.min(ids.size(), from + DealReader.DEALS_PER_BATCH));
                // the hook's queue and the poller each read and send a deal under its lock: the state read last is sent last
                done = done.plus(published.readingAndSending(chunk, () -> bulk.refresh(chunk)));
            }
            return done;
        };
    }

    private static void publish(DealPublisher publisher, List<DealChanged> deals) {
        try {
            publisher.publish(deals);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while publishing " + deals.size() + " deal(s)", e);
        }
    }
}
