package org.dealbridge.orderprojector;


import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.BooleanSupplier;
import org.dealbridge.mapping.PairDecision;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.bitrix.PortalRateLimiter;
import org.dealbridge.bitrix.crm.CrmApi;
import org.dealbridge.bitrix.store.StoreApi;
import org.dealbridge.dealevents.CrmHookHandler;
import org.dealbridge.dealevents.DealEventsConfig;
import org.dealbridge.dealevents.DealPublisher;
import org.dealbridge.dealevents.DealReader;
import org.dealbridge.dealevents.CrmIngestion;
import org.dealbridge.dealprojector.DealProjectorConfig;
import org.dealbridge.dealprojector.crm.CrmConnector;
import org.dealbridge.dealprojector.crm.DealWriter;
import org.dealbridge.dealprojector.topology.DealProjectorTopology;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.mapping.MappingProfiles;
import org.dealbridge.orderevents.IngestMetrics;
import org.dealbridge.orderevents.OrderIngest;
import org.dealbridge.orderevents.OrderPublisher;
import org.dealbridge.orderevents.OrderReader;
import org.dealbridge.ingestion.RefreshQueue;
import org.dealbridge.orderevents.ProductSections;
import org.dealbridge.orderevents.StoreHookHandler;
import org.dealbridge.orderevents.StoreIngestion;
import org.dealbridge.orderprojector.store.OrderWriter;
import org.dealbridge.orderprojector.store.StoreConnector;
import org.dealbridge.orderprojector.topology.OrderProjectorTopology;
import org.dealbridge.schemas.DealChanged;
import org.dealbridge.schemas.Topics;
import org.dealbridge.schemas.registry.InMemorySchemaRegistry;

/**
 * The whole two-way sync wired as {@code bin/dealbridge run} wires it, for the end-to-end tests: the emulators over HTTP,
 * store hook → order-events → deal-projector → CRM connector, and CRM hook → deal-events → order-projector → store
 * connector, on the embedded broker, with both connectors publishing links to the same deal-links topic. Seeds the shop
 * both tests share (pipeline 1, statuses N/P/A/F, pay systems 3 and 9, the sofa); {@code seed} adds what a test needs.
 */
final class TwoWayRig implements AutoCloseable {

    static final String CRM_TOKEN = "crm-token-e2e-51";
    static final String STORE_TOKEN = "store-token-e2e-17";

    final Topics topics = new Topics(new InMemorySchemaRegistry());
    final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    final EmbeddedKafkaCluster kafka;
    BitrixEmulator emu;
    BitrixClient crmClient;
    BitrixClient storeClient;
    HttpServer hooks;
    KafkaProducer<String, DealChanged> dealProducer;
    RefreshQueue dealQueue;
    OrderPublisher orderPublisher;
    RefreshQueue orderQueue;
    OrderIngest orderIngest;
    KafkaStreams orderProjector;
    KafkaStreams dealProjector;
    StoreConnector storeConnector;
    CrmConnector crmConnector;
    Thread storeThread;
    Thread crmThread;
    /** DealBridge's own clock: its outcomes, links and events are stamped with it (a test may set it off). */
    final Clock clock;
    private final EmulatorOptions emulatorOptions;

    private TwoWayRig(EmbeddedKafkaCluster kafka, EmulatorOptions emulatorOptions, Clock clock) {
        this.kafka = kafka;
        this.emulatorOptions = emulatorOptions;
        this.clock = clock;
    }

    /** Starts everything with this mapping for site s1; {@code name} keeps the Streams application ids apart. */
    static TwoWayRig start(EmbeddedKafkaCluster kafka, Path stateDir, String name, String mapping,
                           java.util.function.Consumer<BitrixEmulator> seed) throws Exception {
        return start(kafka, stateDir, name, mapping, seed, EmulatorOptions.defaults(), Clock.systemUTC());
    }

