package org.dealbridge.app.runtime;

import io.micrometer.core.instrument.MeterRegistry;
import org.dealbridge.schemas.KafkaClients;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.dealbridge.app.config.DealBridgeConfig;
import org.dealbridge.app.http.HttpListener;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.bitrix.crm.CrmApi;
import org.dealbridge.bitrix.store.StoreApi;
import org.dealbridge.dealevents.CrmHookHandler;
import org.dealbridge.dealevents.CrmIngestion;
import org.dealbridge.dealevents.DealEventsConfig;
import org.dealbridge.dealevents.DealPublisher;
import org.dealbridge.ingestion.FirstCursor;
import org.dealbridge.ingestion.KafkaCursorStore;
import org.dealbridge.ingestion.PollerLeadership;
import org.dealbridge.orderprojector.OrderProjectorConfig;
import org.dealbridge.mapping.PairDecision;
import org.dealbridge.orderprojector.store.OrderWriter;
import org.dealbridge.orderprojector.store.StoreConnector;
import org.dealbridge.orderprojector.topology.OrderProjectorTopology;
import org.dealbridge.schemas.DealChanged;
import org.dealbridge.schemas.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deals → orders as the runtime runs it: CRM ingestion ({@code /hooks/bitrix24} and the {@code >DATE_MODIFY} poller,
 * when the CRM is configured), the order-projector topology (always), and the store connector (when both the store
 * and the CRM are configured: it reads the deal back before it writes the order).
 */
final class DealToOrderSync implements AutoCloseable {
    static final String APPLICATION_ID = "dealbridge-order-projector";
    private static final Logger log = LoggerFactory.getLogger(DealToOrderSync.class);

    private final ProjectorWithConnector direction;
    private final KafkaProducer<String, DealChanged> dealProducer;
    private final KafkaClientMetrics producerMetrics;
    private final CrmIngestion ingestion;

    DealToOrderSync(DealBridgeConfig config, Connections connections, Properties kafka, Topics topics,
                    MeterRegistry metrics, HealthRegistry health, HttpListener http) throws InterruptedException {
        Optional<BitrixClient> crm = connections.crm();
        Optional<BitrixClient> store = connections.store();
        Map<String, Object> values = new HashMap<>(config.originals());
        values.put(OrderProjectorConfig.SITE_ID, config.getString(DealBridgeConfig.STORE_SITE_ID));
        ConnectorGroups.prefix(values, OrderProjectorConfig.CONFIG_DEF, OrderProjectorConfig.CONNECTOR, topics);
        OrderProjectorConfig projectorConfig = new OrderProjectorConfig(values);
        StreamsApp projector = new StreamsApp(topics.name(APPLICATION_ID), OrderProjectorTopology.build(projectorConfig, topics,
                PairDecision.UNDER_MAPPING, metrics), kafka, config.dataDir().resolve("streams"),
                config.getBoolean(DealBridgeConfig.KAFKA_EXACTLY_ONCE), topics, metrics);
        // the store connector reads the deal back before it writes the order: it needs both sides
        StoreConnector connector = store.isPresent() && crm.isPresent()
                ? new StoreConnector(projectorConfig, topics, kafka, new OrderWriter(projectorConfig, new StoreApi(store.get()),
                        new CrmApi(crm.get()), PairDecision.UNDER_MAPPING, Clock.systemUTC()), metrics, Clock.systemUTC())
                : null;
        if (connector != null) {
            connector.onAssignment(connections.storeShare());  // it writes the store: its partitions are our share of it
        }
        direction = new ProjectorWithConnector("order-projector", projector, connector, health);

        if (crm.isEmpty()) {
            dealProducer = null;
            producerMetrics = null;
            ingestion = null;
            return;
        }
        String token = config.secret(DealBridgeConfig.CRM_APPLICATION_TOKEN);
        Map<String, Object> eventValues = new HashMap<>(config.originals());
        // Without a token the hook is not mounted, so this stand-in is never compared with anything.
        eventValues.putIfAbsent(DealEventsConfig.APPLICATION_TOKEN, UUID.randomUUID().toString());
        DealEventsConfig events = new DealEventsConfig(eventValues);
        Properties producerProps = new Properties();
        producerProps.putAll(kafka);
        producerProps.put(ProducerConfig.ACKS_CONFIG, "all");
        producerProps.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        dealProducer = new KafkaProducer<>(KafkaClients.producer(producerProps), new StringSerializer(), topics.dealChanges().valueSerde().serializer());
        producerMetrics = new KafkaClientMetrics(dealProducer);
        producerMetrics.bindTo(metrics);
        Map<String, Object> cursorClient = new HashMap<>();
        producerProps.forEach((k, v) -> cursorClient.put(k.toString(), v));
        // the first start stores its cursor a little in the past by the CRM's own clock (never DealBridge's: the two may
        // be minutes apart), like the store poller; the CRM's history is not replayed. Asked before the leadership sets
        // this instance's share of the CRM's budget to 0 (a call then waits).
        FirstCursor firstCursor = FirstCursor.portalTimeMinus("CRM", new CrmApi(crm.get())::portalNow,
                events.pollInterval().multipliedBy(2), Clock.systemUTC()).askedNow();
        // the poller runs on one instance at a time; the hook on every instance
        PollerLeadership leadership = new PollerLeadership(cursorClient, topics.name(Topics.POLLER_LEADERSHIP), topics.name(DealBridgeRuntime.CRM_POLLERS_GROUP),
                PollerLeadership.DEFAULT_SESSION_TIMEOUT).addListener(connections.crmShare());
        ingestion = new CrmIngestion(events, crm.get(), new DealPublisher(dealProducer, topics.dealChanges().name(), metrics),
                new KafkaCursorStore(cursorClient, topics, "deal-events-cursors", Duration.ofSeconds(30)),
                firstCursor, leadership);
        ingestion.ingestion().addReadFailureListener(new IngestionHealth("crm", health, metrics, Clock.systemUTC()));
        if (token != null) {
            http.route(CrmHookHandler.PATH, ingestion.hookHandler());
        } else {
            log.warn("crm.application-token is not set: {} is off and deal changes arrive by polling only", CrmHookHandler.PATH);
        }
        ingestion.start();
    }

    void start() {
        direction.start();
    }

    @Override
    public void close() throws Exception {
        if (ingestion != null) {
            ingestion.close();
        }
        direction.close();
        if (dealProducer != null) {
            producerMetrics.close();
            dealProducer.close(Duration.ofSeconds(5));
        }
    }
}
