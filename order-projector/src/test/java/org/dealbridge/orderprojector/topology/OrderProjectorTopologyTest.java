package org.dealbridge.orderprojector.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.dealbridge.mapping.MappingProfiles;
import org.dealbridge.orderprojector.OrderProjectorConfig;
import org.dealbridge.mapping.PairDecision;
import org.dealbridge.schemas.ChangeCause;
import org.dealbridge.schemas.ChangeSource;
import org.dealbridge.schemas.DeadLetter;
import org.dealbridge.schemas.DealChanged;
import org.dealbridge.schemas.LinkOrigin;
import org.dealbridge.schemas.MappingProfile;
import org.dealbridge.schemas.OrderCommand;
import org.dealbridge.schemas.OrderCommandKind;
import org.dealbridge.schemas.Outcome;
import org.dealbridge.schemas.ProductRow;
import org.dealbridge.schemas.SyncDirection;
import org.dealbridge.schemas.SyncLink;
import org.dealbridge.schemas.SyncOutcome;
import org.dealbridge.schemas.Topics;
import org.dealbridge.schemas.registry.InMemorySchemaRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The order projector under {@link TopologyTestDriver}: deal changes in, order commands and outcomes out. */
class OrderProjectorTopologyTest {

    static final String MAPPING = """
            site: s1
            pipelines: { default: 0 }
            stages:
              "0":
                - { stage: NEW, status: N }
                - { stage: WON, status: F }
              "1":
                - { stage: "C1:NEW", status: N }
                - { stage: "C1:PREPARATION", status: P }
                - { stage: "C1:PREPARATION", status: A }
                - { stage: "C1:WON", status: F }
            responsible: { default: 1 }
            dealFields:
              paySystemId: UF_CRM_PAY_SYSTEM
            dealToOrder: { pipelines: [1] }
            payment: { default: 3 }
            """;

    @TempDir
    Path stateDir;

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private TopologyTestDriver driver;
    private TestInputTopic<String, DealChanged> deals;
    private TestInputTopic<String, SyncLink> links;
    private TestInputTopic<String, MappingProfile> mappings;
    private TestOutputTopic<String, OrderCommand> commands;
    private TestOutputTopic<String, SyncOutcome> outcomes;
    private TestOutputTopic<String, DeadLetter> deadLetters;
    private TestOutputTopic<String, SyncLink> linksOut;
    private Instant now = Instant.parse("2026-11-29T10:00:00Z");

