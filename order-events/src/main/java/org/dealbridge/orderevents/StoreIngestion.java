package org.dealbridge.orderevents;

import com.sun.net.httpserver.HttpHandler;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.dealbridge.bitrix.store.StoreApi;
import org.dealbridge.schemas.Topics;

/**
 * The store ingestion side assembled: one publisher, the catalog cache, the hook's refresh queue and handler, and one
 * poller per site. The launcher mounts {@link #hookHandler()} at {@code /hooks/store}, calls {@link #start()}, and
 * {@link #close()} on shutdown (pollers first, then the queue, then the producers, so nothing is sent to a closed
 * producer).
 */
public final class StoreIngestion implements AutoCloseable {
    private final OrderPublisher publisher;
    private final KafkaCursorStore cursors;
    private final OrderRefreshQueue refreshQueue;
    private final StoreHookHandler hookHandler;
    private final List<StorePoller> pollers = new ArrayList<>();

    public StoreIngestion(StoreIngestionConfig config, StoreApi store, Map<String, Object> kafkaClientConfig, Topics topics,
                         MeterRegistry meterRegistry, Clock clock) {
        IngestMetrics metrics = new IngestMetrics(meterRegistry);
        this.publisher = new OrderPublisher(kafkaClientConfig, topics, metrics, clock);
        this.cursors = new KafkaCursorStore(kafkaClientConfig, topics, Duration.ofSeconds(30));
        OrderIngest ingest = new OrderIngest(new OrderReader(store, new ProductSections(store, config.catalogCacheTtl(), clock)), publisher);
        this.refreshQueue = new OrderRefreshQueue(ingest::ingestFromHook, config.refreshQueueCapacity());
        this.hookHandler = new StoreHookHandler(config.applicationToken(), config.hookMaxBodyBytes(), refreshQueue, metrics,
                orderId -> config.siteIds().forEach(site -> publisher.publishDeleted(site, orderId)));
        for (String site : config.siteIds()) {
            pollers.add(new StorePoller(store, ingest, cursors,
                    new StorePoller.Settings(site, config.pollInterval(), config.pollOverlap(), config.firstCursor())));
        }
    }

    /** The handler for {@code POST /hooks/store}. */
    public HttpHandler hookHandler() {
        return hookHandler;
    }

    /**
     * Reads one order from the store again and publishes it, as a hook would (e.g. after the admin changed the mapping:
     * the order is decided again with the mapping in force).
     */
    public OrderRefreshQueue.Submitted refresh(long orderId) {
        return refreshQueue.submit(orderId);
    }

    public List<StorePoller> pollers() {
        return List.copyOf(pollers);
    }

    /** Starts every site's poller; the first round runs at once. */
    public void start() {
        pollers.forEach(StorePoller::start);
    }

    @Override
    public void close() {
        pollers.forEach(StorePoller::close);
        refreshQueue.close();
        publisher.close();
        cursors.close();
    }
}
