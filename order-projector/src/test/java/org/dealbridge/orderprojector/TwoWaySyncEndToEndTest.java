package org.dealbridge.orderprojector;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigDecimal;
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
import org.dealbridge.dealevents.DealRefreshQueue;
import org.dealbridge.dealprojector.DealProjectorConfig;
import org.dealbridge.dealprojector.crm.CrmConnector;
import org.dealbridge.dealprojector.crm.DealWriter;
import org.dealbridge.dealprojector.topology.DealProjectorTopology;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.emulator.NewOrder;
import org.dealbridge.emulator.Portal;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.mapping.MappingProfiles;
import org.dealbridge.orderevents.IngestMetrics;
import org.dealbridge.orderevents.OrderIngest;
import org.dealbridge.orderevents.OrderPublisher;
import org.dealbridge.orderevents.OrderReader;
import org.dealbridge.orderevents.OrderRefreshQueue;
import org.dealbridge.orderevents.ProductSections;
import org.dealbridge.orderevents.StoreHookHandler;
import org.dealbridge.orderprojector.store.OrderWriter;
import org.dealbridge.orderprojector.store.StoreConnector;
import org.dealbridge.orderprojector.topology.OrderProjectorTopology;
import org.dealbridge.schemas.DealChanged;
import org.dealbridge.schemas.Topics;
import org.dealbridge.schemas.registry.InMemorySchemaRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two-way sync end to end, everything real but the portals (our emulators over HTTP) and the broker (embedded KRaft):
 * store hook → order-events → deal-projector → CRM connector, and CRM hook → deal-events → order-projector → store
 * connector, both connectors publishing links to the same deal-links topic.
 */
class TwoWaySyncEndToEndTest {

    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();
    private static final String CRM_TOKEN = "crm-token-e2e-51";
    private static final String STORE_TOKEN = "store-token-e2e-17";
    private static final Duration QUIET = Duration.ofSeconds(20);
    static final String MAPPING = """
            site: s1
            pipelines: { default: 1 }
            stages:
              "1":
                - { stage: "C1:NEW", status: N }
                - { stage: "C1:PREPARATION", status: P }
                - { stage: "C1:PREPARATION", status: A }
                - { stage: "C1:WON", status: F }
            responsible: { default: 1 }
            dealFields: { paySystemId: UF_CRM_PAY_SYSTEM }
            dealToOrder: { pipelines: [1] }
            payment: { default: 3 }
            """;

    @TempDir
    static Path stateDir;

    static final Topics topics = new Topics(new InMemorySchemaRegistry());
    static final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    static BitrixEmulator emu;
    static BitrixClient crmClient;
    static BitrixClient storeClient;
    static HttpServer hooks;
    static KafkaProducer<String, DealChanged> dealProducer;
    static DealRefreshQueue dealQueue;
    static OrderPublisher orderPublisher;
    static OrderRefreshQueue orderQueue;
    static KafkaStreams orderProjector;
    static KafkaStreams dealProjector;
    static StoreConnector storeConnector;
    static CrmConnector crmConnector;
    static Thread storeThread;
    static Thread crmThread;

    @BeforeAll
    static void start() throws Exception {
        for (Topics.Definition d : Topics.DEFINITIONS) {
            KAFKA.createTopics(1, d.configs(), d.name());
        }
        emu = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled());
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
        crmClient = client(emu.crmWebhookUrl(), "crm");
        storeClient = client(emu.storeWebhookUrl(), "store");

        Properties kafka = new Properties();
        kafka.put("bootstrap.servers", KAFKA.bootstrapServers());
        publishMapping(kafka);

        // CRM ingestion
        Properties producerProps = new Properties();
        producerProps.putAll(kafka);
        producerProps.put(ProducerConfig.ACKS_CONFIG, "all");
        dealProducer = new KafkaProducer<>(producerProps, new StringSerializer(), topics.dealChanges().valueSerde().serializer());
        DealEventsConfig dealEvents = new DealEventsConfig(Map.of(DealEventsConfig.APPLICATION_TOKEN, CRM_TOKEN,
                DealEventsConfig.COALESCE_WINDOW, "200"));
        dealQueue = new DealRefreshQueue(new DealReader(crmClient), new DealPublisher(dealProducer, meters), dealEvents);
        // store ingestion
        Map<String, Object> orderProducer = new HashMap<>();
        orderProducer.put("bootstrap.servers", KAFKA.bootstrapServers());
        IngestMetrics ingestMetrics = new IngestMetrics(meters);
        StoreApi store = new StoreApi(storeClient);
        orderPublisher = new OrderPublisher(orderProducer, topics, ingestMetrics, Clock.systemUTC());
        OrderIngest ingest = new OrderIngest(new OrderReader(store, new ProductSections(store, Duration.ofMinutes(10), Clock.systemUTC())),
                orderPublisher);
        orderQueue = new OrderRefreshQueue(ingest::ingestFromHook, 1000);

