package org.dealbridge.app.runtime;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.dealbridge.app.config.DealBridgeConfig;
import org.dealbridge.app.http.AdminServer;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.bitrix.store.StoreApi;
import org.dealbridge.orderevents.IngestMetrics;
import org.dealbridge.orderevents.KafkaCursorStore;
import org.dealbridge.orderevents.OrderIngest;
import org.dealbridge.orderevents.OrderPublisher;
import org.dealbridge.orderevents.OrderReader;
import org.dealbridge.orderevents.OrderRefreshQueue;
import org.dealbridge.orderevents.ProductSections;
import org.dealbridge.orderevents.StoreHookHandler;
import org.dealbridge.orderevents.StorePoller;
import org.dealbridge.schemas.Topics;

/**
 * Store → Kafka as the runtime runs it: the {@code /hooks/store} endpoint feeding a coalescing refresh queue, and the
 * {@code >dateUpdate} poller; both read orders through one {@link OrderReader} and publish through one producer.
 */
final class StoreIngestion implements AutoCloseable {
    static final int REFRESH_QUEUE_CAPACITY = 10_000;
    static final Duration CATALOG_CACHE_TTL = Duration.ofMinutes(10);
    static final Duration POLL_OVERLAP = Duration.ofSeconds(5);

    private final OrderPublisher publisher;
    private final OrderRefreshQueue queue;
    private final KafkaCursorStore cursors;
    private final StorePoller poller;

    StoreIngestion(DealBridgeConfig config, BitrixClient storeClient, Properties kafka, Topics topics, MeterRegistry metrics,
                   AdminServer http) {
        Clock clock = Clock.systemUTC();
        StoreApi store = new StoreApi(storeClient);
        IngestMetrics ingestMetrics = new IngestMetrics(metrics);
        Map<String, Object> client = new HashMap<>();
        kafka.forEach((k, v) -> client.put(k.toString(), v));
        client.remove("client.id");
        OrderReader reader = new OrderReader(store, new ProductSections(store, CATALOG_CACHE_TTL, clock));
        publisher = new OrderPublisher(client, topics, ingestMetrics, clock);
        OrderIngest ingest = new OrderIngest(reader, publisher);
        queue = new OrderRefreshQueue(ingest::ingestFromHook, REFRESH_QUEUE_CAPACITY);
        String token = config.secret(DealBridgeConfig.STORE_APPLICATION_TOKEN);
        if (token != null) {
            http.route("/hooks/store", new StoreHookHandler(token, config.getInt(DealBridgeConfig.HTTP_MAX_BODY_BYTES), queue, ingestMetrics));
        }
        cursors = new KafkaCursorStore(client, topics, Duration.ofSeconds(30));
        Duration interval = config.storePollInterval();
        // Without a stored cursor the poller starts a little in the past; older history is what `backfill` is for.
        OffsetDateTime first = OffsetDateTime.now(ZoneOffset.UTC).minus(interval.multipliedBy(2));
        poller = new StorePoller(store, ingest, cursors,
                new StorePoller.Settings(config.getString(DealBridgeConfig.STORE_SITE_ID), interval, POLL_OVERLAP, first));
        poller.start();
    }

    @Override
    public void close() {
        poller.close();
        queue.close();
        cursors.close();
        publisher.close();
    }
}