    @BeforeEach
    void start() {
        Topics topics = new Topics(new InMemorySchemaRegistry());
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "order-projector-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        driver = new TopologyTestDriver(OrderProjectorTopology.build(new OrderProjectorConfig(Map.of(OrderProjectorConfig.SITE_ID, "s1")),
                topics, PairDecision.UNDER_MAPPING, meters), props, now);
        deals = driver.createInputTopic(topics.dealChanges().name(), topics.dealChanges().keySerde().serializer(),
                topics.dealChanges().valueSerde().serializer());
        links = driver.createInputTopic(topics.dealLinks().name(), topics.dealLinks().keySerde().serializer(),
                topics.dealLinks().valueSerde().serializer());
        mappings = driver.createInputTopic(topics.mappingConfig().name(), topics.mappingConfig().keySerde().serializer(),
                topics.mappingConfig().valueSerde().serializer());
        commands = driver.createOutputTopic(topics.orderCommands().name(), topics.orderCommands().keySerde().deserializer(),
                topics.orderCommands().valueSerde().deserializer());
        outcomes = driver.createOutputTopic(topics.syncOutcomes().name(), topics.syncOutcomes().keySerde().deserializer(),
                topics.syncOutcomes().valueSerde().deserializer());
        deadLetters = driver.createOutputTopic(topics.deadLetters().name(), topics.deadLetters().keySerde().deserializer(),
                topics.deadLetters().valueSerde().deserializer());
        linksOut = driver.createOutputTopic(topics.dealLinks().name(), topics.dealLinks().keySerde().deserializer(),
                topics.dealLinks().valueSerde().deserializer());
    }

    @AfterEach
    void stop() {
        driver.close();
    }

    private void publishMapping() {
        mappings.pipeInput("s1", MappingProfiles.build("s1", MAPPING, 4, "admin", now));
    }

    private void link(long orderId, long dealId, String stage, String status) {
        links.pipeInput("s1:" + orderId, SyncLink.newBuilder().setSiteId("s1").setOrderId(orderId).setDealId(dealId)
                .setCategoryId(1).setStageId(stage).setStatusId(status).setOrigin(LinkOrigin.ORDER).setUpdatedAt(now).build());
    }

    private static DealChanged.Builder deal(long id, long pipeline, String stage) {
        return DealChanged.newBuilder().setDealId(id).setCategoryId(pipeline).setStageId(stage)
                .setDateModify(Instant.parse("2026-11-29T09:59:00Z")).setCurrency("RUB")
                .setCause(ChangeCause.newBuilder().setSource(ChangeSource.CRM_HOOK).setActor("7").build());
    }

    private void changed(DealChanged.Builder deal) {
        now = now.plusSeconds(1);
        DealChanged value = deal.build();
        deals.pipeInput(Long.toString(value.getDealId()), value, now);
    }

    private static ProductRow row(long productId, String price, String quantity) {
        return ProductRow.newBuilder().setProductId(productId).setName("Product " + productId).setPrice(price).setQuantity(quantity).build();
    }

    private double counted(String outcome) {
        Counter counter = meters.find("dealbridge.sync.outcomes").tags("direction", "DEAL_TO_ORDER", "outcome", outcome).counter();
        return counter == null ? 0 : counter.count();
    }

    @Test
    void aLinkedDealsStageChangeUpdatesItsOrderExpectingTheLinkedStatus() {
        publishMapping();
        link(5001, 812, "C1:NEW", "N");
        changed(deal(812, 1, "C1:WON"));

        List<TestRecord<String, OrderCommand>> out = commands.readRecordsToList();
        assertThat(out).hasSize(1);
        assertThat(out.get(0).key()).isEqualTo("812");
        OrderCommand command = out.get(0).value();
        assertThat(command.getKind()).isEqualTo(OrderCommandKind.UPDATE_STATUS);
        assertThat(command.getSiteId()).isEqualTo("s1");
        assertThat(command.getOrderId()).isEqualTo(5001L);
        assertThat(command.getStatusId()).isEqualTo("F");
        assertThat(command.getExpectedStatusId()).isEqualTo("N");
        assertThat(command.getMappingVersion()).isEqualTo(4L);
        assertThat(command.getSourceTime()).isEqualTo(Instant.parse("2026-11-29T09:59:00Z"));
        assertThat(outcomes.readValuesToList()).as("the connector records the outcome once it has acted").isEmpty();
    }

    @Test
    void aManagersMoveOfANewDealSeenBeforeItsLinkReachesTheOrderOnceTheLinkArrives() {
        publishMapping();
        String ours = new OrderProjectorConfig(Map.of(OrderProjectorConfig.SITE_ID, "s1")).originatorId("s1");
        // DealBridge made deal 812 for order 5001 at C1:NEW; a manager won it before the link reached this projector
        changed(deal(812, 1, "C1:WON").setOriginatorId(ours).setOriginId("5001"));
        assertThat(commands.readRecordsToList()).as("no link yet: nothing to decide against").isEmpty();
        assertThat(outcomes.readValuesToList()).singleElement()
                .satisfies(o -> assertThat(o.getReason().toString()).contains("decided again when the link arrives"));

        link(5001, 812, "C1:NEW", "N");
        driver.advanceWallClockTime(DealProjector.RECHECK_EVERY);

        List<TestRecord<String, OrderCommand>> out = commands.readRecordsToList();
        assertThat(out).as("the manager's move reaches the order").singleElement().satisfies(c -> {
            assertThat(c.value().getKind()).isEqualTo(OrderCommandKind.UPDATE_STATUS);
            assertThat(c.value().getStatusId()).isEqualTo("F");
            assertThat(c.value().getExpectedStatusId()).isEqualTo("N");
        });
        driver.advanceWallClockTime(Duration.ofSeconds(5));
        assertThat(commands.readRecordsToList()).as("decided once").isEmpty();
    }

    @Test
    void aManagersMoveJudgedOnALinkOlderThanDealBridgesLastWriteReachesTheOrderWhenTheNewerLinkArrives() {
        publishMapping();
        link(5001, 812, "C1:NEW", "N");
        // DealBridge wrote C1:WON for the shop's F; before that write's link came back, a manager moved the deal back
        // to C1:NEW, which the old link reads as consistent with N
        changed(deal(812, 1, "C1:NEW"));
        assertThat(commands.readRecordsToList()).isEmpty();
        assertThat(outcomes.readValuesToList()).singleElement().satisfies(o -> assertThat(o.getOutcome()).isEqualTo(Outcome.ECHO_SUPPRESSED));

        link(5001, 812, "C1:WON", "F");
        driver.advanceWallClockTime(DealProjector.RECHECK_EVERY);

        assertThat(commands.readRecordsToList()).as("decided again on the newer link: the manager's move wins")
                .singleElement().satisfies(c -> {
                    assertThat(c.value().getStatusId()).isEqualTo("N");
                    assertThat(c.value().getExpectedStatusId()).isEqualTo("F");
                });
        driver.advanceWallClockTime(DealProjector.RECHECK_WINDOW.plusSeconds(5));
        assertThat(commands.readRecordsToList()).as("decided once").isEmpty();
    }

    @Test
    void aNewDealsEchoSeenBeforeItsLinkWritesNothingAndIsCountedOnce() {
        publishMapping();
        String ours = new OrderProjectorConfig(Map.of(OrderProjectorConfig.SITE_ID, "s1")).originatorId("s1");
        changed(deal(812, 1, "C1:NEW").setOriginatorId(ours).setOriginId("5001"));
        outcomes.readValuesToList();
        link(5001, 812, "C1:NEW", "N");
        driver.advanceWallClockTime(DealProjector.RECHECK_EVERY);
        assertThat(commands.readRecordsToList()).isEmpty();
        // decided again, consistent: no second outcome for the same echo (each echo would otherwise count twice)
        assertThat(outcomes.readValuesToList()).isEmpty();
    }

    @Test
    void anEchoOrAManyToOneStageIsConsistentAndWritesNothing() {
        publishMapping();
        // the shop set A; DealBridge moved the deal to C1:PREPARATION, whose first-listed status is P
        link(5001, 812, "C1:PREPARATION", "A");
        changed(deal(812, 1, "C1:PREPARATION"));
        // a manager edits something else while the link still holds the older stage
        link(5002, 813, "C1:NEW", "A");
        changed(deal(813, 1, "C1:PREPARATION"));

        assertThat(commands.readValuesToList()).isEmpty();
        List<SyncOutcome> seen = outcomes.readValuesToList();
        assertThat(seen).extracting(SyncOutcome::getOutcome).containsExactly(Outcome.ECHO_SUPPRESSED, Outcome.ECHO_SUPPRESSED);
        assertThat(seen.get(0).getDirection()).isEqualTo(SyncDirection.DEAL_TO_ORDER);
        assertThat(seen.get(0).getReason()).contains("C1:PREPARATION", "A", "s1:5001");
        assertThat(counted("ECHO_SUPPRESSED")).isEqualTo(2.0);
    }

    @Test
    void aStageWithoutAStatusChangesNothingAndSaysWhy() {
        publishMapping();
        link(5001, 812, "C1:NEW", "N");
        changed(deal(812, 1, "C1:LOSE"));

        assertThat(commands.readValuesToList()).isEmpty();
        List<TestRecord<String, SyncOutcome>> seen = outcomes.readRecordsToList();
        assertThat(seen).hasSize(1);
        assertThat(seen.get(0).key()).isEqualTo("s1:5001");
        assertThat(seen.get(0).value().getOutcome()).isEqualTo(Outcome.SKIPPED_UNMAPPED_STAGE);
        assertThat(seen.get(0).value().getReason()).contains("C1:LOSE", "pipeline 1", "version 4", "keeps status N");
    }

    @Test
    void aHandMadeDealInAnOrderCreatingPipelineCreatesAnOrderWithTheMappedPaySystem() {
        publishMapping();
        changed(deal(900, 1, "C1:NEW").setContactId(44L).setUserFields(Map.of("UF_CRM_PAY_SYSTEM", "9"))
                .setProductRows(List.of(row(101, "1500.00", "2"))));
        changed(deal(901, 1, "C1:PREPARATION").setProductRows(List.of(row(102, "10.00", "1"))));

        List<OrderCommand> out = commands.readValuesToList();
        assertThat(out).hasSize(2);
        assertThat(out.get(0).getKind()).isEqualTo(OrderCommandKind.CREATE);
        assertThat(out.get(0).getOrderId()).isNull();
        assertThat(out.get(0).getSiteId()).isEqualTo("s1");
        assertThat(out.get(0).getStatusId()).isEqualTo("N");
        assertThat(out.get(0).getPaySystemValue()).as("the deal's raw value, for the connector to check").isEqualTo("9");
        assertThat(out.get(0).getPaySystemField()).isEqualTo("UF_CRM_PAY_SYSTEM");
        assertThat(out.get(0).getPaySystemId()).as("payment.default, the fallback").isEqualTo(3L);
        assertThat(out.get(0).getItems()).containsExactly(row(101, "1500.00", "2"));
        assertThat(out.get(0).getCurrency()).isEqualTo("RUB");
        assertThat(out.get(1).getStatusId()).as("first status listed for the stage").isEqualTo("P");
        assertThat(out.get(1).getPaySystemValue()).as("no UF value").isNull();
        assertThat(out.get(1).getPaySystemId()).as("no UF value: payment.default").isEqualTo(3L);
    }

    @Test
    void dealsThatMustNotCreateOrdersDoNot() {
        publishMapping();
        changed(deal(902, 0, "NEW").setProductRows(List.of(row(1, "1", "1"))));                        // pipeline 0 creates none
        changed(deal(903, 1, "C1:NEW").setOriginatorId("dealbridge:s1").setOriginId("5009")
                .setProductRows(List.of(row(1, "1", "1"))));                                              // made from an order
        changed(deal(904, 1, "C1:NEW"));                                                                  // no product rows yet
        changed(deal(905, 1, "C1:NEW").setDeleted(true));

        assertThat(commands.readValuesToList()).isEmpty();
        List<SyncOutcome> seen = outcomes.readValuesToList();
        assertThat(seen).extracting(SyncOutcome::getReason).satisfiesExactly(
                r -> assertThat(r).contains("pipeline 0", "does not create orders", "[1]"),
                r -> assertThat(r).contains("made by DealBridge", "5009"),
                r -> assertThat(r).contains("no product rows"),
                r -> assertThat(r).contains("deleted"));
    }

    @Test
    void aDealDeletedInTheCrmUnlinksItsOrderWithAnOutcomeAndNoDeadLetter() {
        publishMapping();
        link(5001, 812, "C1:NEW", "N");

        changed(deal(812, 1, "C1:NEW").setDeleted(true));

        assertThat(commands.readValuesToList()).isEmpty();
        assertThat(deadLetters.readValuesToList()).isEmpty();
        SyncOutcome outcome = outcomes.readValue();
        assertThat(outcome.getOutcome()).isEqualTo(Outcome.DEAL_DELETED);
        assertThat(outcome.getReason()).contains("812", "s1:5001", "unlinked", "deals.onDeleted = unlink");
        var unlinked = linksOut.readKeyValue();
        assertThat(unlinked.key).isEqualTo("s1:5001");
        assertThat(unlinked.value.getDealId()).isEqualTo(812);
        assertThat(unlinked.value.getDealDeletedAt()).as("when DealBridge learnt of the deletion").isNotNull();
    }

    @Test
    void withoutAMappingNothingIsWritten() {
        link(5001, 812, "C1:NEW", "N");
        changed(deal(812, 1, "C1:WON"));
        changed(deal(906, 1, "C1:NEW").setProductRows(List.of(row(1, "1", "1"))));

        assertThat(commands.readValuesToList()).isEmpty();
        assertThat(outcomes.readValuesToList()).extracting(SyncOutcome::getOutcome)
                .containsExactly(Outcome.SKIPPED_NO_MAPPING, Outcome.SKIPPED_NO_MAPPING);
    }

    @Test
    void aRemovedLinkMakesTheDealUnlinkedAgain() {
        publishMapping();
        link(5001, 812, "C1:NEW", "N");
        links.pipeInput("s1:5001", (SyncLink) null);
        changed(deal(812, 1, "C1:WON").setProductRows(List.of(row(1, "1", "1"))));

        assertThat(commands.readValuesToList()).singleElement()
                .satisfies(c -> assertThat(c.getKind()).isEqualTo(OrderCommandKind.CREATE));
    }

    @Test
    void anOrderRelinkedToAnotherDealNoLongerFollowsTheOldOne() {
        publishMapping();
        link(5001, 812, "C1:NEW", "N");
        link(5001, 820, "C1:NEW", "N");  // the order's link now names deal 820
        changed(deal(812, 1, "C1:WON"));
        changed(deal(820, 1, "C1:WON"));

        List<OrderCommand> out = commands.readValuesToList();
        assertThat(out).singleElement().satisfies(c -> {
            assertThat(c.getDealId()).isEqualTo(820L);
            assertThat(c.getOrderId()).isEqualTo(5001L);
        });
        assertThat(outcomes.readValuesToList()).as("deal 812 is an unlinked deal again, without rows")
                .singleElement().satisfies(o -> assertThat(o.getReason()).contains("812", "no product rows"));
    }

    @Test
    void aPaySystemValueThatIsNoIdIsNoDeadLetterButTravelsToTheConnector() {
        publishMapping();
        changed(deal(907, 1, "C1:NEW").setUserFields(Map.of("UF_CRM_PAY_SYSTEM", "card")).setProductRows(List.of(row(1, "1", "1"))));

        assertThat(commands.readValuesToList()).singleElement().satisfies(c -> {
            assertThat(c.getKind()).isEqualTo(OrderCommandKind.CREATE);
            assertThat(c.getPaySystemValue()).isEqualTo("card");
            assertThat(c.getPaySystemId()).isEqualTo(3L);
        });
        assertThat(deadLetters.readValuesToList()).isEmpty();
    }

    @Test
    void badRecordsGoToDeadLettersNamingTheValue() {
        publishMapping();
        deals.pipeInput("999", deal(908, 1, "C1:NEW").build());

        assertThat(commands.readValuesToList()).isEmpty();
        List<DeadLetter> letters = deadLetters.readValuesToList();
        assertThat(letters).extracting(l -> l.getReason().toString()).satisfiesExactly(
                r -> assertThat(r).contains("'999'", "908"));
        assertThat(letters.get(0).getComponent()).isEqualTo("order-projector");
        assertThat(counted("DEAD_LETTERED")).isEqualTo(1.0);
    }
}
