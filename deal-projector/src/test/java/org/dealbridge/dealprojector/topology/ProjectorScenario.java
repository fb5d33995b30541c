package org.dealbridge.dealprojector.topology;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.dealbridge.dealprojector.DealProjectorConfig;
import org.dealbridge.mapping.MappingProfiles;
import org.dealbridge.schemas.BasketItem;
import org.dealbridge.schemas.Buyer;
import org.dealbridge.schemas.ChangeCause;
import org.dealbridge.schemas.ChangeSource;
import org.dealbridge.schemas.DeadLetter;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.LinkOrigin;
import org.dealbridge.schemas.MappingProfile;
import org.dealbridge.schemas.OrderChanged;
import org.dealbridge.schemas.SyncLink;
import org.dealbridge.schemas.SyncOutcome;
import org.dealbridge.schemas.Topics;
import org.dealbridge.schemas.registry.InMemorySchemaRegistry;

/**
 * A running deal projector under {@link TopologyTestDriver}, with the vocabulary the scenarios are written in:
 * publish a mapping, the store changes an order, the connector links a deal, and what came out.
 */
final class ProjectorScenario implements AutoCloseable {

    static final String SITE = "s1";

    /** The shop of the scenarios: furniture (section 10) → pipeline 1, its sofas (12) → pipeline 2, the rest → 0. */
    static final String MAPPING = """
            site: s1
            pipelines:
              default: 0
              bySection:
                - { section: 10, pipeline: 1 }
                - { section: 12, pipeline: 2 }
            stages:
              "0":
                - { stage: NEW, status: N }
                - { stage: EXECUTING, status: P }
                - { stage: EXECUTING, status: S }
                - { stage: WON, status: F }
              "1":
                - { stage: "C1:NEW", status: N }
                - { stage: "C1:WON", status: F }
              "2":
                - { stage: "C2:NEW", status: N }
                - { stage: "C2:EXECUTING", status: P }
            responsible:
              default: 1
              byPipeline: { "2": 9 }
              contactOwner: false
            dealFields:
              paySystemId: UF_CRM_PAY_SYSTEM
            payment: { default: 1 }
            """;

    final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final TopologyTestDriver driver;
    private final TestInputTopic<String, OrderChanged> orders;
    private final TestInputTopic<String, SyncLink> links;
    private final TestInputTopic<String, MappingProfile> mappings;
    private final TestOutputTopic<String, DealCommand> commands;
    private final TestOutputTopic<String, SyncOutcome> outcomes;
    private final TestOutputTopic<String, DeadLetter> deadLetters;
    private final List<DealCommand> commandsSeen = new ArrayList<>();
    private final List<SyncOutcome> outcomesSeen = new ArrayList<>();
    private Instant now = Instant.parse("2026-11-29T10:00:00Z");
    /** The driver's wall clock: the time an order change is published at, as the ingestion's producer stamps it. */
    private Instant wallClock = now;

    ProjectorScenario(Path stateDir) {
        this(stateDir, Duration.ZERO);
    }

    ProjectorScenario(Path stateDir, Duration coalesceWindow) {
        Topics topics = new Topics(new InMemorySchemaRegistry());
        DealProjectorConfig config = new DealProjectorConfig(Map.of(
                DealProjectorConfig.COALESCE_WINDOW, Long.toString(coalesceWindow.toMillis())));
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "deal-projector-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        driver = new TopologyTestDriver(DealProjectorTopology.build(config, topics, meters), props, now);
        orders = driver.createInputTopic(topics.orderChanges().name(), topics.orderChanges().keySerde().serializer(),
                topics.orderChanges().valueSerde().serializer());
        links = driver.createInputTopic(topics.dealLinks().name(), topics.dealLinks().keySerde().serializer(),
                topics.dealLinks().valueSerde().serializer());
        mappings = driver.createInputTopic(topics.mappingConfig().name(), topics.mappingConfig().keySerde().serializer(),
                topics.mappingConfig().valueSerde().serializer());
        commands = driver.createOutputTopic(topics.dealCommands().name(), topics.dealCommands().keySerde().deserializer(),
                topics.dealCommands().valueSerde().deserializer());
        outcomes = driver.createOutputTopic(topics.syncOutcomes().name(), topics.syncOutcomes().keySerde().deserializer(),
                topics.syncOutcomes().valueSerde().deserializer());
        deadLetters = driver.createOutputTopic(topics.deadLetters().name(), topics.deadLetters().keySerde().deserializer(),
                topics.deadLetters().valueSerde().deserializer());
    }