    /**
     * The same with the emulator's options (e.g. each portal's clock offset) and DealBridge's own clock: the clock-skew
     * test sets the CRM's, the store's and DealBridge's clocks minutes apart.
     */
    static TwoWayRig start(EmbeddedKafkaCluster kafka, Path stateDir, String name, String mapping,
                           java.util.function.Consumer<BitrixEmulator> seed, EmulatorOptions emulatorOptions, Clock clock) throws Exception {
        TwoWayRig rig = new TwoWayRig(kafka, emulatorOptions, clock);
        rig.run(stateDir, name, mapping, seed);
        return rig;
    }

    private void run(Path stateDir, String name, String mapping, java.util.function.Consumer<BitrixEmulator> seed)
            throws Exception {
        for (Topics.Definition d : Topics.DEFINITIONS) {
            kafka.createTopics(1, d.configs(), d.name());
        }
        emu = BitrixEmulator.start(emulatorOptions.rateLimitDisabled());
        emu.crm().addPipeline(1, "Shop orders");
        emu.crm().addDealUserField("UF_CRM_PAY_SYSTEM", "string");
        emu.crm().addUser(1, "Sales", true);
        for (String status : List.of("N", "P", "A", "F")) {
            emu.store().addStatus(status, "Status " + status);
        }
        emu.store().addPaySystem(3, "Cash");
        emu.store().addPaySystem(9, "Card");
        emu.store().addPersonType(1, "Person");
        emu.store().addProduct(101, "Sofa", null, "1500.00");
        seed.accept(emu);
        crmClient = client(emu.crmWebhookUrl(), "crm");
        storeClient = client(emu.storeWebhookUrl(), "store");

        Properties props = new Properties();
        props.put("bootstrap.servers", kafka.bootstrapServers());
        publishMapping(props, mapping);

        // CRM ingestion
        Properties producerProps = new Properties();
        producerProps.putAll(props);
        producerProps.put(ProducerConfig.ACKS_CONFIG, "all");
        dealProducer = new KafkaProducer<>(producerProps, new StringSerializer(), topics.dealChanges().valueSerde().serializer());
        DealEventsConfig dealEvents = new DealEventsConfig(Map.of(DealEventsConfig.APPLICATION_TOKEN, CRM_TOKEN,
                DealEventsConfig.COALESCE_WINDOW, "200"));
        DealPublisher dealPublisher = new DealPublisher(dealProducer, meters);
        dealQueue = CrmIngestion.hookQueue(dealEvents, new DealReader(crmClient), dealPublisher);
        dealQueue.open();
        // store ingestion
        Map<String, Object> orderProducer = new HashMap<>();
        orderProducer.put("bootstrap.servers", kafka.bootstrapServers());
        IngestMetrics ingestMetrics = new IngestMetrics(meters);
        StoreApi store = new StoreApi(storeClient);
        orderPublisher = new OrderPublisher(orderProducer, topics, ingestMetrics, clock);
        orderIngest = new OrderIngest(new OrderReader(store, new ProductSections(store, Duration.ofMinutes(10), clock)),
                orderPublisher);
        OrderIngest ingest = orderIngest;
        orderQueue = StoreIngestion.hookQueue(ingest, 1000);
        orderQueue.open();

        hooks = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        hooks.createContext(CrmHookHandler.PATH, new CrmHookHandler(dealEvents, dealQueue, CrmIngestion.deletions(dealPublisher, dealQueue)));
        hooks.createContext("/hooks/store", new StoreHookHandler(STORE_TOKEN, StoreHookHandler.DEFAULT_MAX_BODY_BYTES, orderQueue, ingestMetrics,
                orderId -> orderPublisher.publishDeleted("s1", orderId)));
        hooks.start();
        subscribeHooks();

        // deal -> order
        OrderProjectorConfig orderConfig = new OrderProjectorConfig(Map.of(OrderProjectorConfig.SITE_ID, "s1",
                OrderProjectorConfig.CONNECTOR.initialBackoff(), "50", OrderProjectorConfig.CONNECTOR.maxBackoff(), "1000",
                OrderProjectorConfig.CONNECTOR.pollTimeout(), "100"));
        orderProjector = streams(stateDir, name + "-order-projector", OrderProjectorTopology.build(orderConfig, topics, PairDecision.UNDER_MAPPING, meters));
        storeConnector = new StoreConnector(orderConfig, topics, props,
                new OrderWriter(orderConfig, store, new CrmApi(crmClient), PairDecision.UNDER_MAPPING, clock),
                meters, clock);
        // order -> deal
        DealProjectorConfig dealConfig = new DealProjectorConfig(Map.of(DealProjectorConfig.COALESCE_WINDOW, "200",
                DealProjectorConfig.CONNECTOR.initialBackoff(), "50", DealProjectorConfig.CONNECTOR.maxBackoff(), "1000",
                DealProjectorConfig.CONNECTOR.pollTimeout(), "100"));
        dealProjector = streams(stateDir, name + "-deal-projector", DealProjectorTopology.build(dealConfig, topics, meters));
        crmConnector = new CrmConnector(dealConfig, topics, props, new DealWriter(crmClient, dealConfig, clock),
                meters, clock);

        orderProjector.start();
        dealProjector.start();
        await("both projectors run", Duration.ofSeconds(60), () -> orderProjector.state() == KafkaStreams.State.RUNNING
                && dealProjector.state() == KafkaStreams.State.RUNNING);
        storeThread = new Thread(storeConnector, "store-connector");
        crmThread = new Thread(crmConnector, "crm-connector");
        storeThread.start();
        crmThread.start();
    }

