package org.dealbridge.orderevents;

import com.sun.net.httpserver.HttpHandler;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.dealbridge.bitrix.store.StoreApi;
import org.dealbridge.ingestion.ChangePoller;
import org.dealbridge.ingestion.Ingestion;
import org.dealbridge.ingestion.KafkaCursorStore;
import org.dealbridge.ingestion.PollerLeadership;
import org.dealbridge.ingestion.ReadFailureListener;
import org.dealbridge.ingestion.RefreshQueue;
import org.dealbridge.schemas.ChangeSource;
import org.dealbridge.schemas.Topics;

/**
 * The store side of {@link Ingestion}: one publisher, the catalog cache, the hook's refresh queue and handler, and one
 * poller per site. The launcher mounts {@link #hookHandler()} at {@code /hooks/store}, calls {@link #start()} (every
 * site's cursor is stored before the hook accepts an order), and {@link #close()} on shutdown.
 */
public final class StoreIngestion implements AutoCloseable {
    private final Ingestion ingestion;
    private final StoreHookHandler hookHandler;

    public StoreIngestion(StoreIngestionConfig config, StoreApi store, Map<String, Object> kafkaClientConfig, Topics topics,
                          MeterRegistry meterRegistry, Clock clock) {
        this(config, store, kafkaClientConfig, topics, meterRegistry, clock, null);
    }

    /**
     * @param leadership when not null, the pollers run only on the instance it elects (several instances of one
     *                   installation); the hook works on every instance
     */
    public StoreIngestion(StoreIngestionConfig config, StoreApi store, Map<String, Object> kafkaClientConfig, Topics topics,
                          MeterRegistry meterRegistry, Clock clock, PollerLeadership leadership) {
        IngestMetrics metrics = new IngestMetrics(meterRegistry);
        OrderPublisher publisher = new OrderPublisher(kafkaClientConfig, topics, metrics, clock);
        KafkaCursorStore cursors = new KafkaCursorStore(kafkaClientConfig, topics, "order-events-cursors", Duration.ofSeconds(30));
        OrderIngest ingest = new OrderIngest(new OrderReader(store, new ProductSections(store, config.catalogCacheTtl(), clock)), publisher);
        RefreshQueue queue = hookQueue(ingest, config.refreshQueueCapacity()).bindTo(meterRegistry);
        // a deletion cannot be read back later: it is answered only once it is in Kafka
        // without the store's application token no hook call could be trusted: the hook is off, the pollers still run
        boolean hookOn = config.applicationToken() != null && !config.applicationToken().isBlank();
        this.hookHandler = !hookOn ? null : new StoreHookHandler(config.applicationToken(), config.hookMaxBodyBytes(), queue, metrics,
                orderId -> publisher.confirm(config.siteIds().stream().map(site -> publisher.publishDeleted(site, orderId)).toList(),
                        "deletion of order " + orderId));
        List<ChangePoller> pollers = new ArrayList<>();
        for (String site : config.siteIds()) {
            pollers.add(StorePoller.create(store, ingest, cursors,
                    new StorePoller.Settings(site, config.pollInterval(), config.pollOverlap(), config.firstCursor())));
        }
        this.ingestion = new Ingestion(queue, pollers, List.of(publisher, cursors), leadership);
    }

    /**
     * The hook's queue: in arrival order, up to {@link OrderIngest#BULK} orders per bulk read (whatever waits when the
     * worker is free: no window, so one order alone is read at once and a burst is read 50 at a time), so a burst of
     * saves of one order costs at most two reads; more than {@code capacity} waiting are left to the poller. It is
     * opened by {@link #start()}.
     */
    public static RefreshQueue hookQueue(OrderIngest ingest, int capacity) {
        return new RefreshQueue(orderIds -> ingest.refresh(orderIds, ChangeSource.STORE_HOOK, StoreHookHandler.COMPONENT, null),
                new RefreshQueue.Settings("store-order-refresh", Duration.ZERO, OrderIngest.BULK, capacity));
    }

    /**
     * The handler for {@code POST /hooks/store}.
     *
     * @throws IllegalStateException when no application token is configured (the hook is off: polling only)
     */
    public HttpHandler hookHandler() {
        if (hookHandler == null) {
            throw new IllegalStateException("store.application-token is not set: the store hook is off and orders arrive by polling only");
        }
        return hookHandler;
    }

    /**
     * Reads one order from the store again and publishes it, as the hook would (e.g. after the admin changed the
     * mapping: the order is decided again with the mapping in force). Works once {@link #start()} opened the queue.
     */
    public RefreshQueue.Submitted refresh(long orderId) {
        return ingestion.queue().submit(orderId);
    }

    /**
     * Tells {@code listener} when the store's reads (the hook's queue, the pollers) start failing and when they work
     * again; they wait meanwhile, nothing is dead-lettered for it.
     */
    public StoreIngestion addReadFailureListener(ReadFailureListener listener) {
        ingestion.addReadFailureListener(listener);
        return this;
    }

    public List<ChangePoller> pollers() {
        return ingestion.pollers();
    }

    /** Stores or loads every site's cursor, opens the hook, starts the pollers (the first round runs at once). */
    public void start() {
        ingestion.start();
    }

    @Override
    public void close() {
        ingestion.close();
    }
}