        hooks = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        hooks.createContext(CrmHookHandler.PATH, new CrmHookHandler(dealEvents, dealQueue));
        hooks.createContext("/hooks/store", new StoreHookHandler(STORE_TOKEN, StoreHookHandler.DEFAULT_MAX_BODY_BYTES, orderQueue, ingestMetrics));
        hooks.start();
        String base = "http://127.0.0.1:" + hooks.getAddress().getPort();
        emu.subscribeCrm(base + CrmHookHandler.PATH, CRM_TOKEN, "ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE");
        emu.subscribeStore(base + "/hooks/store", STORE_TOKEN, "ONSALEORDERSAVED");

        // deal -> order
        OrderProjectorConfig orderConfig = new OrderProjectorConfig(Map.of(OrderProjectorConfig.SITE_ID, "s1",
                OrderProjectorConfig.INITIAL_BACKOFF, "50", OrderProjectorConfig.MAX_BACKOFF, "1000",
                OrderProjectorConfig.POLL_TIMEOUT, "100"));
        orderProjector = streams("e2e-order-projector", OrderProjectorTopology.build(orderConfig, topics, PairDecision.UNDER_MAPPING, meters));
        storeConnector = new StoreConnector(orderConfig, topics, kafka,
                new OrderWriter(orderConfig, store, new CrmApi(crmClient), PairDecision.UNDER_MAPPING, Clock.systemUTC()),
                meters, Clock.systemUTC());
        // order -> deal
        DealProjectorConfig dealConfig = new DealProjectorConfig(Map.of(DealProjectorConfig.COALESCE_WINDOW, "200",
                DealProjectorConfig.INITIAL_BACKOFF, "50", DealProjectorConfig.MAX_BACKOFF, "1000",
                DealProjectorConfig.POLL_TIMEOUT, "100"));
        dealProjector = streams("e2e-deal-projector", DealProjectorTopology.build(dealConfig, topics, meters));
        crmConnector = new CrmConnector(dealConfig, topics, kafka, new DealWriter(crmClient, dealConfig, Clock.systemUTC()),
                meters, Clock.systemUTC());