    private void subscribeHooks() {
        String base = "http://127.0.0.1:" + hooks.getAddress().getPort();
        emu.subscribeCrm(base + CrmHookHandler.PATH, CRM_TOKEN, "ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE");
        emu.subscribeStore(base + "/hooks/store", STORE_TOKEN, "ONSALEORDERSAVED", "ONSALEBEFOREORDERDELETE");
    }

    /** Runs {@code edits} with both portals' outbound events lost (delivered once, never retried: reference §10.5). */
    void losingHooks(Runnable edits) throws InterruptedException {
        emu.events().awaitIdle(Duration.ofSeconds(10));
        emu.events().unsubscribeAll();
        try {
            edits.run();
        } finally {
            subscribeHooks();
        }
    }

    private BitrixClient client(String url, String portal) {
        return BitrixClient.builder(url).portal(portal).meterRegistry(meters)
                .rateLimiter(new PortalRateLimiter(portal, PortalRateLimiter.Options.of(1000, 1000).withInitialFill(0)))
                .callTimeout(Duration.ofSeconds(3)).retry(3, Duration.ofMillis(50), Duration.ofMillis(500)).build();
    }

    private void publishMapping(Properties props, String mapping) {
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(),
                new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topics.mappingConfig().name(), "s1", topics.mappingConfig().valueSerde().serializer()
                    .serialize(topics.mappingConfig().name(), MappingProfiles.build("s1", mapping, 1, "e2e", Instant.now()))));
            producer.flush();
        }
    }

    private KafkaStreams streams(Path stateDir, String appId, Topology topology) {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.resolve(appId).toString());
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "100");
        props.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
        return new KafkaStreams(topology, props);
    }

    @Override
    public void close() throws Exception {
        if (storeConnector != null) {
            storeConnector.close();
        }
        if (crmConnector != null) {
            crmConnector.close();
        }
        if (orderProjector != null) {
            orderProjector.close(Duration.ofSeconds(10));
        }
        if (dealProjector != null) {
            dealProjector.close(Duration.ofSeconds(10));
        }
        if (hooks != null) {
            hooks.stop(0);
        }
        if (dealQueue != null) {
            dealQueue.close();
        }
        if (orderQueue != null) {
            orderQueue.close();
        }
        if (orderPublisher != null) {
            orderPublisher.close();
        }
        if (dealProducer != null) {
            dealProducer.close();
        }
        if (crmClient != null) {
            crmClient.close();
            storeClient.close();
        }
        if (emu != null) {
            emu.close();
        }
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting until " + what);
            }
            Thread.sleep(50);
        }
    }

    List<Map<String, Object>> dealsOfOrder(long orderId) {
        return emu.crm().dealsByOrigin("dealbridge:s1", Long.toString(orderId));
    }
}