    // --- what the admin and the store do ---

    ProjectorScenario theAdminPublishes(String yaml, long version) {
        mappings.pipeInput(SITE, MappingProfiles.build(SITE, yaml, version, "admin", now));
        return this;
    }

    ProjectorScenario theAdminWithdrawsTheMapping() {
        mappings.pipeInput(SITE, null);
        return this;
    }

    ProjectorScenario theStoreReports(OrderChanged order) {
        return theStoreReportedAt(order, wallClock);
    }

    /** An order change published at {@code publishedAt} (its record's timestamp), taken in by the projector now. */
    ProjectorScenario theStoreReportedAt(OrderChanged order, Instant publishedAt) {
        now = now.plusSeconds(1);
        orders.pipeInput(Keys.order(order.getSiteId(), order.getOrderId()), order, publishedAt);
        return this;
    }

    /** The driver's wall clock now. */
    Instant wallClock() {
        return wallClock;
    }

    /** The connector reports the deal it wrote: the link as the CRM connector produces it after a write. */
    ProjectorScenario theConnectorLinks(long orderId, long dealId, long pipeline, String stage, String status,
                                        Map<String, String> dealFields) {
        return theConnectorLinks(orderId, dealId, pipeline, stage, status, dealFields, Map.of());
    }

    /**
     * The connector reports the deal it wrote, with what DealBridge wrote ({@code dealFields}) and the order's values
     * both sides now agree on ({@code orderValues}).
     */
    ProjectorScenario theConnectorLinks(long orderId, long dealId, long pipeline, String stage, String status,
                                        Map<String, String> dealFields, Map<String, String> orderValues) {
        return theConnectorPublishes(link(orderId, dealId, pipeline, stage, status, dealFields, orderValues).build());
    }

    ProjectorScenario theConnectorPublishes(SyncLink link) {
        links.pipeInput(Keys.order(SITE, link.getOrderId()), link, now);
        return this;
    }

    SyncLink.Builder link(long orderId, long dealId, long pipeline, String stage, String status,
                          Map<String, String> dealFields, Map<String, String> orderValues) {
        return link(orderId, dealId, pipeline, stage, status, dealFields, orderValues, now);
    }

    private static SyncLink.Builder link(long orderId, long dealId, long pipeline, String stage, String status,
                                         Map<String, String> dealFields, Map<String, String> orderValues, Instant updatedAt) {
        return SyncLink.newBuilder()
                .setSiteId(SITE).setOrderId(orderId).setDealId(dealId).setCategoryId(pipeline).setStageId(stage)
                .setStatusId(status).setDealFields(new HashMap<>(dealFields)).setOrderValues(new HashMap<>(orderValues))
                .setOrigin(LinkOrigin.ORDER).setUpdatedAt(updatedAt);
    }

    /**
     * The link the connector writes after executing this CREATE command: what it wrote (the order's values, the
     * pipeline it chose, the responsible and the rows' digest) and the order's values and basket as the agreement.
     */
    ProjectorScenario theConnectorLinksTheCreatedDeal(DealCommand create, long dealId, String status) {
        return theConnectorPublishes(linkOfTheCreatedDeal(create, dealId, status).build());
    }

    SyncLink.Builder linkOfTheCreatedDeal(DealCommand create, long dealId, String status) {
        return linkOfTheCreatedDeal(create, dealId, status, now);
    }

    static SyncLink.Builder linkOfTheCreatedDeal(DealCommand create, long dealId, String status, Instant updatedAt) {
        return link(create.getOrderId(), dealId, Long.parseLong(create.getFields().get(DealFields.CATEGORY_ID)),
                create.getFields().get(DealFields.STAGE_ID), status, writtenBy(create), create.getOrderValues(), updatedAt)
                .setDealRowsDigest(DealFields.productRowsDigest(create.getProductRows()))
                .setOrderRowsDigest(create.getOrderRowsDigest());
    }