        orderProjector.start();
        dealProjector.start();
        await("both projectors run", Duration.ofSeconds(60), () -> orderProjector.state() == KafkaStreams.State.RUNNING
                && dealProjector.state() == KafkaStreams.State.RUNNING);
        storeThread = new Thread(storeConnector, "store-connector");
        crmThread = new Thread(crmConnector, "crm-connector");
        storeThread.start();
        crmThread.start();
    }

    private static BitrixClient client(String url, String portal) {
        return BitrixClient.builder(url).portal(portal).meterRegistry(meters)
                .rateLimiter(new PortalRateLimiter(portal, PortalRateLimiter.Options.of(1000, 1000).withInitialFill(0)))
                .callTimeout(Duration.ofSeconds(3)).retry(3, Duration.ofMillis(50), Duration.ofMillis(500)).build();
    }

    private static void publishMapping(Properties kafka) {
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(kafka, new StringSerializer(),
                new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topics.mappingConfig().name(), "s1", topics.mappingConfig().valueSerde().serializer()
                    .serialize(topics.mappingConfig().name(), MappingProfiles.build("s1", MAPPING, 1, "e2e", Instant.now()))));
            producer.flush();
        }
    }

    private static KafkaStreams streams(String appId, Topology topology) {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers());
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.resolve(appId).toString());
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "100");
        props.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
        return new KafkaStreams(topology, props);
    }

    @AfterAll
    static void stop() throws Exception {
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

    private static List<Map<String, Object>> dealsOfOrder(long orderId) {
        return emu.crm().dealsByOrigin("dealbridge:s1", Long.toString(orderId));
    }

    private static int writesOf(long dealId, long orderId) {
        return emu.calls().count(Portal.CRM, "crm.deal.update", c -> Long.toString(dealId).equals(c.param("id")))
                + emu.calls().count(Portal.STORE, "sale.order.update", c -> Long.toString(orderId).equals(c.param("id")));
    }

    @Test
    void aManagersStageChangeReachesTheOrderAndThePairThenStaysQuiet() throws Exception {
        long orderId = emu.store().addOrder(NewOrder.create().site("s1").status("N").item(101, "Sofa", "1500.00", 1));
        await("the order's deal exists", Duration.ofSeconds(30), () -> dealsOfOrder(orderId).size() == 1);
        long dealId = Long.parseLong(String.valueOf(dealsOfOrder(orderId).get(0).get("ID")));
        // let the creation's echoes settle before the human acts: no write for the pair for 3 s (a fixed 3 s wait was not
        // enough on a loaded 2-core CI machine, and a late creation write was then counted against the stage change)
        long settledBy = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        int seen = writesOf(dealId, orderId);
        long quietSince = System.nanoTime();
        while (System.nanoTime() - quietSince < Duration.ofSeconds(3).toNanos() && System.nanoTime() < settledBy) {
            Thread.sleep(200);
            int now = writesOf(dealId, orderId);
            if (now != seen) {
                seen = now;
                quietSince = System.nanoTime();
            }
        }

        long before = System.nanoTime();
        emu.crm().updateDealAsHuman(dealId, Map.of("STAGE_ID", "C1:WON"));
        await("the order follows the deal", Duration.ofSeconds(15), () -> "F".equals(emu.store().order(orderId).get("statusId")));
        long tookMillis = (System.nanoTime() - before) / 1_000_000;
        System.out.printf("stage change -> order status: %d ms%n", tookMillis);

        int writes = writesOf(dealId, orderId);
        Thread.sleep(QUIET.toMillis());
        assertThat(writesOf(dealId, orderId)).as("crm.deal.update + sale.order.update for the pair in the %s after", QUIET)
                .isEqualTo(writes);
        assertThat(emu.calls().count(Portal.STORE, "sale.order.update", c -> Long.toString(orderId).equals(c.param("id"))))
                .as("one human edit, one order write").isEqualTo(1);
        assertThat(emu.store().order(orderId).get("statusId")).isEqualTo("F");
        assertThat(emu.crm().deal(dealId).get("STAGE_ID")).isEqualTo("C1:WON");
        assertThat(dealsOfOrder(orderId)).hasSize(1);
    }

    @Test
    void aDealMadeByHandInAnOrderCreatingPipelineYieldsOneOrderWithTheMappedPaySystem() throws Exception {
        long dealId = emu.crm().addDealAsHuman(Map.of("TITLE", "Phone order", "CATEGORY_ID", 1, "STAGE_ID", "C1:NEW",
                "CURRENCY_ID", "RUB", "UF_CRM_PAY_SYSTEM", "9"));
        new CrmApi(crmClient).setProductRows(dealId, List.of(org.dealbridge.bitrix.crm.ProductRow.of(101, "Sofa",
                new BigDecimal("1500.00"), new BigDecimal("2"))));
        emu.crm().updateDealAsHuman(dealId, Map.of("TITLE", "Phone order, 2 sofas"));  // the manager saves the deal with its rows

        String xmlId = OrderWriter.xmlId(dealId);
        await("an order is made from the deal", Duration.ofSeconds(30),
                () -> emu.store().orders().stream().anyMatch(o -> xmlId.equals(o.get("xmlId"))));
        await("the made order has its basket line", Duration.ofSeconds(30), () -> emu.store().orders().stream()
                .filter(o -> xmlId.equals(o.get("xmlId"))).anyMatch(o -> !((List<?>) o.get("basketItems")).isEmpty()));
        Thread.sleep(5_000);  // every echo and repeat has had its chance to add a second one

        List<Map<String, Object>> orders = emu.store().orders().stream().filter(o -> xmlId.equals(o.get("xmlId"))).toList();
        assertThat(orders).hasSize(1);
        Map<String, Object> order = emu.store().order(Long.parseLong(String.valueOf(orders.get(0).get("id"))));
        assertThat(order.get("statusId")).isEqualTo("N");
        // the deal's row is the order's basket, at the deal's price (the catalog's is the same here), once
        assertThat((List<?>) order.get("basketItems")).singleElement().satisfies(line -> {
            Map<?, ?> item = (Map<?, ?>) line;
            assertThat(String.valueOf(item.get("productId"))).isEqualTo("101");
            assertThat(item.get("name")).isEqualTo("Sofa");
            assertThat(new BigDecimal(String.valueOf(item.get("price")))).isEqualByComparingTo("1500.00");
            assertThat(new BigDecimal(String.valueOf(item.get("quantity")))).isEqualByComparingTo("2");
        });
        assertThat(new BigDecimal(String.valueOf(order.get("price")))).as("the order's total is the deal's amount")
                .isEqualByComparingTo("3000.00")
                .isEqualByComparingTo(new BigDecimal(String.valueOf(emu.crm().deal(dealId).get("OPPORTUNITY"))));
        assertThat((List<?>) order.get("payments")).singleElement()
                .satisfies(p -> assertThat(String.valueOf(((Map<?, ?>) p).get("paySystemId"))).isEqualTo("9"));
        assertThat(emu.calls().count(Portal.STORE, "sale.order.add")).isEqualTo(1);
        long orderId = Long.parseLong(String.valueOf(orders.get(0).get("id")));
        // the order came from the deal: the deal projector must update that deal, never make a second one
        assertThat(dealsOfOrder(orderId)).as("deals DealBridge made for order %d, made from deal %d", orderId, dealId)
                .isEmpty();
        assertThat(emu.crm().deals().stream().filter(d -> String.valueOf(d.get("ID")).equals(Long.toString(dealId))
                        || String.valueOf(d.get("ORIGIN_ID")).equals(Long.toString(orderId))))
                .as("deals that are the hand-made one or made for its order").hasSize(1);
    }
}
