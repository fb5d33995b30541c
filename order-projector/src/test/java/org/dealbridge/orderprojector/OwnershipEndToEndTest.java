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
import org.dealbridge.schemas.Outcome;
import org.dealbridge.schemas.SyncOutcome;

/**
 * Whose data is it, end to end (issue 12): the whole two-way sync over a real broker and the emulators over HTTP, and
 * a manager who edits deals between the shop's changes. Each scenario fails against a DealBridge that recomputes the
 * pipeline on every order change, compares fields with its copy of the deal, or dead-letters a deleted deal.
 */
class OwnershipEndToEndTest {

    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();
    private static final String CRM_TOKEN = "crm-token-e2e-51";
    private static final String STORE_TOKEN = "store-token-e2e-17";
    private static final Duration QUIET = Duration.ofSeconds(20);
    static final String MAPPING = """
            site: s1
            pipelines:
              default: 1
              bySection:
                - { section: 20, pipeline: 2 }
            stages:
              "1":
                - { stage: "C1:NEW", status: N }
                - { stage: "C1:PREPARATION", status: P }
                - { stage: "C1:WON", status: F }
              "2":
                - { stage: "C2:NEW", status: N }
                - { stage: "C2:EXECUTING", status: P }
                - { stage: "C2:WON", status: F }
            responsible: { default: 1, byPipeline: { "2": 9 } }
            dealFields: { paySystemId: UF_CRM_PAY_SYSTEM }
            dealToOrder: { pipelines: [2] }
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
        emu.crm().addPipeline(2, "Electronics");
        emu.crm().addUser(7, "Egor", "Manager", "egor@example.com", true);
        emu.crm().addUser(9, "Electronics", "Manager", "el@example.com", true);
        emu.crm().addDealUserField("UF_CRM_PAY_SYSTEM", "string");
        emu.crm().addUser(1, "Sales", true);
        for (String status : List.of("N", "P", "A", "F")) {
            emu.store().addStatus(status, "Status " + status);
        }
        emu.store().addPaySystem(3, "Cash");
        emu.store().addPaySystem(9, "Card");
        emu.store().addPersonType(1, "Person");
        emu.store().addProduct(101, "Sofa", null, "1500.00");
        emu.store().addSection(20, null, "Electronics");
        emu.store().addProduct(201, "Phone X", 20L, new BigDecimal("49990.00"));
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
        hooks.createContext("/hooks/store", new StoreHookHandler(STORE_TOKEN, StoreHookHandler.DEFAULT_MAX_BODY_BYTES, orderQueue, ingestMetrics,
                orderId -> orderPublisher.publishDeleted("s1", orderId)));
        hooks.start();
        String base = "http://127.0.0.1:" + hooks.getAddress().getPort();
        emu.subscribeCrm(base + CrmHookHandler.PATH, CRM_TOKEN, "ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE");
        emu.subscribeStore(base + "/hooks/store", STORE_TOKEN, "ONSALEORDERSAVED", "ONSALEBEFOREORDERDELETE");

        // deal -> order
        OrderProjectorConfig orderConfig = new OrderProjectorConfig(Map.of(OrderProjectorConfig.SITE_ID, "s1",
                OrderProjectorConfig.INITIAL_BACKOFF, "50", OrderProjectorConfig.MAX_BACKOFF, "1000",
                OrderProjectorConfig.POLL_TIMEOUT, "100"));
        orderProjector = streams("own-order-projector", OrderProjectorTopology.build(orderConfig, topics, PairDecision.UNDER_MAPPING, meters));
        storeConnector = new StoreConnector(orderConfig, topics, kafka,
                new OrderWriter(orderConfig, store, new CrmApi(crmClient), PairDecision.UNDER_MAPPING, Clock.systemUTC()),
                meters, Clock.systemUTC());
        // order -> deal
        DealProjectorConfig dealConfig = new DealProjectorConfig(Map.of(DealProjectorConfig.COALESCE_WINDOW, "200",
                DealProjectorConfig.INITIAL_BACKOFF, "50", DealProjectorConfig.MAX_BACKOFF, "1000",
                DealProjectorConfig.POLL_TIMEOUT, "100"));
        dealProjector = streams("own-deal-projector", DealProjectorTopology.build(dealConfig, topics, meters));
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

    private static Map<String, Object> dealOfOrder(long orderId) throws InterruptedException {
        await("order " + orderId + " has its deal", Duration.ofSeconds(30),
                () -> emu.crm().dealsByOrigin("dealbridge:s1", Long.toString(orderId)).size() == 1);
        return emu.crm().dealsByOrigin("dealbridge:s1", Long.toString(orderId)).get(0);
    }

    private static long id(Map<String, Object> deal) {
        return Long.parseLong(String.valueOf(deal.get("ID")));
    }

    private static Object field(long dealId, String field) {
        return emu.crm().deal(dealId).get(field);
    }

    /** Waits until no write touches the pair for 3 s, so the next human edit is not raced by DealBridge's own echo. */
    private static void settle(long dealId, long orderId) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        int seen = writes(dealId, orderId);
        long quietSince = System.nanoTime();
        while (System.nanoTime() - quietSince < Duration.ofSeconds(3).toNanos() && System.nanoTime() < deadline) {
            Thread.sleep(200);
            int now = writes(dealId, orderId);
            if (now != seen) {
                seen = now;
                quietSince = System.nanoTime();
            }
        }
    }

    private static int writes(long dealId, long orderId) {
        java.util.function.Predicate<org.dealbridge.emulator.Call> deal = c -> Long.toString(dealId).equals(c.param("id"));
        return emu.calls().count(Portal.CRM, "crm.deal.update", deal) + emu.calls().count(Portal.CRM, "crm.item.update", deal)
                + emu.calls().count(Portal.CRM, "crm.deal.productrows.set", deal)
                + emu.calls().count(Portal.STORE, "sale.order.update", c -> Long.toString(orderId).equals(c.param("id")));
    }

    private static long sofaOrder() {
        return emu.store().addOrder(NewOrder.create().site("s1").status("N").item(101, "Sofa", "1500.00", 1));
    }

    @Test
    void aPipelineAManagerChoseStandsAndTheStatusIsMappedThroughIt() throws Exception {
        long orderId = sofaOrder();
        long dealId = id(dealOfOrder(orderId));
        assertThat(field(dealId, "CATEGORY_ID")).isEqualTo("1");
        settle(dealId, orderId);

        emu.crm().updateDealAsHuman(dealId, Map.of("CATEGORY_ID", 2, "STAGE_ID", "C2:NEW", "byUserId", 7));
        settle(dealId, orderId);
        emu.store().updateOrderAsHuman(orderId, Map.of("statusId", "P"));

        await("the deal follows the status in the manager's pipeline", Duration.ofSeconds(30),
                () -> "C2:EXECUTING".equals(field(dealId, "STAGE_ID")));
        settle(dealId, orderId);
        assertThat(field(dealId, "CATEGORY_ID")).as("the manager's pipeline").isEqualTo("2");
        assertThat(field(dealId, "STAGE_ID")).isEqualTo("C2:EXECUTING");
        assertThat(emu.store().order(orderId).get("statusId")).isEqualTo("P");
    }

    @Test
    void aManagersTitleAndAmountStandThroughTheShopsLaterChanges() throws Exception {
        long orderId = sofaOrder();
        long dealId = id(dealOfOrder(orderId));
        settle(dealId, orderId);

        emu.crm().updateDealAsHuman(dealId, Map.of("TITLE", "Call Olga before delivery", "OPPORTUNITY", "1400.00", "byUserId", 7));
        settle(dealId, orderId);
        emu.store().updateOrderAsHuman(orderId, Map.of("statusId", "P"));
        await("the first status change reaches the deal", Duration.ofSeconds(30),
                () -> "C1:PREPARATION".equals(field(dealId, "STAGE_ID")));
        settle(dealId, orderId);
        // the second change is where a copy of the deal refreshed after the first write used to overwrite the edit
        emu.store().updateOrderAsHuman(orderId, Map.of("statusId", "F", "basketItems",
                List.of(Map.of("productId", 101, "name", "Sofa", "price", "1500.00", "quantity", 2))));
        await("the second status change reaches the deal", Duration.ofSeconds(30), () -> "C1:WON".equals(field(dealId, "STAGE_ID")));
        settle(dealId, orderId);

        assertThat(field(dealId, "TITLE")).as("the manager's title").isEqualTo("Call Olga before delivery");
        assertThat(field(dealId, "OPPORTUNITY")).as("the manager's amount, though the order's price changed").isEqualTo("1400.00");
        assertThat(emu.crm().dealProductRows(dealId)).as("the rows follow the basket: DealBridge set them and nobody changed them")
                .singleElement().satisfies(row -> assertThat(new BigDecimal(String.valueOf(row.get("QUANTITY")))).isEqualByComparingTo("2"));
    }

    @Test
    void aBasketChangeThatPicksAnotherPipelineStillMovesTheDealWithItsAmount() throws Exception {
        long orderId = sofaOrder();
        long dealId = id(dealOfOrder(orderId));
        settle(dealId, orderId);

        emu.store().updateOrderAsHuman(orderId, Map.of("basketItems",
                List.of(Map.of("productId", 201, "name", "Phone X", "price", "49990.00", "quantity", 1))));

        await("the deal follows its products to pipeline 2", Duration.ofSeconds(30), () -> "2".equals(field(dealId, "CATEGORY_ID")));
        await("with the new amount", Duration.ofSeconds(30), () -> "49990.00".equals(field(dealId, "OPPORTUNITY")));
        assertThat(field(dealId, "STAGE_ID")).isEqualTo("C2:NEW");
        assertThat(emu.crm().dealsByOrigin("dealbridge:s1", Long.toString(orderId))).hasSize(1);
    }

    @Test
    void aDealDeletedInTheCrmUnlinksItsOrderWithoutDeadLettersOrANewDeal() throws Exception {
        long orderId = sofaOrder();
        long dealId = id(dealOfOrder(orderId));
        settle(dealId, orderId);
        int adds = emu.calls().count(Portal.CRM, "crm.deal.add");

        emu.crm().deleteDealAsHuman(dealId);
        Thread.sleep(1_000);  // the delete event goes its way; the next change must find the order unlinked either way
        emu.store().updateOrderAsHuman(orderId, Map.of("statusId", "P"));
        emu.store().updateOrderAsHuman(orderId, Map.of("statusId", "F"));

        List<SyncOutcome> outcomes = outcomesOf("s1:" + orderId, o -> o.getOutcome() == Outcome.DEAL_DELETED, 2);
        assertThat(outcomes).allSatisfy(o -> assertThat(o.getReason()).contains(Long.toString(dealId)));
        assertThat(emu.calls().count(Portal.CRM, "crm.deal.add")).as("no new deal under deals.onDeleted = unlink").isEqualTo(adds);
        assertThat(deadLettersFor("s1:" + orderId)).as("a deletion is not an error").isZero();
    }

    @Test
    void anOrderDeletedInTheStoreIsRecordedAndItsDealIsLeftAlone() throws Exception {
        long orderId = sofaOrder();
        long dealId = id(dealOfOrder(orderId));
        settle(dealId, orderId);

        emu.store().deleteOrderAsHuman(orderId);
        assertThat(outcomesOf("s1:" + orderId, o -> o.getOutcome() == Outcome.ORDER_DELETED, 1))
                .anySatisfy(o -> assertThat(o.getReason()).contains("deleted in the store", "left as it is"));
        emu.crm().updateDealAsHuman(dealId, Map.of("STAGE_ID", "C1:WON", "byUserId", 7));  // nothing left to follow
        assertThat(outcomesOf("s1:" + orderId, o -> o.getOutcome() == Outcome.ORDER_DELETED
                && o.getDirection() == org.dealbridge.schemas.SyncDirection.DEAL_TO_ORDER, 1)).isNotEmpty();

        assertThat(field(dealId, "STAGE_ID")).isEqualTo("C1:WON");
        assertThat(field(dealId, "CATEGORY_ID")).isEqualTo("1");
        assertThat(emu.calls().count(Portal.STORE, "sale.order.update", c -> Long.toString(orderId).equals(c.param("id")))).isZero();
        assertThat(deadLettersFor("s1:" + orderId)).isZero();
    }

    /** Waits for at least {@code atLeast} outcomes of an order that match, reading sync-outcomes from the start. */
    private static List<SyncOutcome> outcomesOf(String key, java.util.function.Predicate<SyncOutcome> match, int atLeast)
            throws InterruptedException {
        List<SyncOutcome> found = new java.util.ArrayList<>();
        Properties props = consumerProps();
        try (org.apache.kafka.clients.consumer.KafkaConsumer<String, byte[]> consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<>(
                props, new org.apache.kafka.common.serialization.StringDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topics.syncOutcomes().name()));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (found.size() < atLeast && System.nanoTime() < deadline) {
                for (var record : consumer.poll(Duration.ofMillis(200))) {
                    SyncOutcome outcome = topics.syncOutcomes().valueSerde().deserializer().deserialize(record.topic(), record.value());
                    if (key.equals(record.key()) && match.test(outcome)) {
                        found.add(outcome);
                    }
                }
            }
        }
        assertThat(found).as("outcomes of %s", key).hasSizeGreaterThanOrEqualTo(atLeast);
        return found;
    }

    /** Dead letters whose key or reason names the order, read from the start of the dead-letters topic. */
    private static long deadLettersFor(String orderKey) {
        Properties props = consumerProps();
        long count = 0;
        try (org.apache.kafka.clients.consumer.KafkaConsumer<String, byte[]> consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<>(
                props, new org.apache.kafka.common.serialization.StringDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            var partitions = consumer.partitionsFor(topics.deadLetters().name()).stream()
                    .map(p -> new org.apache.kafka.common.TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            var end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                for (var record : consumer.poll(Duration.ofMillis(200))) {
                    if (record.value() == null) {
                        continue;
                    }
                    var letter = topics.deadLetters().valueSerde().deserializer().deserialize(record.topic(), record.value());
                    if (letter.getReason().contains(orderKey)) {
                        count++;
                    }
                }
            }
        }
        return count;
    }

    private static Properties consumerProps() {
        Properties props = new Properties();
        props.put("bootstrap.servers", KAFKA.bootstrapServers());
        props.put("group.id", "ownership-e2e-" + java.util.UUID.randomUUID());
        props.put("auto.offset.reset", "earliest");
        props.put("isolation.level", "read_committed");
        return props;
    }
}