    /** What the connector records as written by a CREATE (see LinkAfterWrite): the order's values it sent. */
    static Map<String, String> writtenBy(DealCommand create) {
        Map<String, String> written = new HashMap<>();
        create.getFields().forEach((field, value) -> {
            if (create.getOrderValues().containsKey(field) || field.equals(DealFields.ASSIGNED_BY_ID)) {
                written.put(field, value);
            }
        });
        return written;
    }

    ProjectorScenario timePasses(Duration duration) {
        driver.advanceWallClockTime(duration);
        wallClock = wallClock.plus(duration);
        return this;
    }

    // --- what came out ---

    List<DealCommand> commands() {
        commandsSeen.addAll(commands.readValuesToList());
        return commandsSeen;
    }

    DealCommand onlyCommand() {
        List<DealCommand> all = commands();
        if (all.size() != 1) {
            throw new AssertionError("expected exactly one deal command but got " + all.size() + ": " + all);
        }
        return all.get(0);
    }

    List<SyncOutcome> outcomes() {
        outcomesSeen.addAll(outcomes.readValuesToList());
        return outcomesSeen;
    }

    List<DeadLetter> deadLetters() {
        return deadLetters.readValuesToList();
    }

    double counted(String metric, String... tags) {
        Counter counter = meters.find(metric).tags(tags).counter();
        return counter == null ? 0 : counter.count();
    }

    /** Forgets what was read so far, so the next step's output stands alone. */
    ProjectorScenario clearOutput() {
        commands();
        outcomes();
        commandsSeen.clear();
        outcomesSeen.clear();
        return this;
    }

    @Override
    public void close() {
        driver.close();
    }

    // --- orders ---

    static OrderBuilder order(long orderId) {
        return new OrderBuilder(orderId);
    }

    static BasketItem line(long productId, String price, String quantity, Long... sectionPath) {
        return BasketItem.newBuilder().setProductId(productId).setName("Product " + productId)
                .setPrice(price).setQuantity(quantity).setSectionPath(List.of(sectionPath)).build();
    }

    static BasketItem variation(long productId, long parentProductId, String price, String quantity, Long... parentSectionPath) {
        return BasketItem.newBuilder(line(productId, price, quantity, parentSectionPath)).setParentProductId(parentProductId).build();
    }

    static final class OrderBuilder {
        private final OrderChanged.Builder order;
        private final List<BasketItem> items = new ArrayList<>();
        private Instant updated = Instant.parse("2026-11-29T09:00:00Z");

        OrderBuilder(long orderId) {
            order = OrderChanged.newBuilder().setSiteId(SITE).setOrderId(orderId).setAccountNumber("A-" + orderId)
                    .setStatusId("N").setCurrency("RUB").setPrice("1500").setPaySystemIds(List.of(3L))
                    .setBuyer(Buyer.newBuilder().setName("Anna Smirnova").setEmail("anna@example.com").setPhone("+79990001122").build())
                    .setCause(ChangeCause.newBuilder().setSource(ChangeSource.STORE_HOOK).build());
        }

        OrderBuilder status(String status) {
            order.setStatusId(status);
            return this;
        }

        OrderBuilder price(String price) {
            order.setPrice(price);
            return this;
        }

        OrderBuilder canceled() {
            order.setCanceled(true);
            return this;
        }

        OrderBuilder paySystems(Long... ids) {
            order.setPaySystemIds(List.of(ids));
            return this;
        }

        OrderBuilder noAccountNumber() {
            order.setAccountNumber(null);
            return this;
        }

        OrderBuilder with(BasketItem... lines) {
            items.addAll(List.of(lines));
            return this;
        }

        OrderBuilder xmlId(String xmlId) {
            order.setXmlId(xmlId);
            return this;
        }

        OrderBuilder updatedAt(String instant) {
            updated = Instant.parse(instant);
            return this;
        }

        OrderChanged build() {
            List<BasketItem> lines = items.isEmpty() ? List.of(line(1, "1500", "1", 99L)) : items;
            return order.setItems(lines).setDateUpdate(updated).build();
        }
    }
}
