package org.dealbridge.dealprojector.crm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.dealbridge.dealprojector.crm.DealBridgeUnderTest.await;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.emulator.Fault;
import org.dealbridge.emulator.Portal;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.schemas.BasketItem;
import org.dealbridge.schemas.Buyer;
import org.dealbridge.schemas.ChangeCause;
import org.dealbridge.schemas.ChangeSource;
import org.dealbridge.schemas.Outcome;
import org.dealbridge.schemas.SyncLink;
import org.dealbridge.schemas.SyncOutcome;
import org.dealbridge.schemas.OrderChanged;
import org.dealbridge.schemas.Topics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Orders to deals through a real broker, the projector, the connector and the CRM emulator over HTTP. */
class DealProjectorEndToEndTest {

    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();

    static final String MAPPING = """
            site: s1
            pipelines:
              default: 0
              bySection:
                - { section: 12, pipeline: 2 }
            stages:
              "0":
                - { stage: NEW, status: N }
                - { stage: EXECUTING, status: P }
                - { stage: WON, status: F }
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

    @TempDir
    static Path stateDir;

    static BitrixEmulator crm;
    static DealBridgeUnderTest bridge;

    @BeforeAll
    static void start() {
        // order-commands too: the CRM connector sends RECONCILE there when a manager's later stage stands
        KAFKA.createTopics(2, Topics.ORDER_CHANGES, Topics.DEAL_COMMANDS, Topics.DEAL_LINKS, Topics.BUYER_CONTACTS, Topics.SYNC_OUTCOMES,
                Topics.DEAD_LETTERS, Topics.ORDER_COMMANDS);
        KAFKA.createTopics(1, Topics.MAPPING_CONFIG);
        crm = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled());
        crm.crm().addPipeline(2, "Sofas");
        crm.crm().addUser(9, "Sofa", "Manager", "sofas@example.com", true);
        crm.crm().addDealUserField("UF_CRM_PAY_SYSTEM", "string");
        bridge = new DealBridgeUnderTest(KAFKA.bootstrapServers(), crm, stateDir, "e2e", false).start();
        bridge.publishMapping("s1", MAPPING, 1);
    }

    @AfterAll
    static void stop() throws Exception {
        if (bridge != null) {
            bridge.close();
        }
        if (crm != null) {
            crm.close();
        }
    }

    static OrderChanged order(long orderId, String status, long section) {
        return OrderChanged.newBuilder().setSiteId("s1").setOrderId(orderId).setAccountNumber("A-" + orderId)
                .setStatusId(status).setCurrency("RUB").setPrice("1500").setPaySystemIds(List.of(4L))
                .setBuyer(Buyer.newBuilder().setName("Buyer " + orderId).setEmail("buyer" + orderId + "@example.com").build())
                .setItems(List.of(BasketItem.newBuilder().setProductId(77).setName("Sofa").setPrice("1500").setQuantity("1")
                        .setSectionPath(List.of(10L, section)).build()))
                .setDateUpdate(Instant.now())
                .setCause(ChangeCause.newBuilder().setSource(ChangeSource.STORE_HOOK).build())
                .build();
    }

    static List<Map<String, Object>> deals(long orderId) {
        return crm.crm().dealsByOrigin("dealbridge:s1", Long.toString(orderId));
    }

    static void awaitDeal(long orderId) {
        await("order " + orderId + " has a deal", Duration.ofSeconds(60), () -> !deals(orderId).isEmpty());
    }

    @Test
    void anOrderBecomesADealInTheRightPipelineStageResponsibleAndPaySystemField() {
        bridge.storeReports(order(1001, "N", 12));

        awaitDeal(1001);
        Map<String, Object> deal = deals(1001).get(0);
        assertThat(deal).containsEntry("CATEGORY_ID", "2").containsEntry("STAGE_ID", "C2:NEW")
                .containsEntry("ASSIGNED_BY_ID", "9").containsEntry("UF_CRM_PAY_SYSTEM", "4")
                .containsEntry("TITLE", "Order #A-1001").containsEntry("CURRENCY_ID", "RUB");
        long dealId = Long.parseLong(deal.get("ID").toString());
        assertThat(crm.crm().dealProductRows(dealId)).hasSize(1);
        assertThat(crm.crm().dealContactIds(dealId)).hasSize(1);  // the buyer, created as a contact
    }

    @Test
    void aStatusChangeIsOneDealUpdate() {
        bridge.storeReports(order(1101, "N", 99));
        awaitDeal(1101);
        String dealId = deals(1101).get(0).get("ID").toString();
        // let the link reach the projector so the change is decided as an UPDATE
        awaitLinkKnown(1101);
        int updatesBefore = crm.calls().count(Portal.CRM, "crm.deal.update", call -> dealId.equals(call.param("id")));

        bridge.storeReports(order(1101, "P", 99));

        await("deal " + dealId + " is at EXECUTING", Duration.ofSeconds(60),
                () -> "EXECUTING".equals(deals(1101).get(0).get("STAGE_ID")));
        sleepQuietly(1000);  // anything extra would arrive within the coalesce window and a poll
        assertThat(crm.calls().count(Portal.CRM, "crm.deal.update", call -> dealId.equals(call.param("id"))) - updatesBefore)
                .isEqualTo(1);
        assertThat(deals(1101)).hasSize(1);
    }

    @Test
    void addsWhoseAnswersAreLostStillGiveExactlyOneDealPerOrder() {
        crm.faults().failNext("crm.deal.add", 3, Fault.APPLY_THEN_DROP);

        LongStream.rangeClosed(2001, 2005).forEach(id -> bridge.storeReports(order(id, "N", 12)));

        LongStream.rangeClosed(2001, 2005).forEach(DealProjectorEndToEndTest::awaitDeal);
        assertThat(crm.faults().pending(Portal.CRM, "crm.deal.add")).as("dropped answers still to come").isZero();
        sleepQuietly(1500);
        LongStream.rangeClosed(2001, 2005).forEach(id -> assertThat(deals(id)).as("deals of order " + id).hasSize(1));
    }

    @Test
    void aConnectorRestartMidwayMakesNoDuplicates() throws Exception {
        bridge.stopConnector();
        LongStream.rangeClosed(3001, 3020).forEach(id -> bridge.storeReports(order(id, "N", 99)));
        sleepQuietly(1000);  // the projector emits the commands while no connector runs

        bridge.startConnector();
        await("some deals of 3001..3020 exist", Duration.ofSeconds(60), () -> !deals(3001).isEmpty() || !deals(3020).isEmpty());
        bridge.stopConnector();  // mid-way: whatever was written but not committed is consumed again
        bridge.startConnector();

        LongStream.rangeClosed(3001, 3020).forEach(DealProjectorEndToEndTest::awaitDeal);
        sleepQuietly(1000);
        LongStream.rangeClosed(3001, 3020).forEach(id -> assertThat(deals(id)).as("deals of order " + id).hasSize(1));
    }

    @Test
    void aBuyerMetBeforeTheConnectorRestartedIsNeitherSearchedNorAddedAgain() throws Exception {
        bridge.storeReports(order(4001, "N", 99));
        awaitDeal(4001);
        awaitLinkKnown(4001);  // committed, and with it the buyer's contact on buyer-contacts
        long contact = crm.crm().dealContactIds(Long.parseLong(deals(4001).get(0).get("ID").toString())).get(0);
        bridge.stopConnector();
        bridge.startConnector();  // a new writer: it knows the buyer only from buyer-contacts
        java.util.function.Predicate<org.dealbridge.emulator.Call> ofTheBuyer = c -> c.params().toString().contains("buyer4001@");

        bridge.storeReports(OrderChanged.newBuilder(order(4002, "N", 99)).setBuyer(order(4001, "N", 99).getBuyer()).build());

        awaitDeal(4002);
        assertThat(crm.calls().count(Portal.CRM, "crm.duplicate.findbycomm", ofTheBuyer)).as("searches for the buyer").isEqualTo(1);
        assertThat(crm.calls().count(Portal.CRM, "crm.contact.add", ofTheBuyer)).as("contacts added for the buyer").isEqualTo(1);
        assertThat(crm.crm().dealContactIds(Long.parseLong(deals(4002).get(0).get("ID").toString()))).containsExactly(contact);
    }

    @Test
    void replayingEveryCommandFromTheStartAddsNoDealAndDuplicatesNothing() throws Exception {
        LongStream.rangeClosed(5001, 5010).forEach(id -> bridge.storeReports(order(id, "N", 12)));
        LongStream.rangeClosed(5001, 5010).forEach(DealProjectorEndToEndTest::awaitDeal);
        java.util.function.IntSupplier addsOfTheseOrders = () -> crm.calls().count(Portal.CRM, "crm.deal.add", call -> {
            String origin = call.param("fields", "ORIGIN_ID");
            return origin != null && origin.matches("50(0[1-9]|10)");
        });
        int addsBefore = addsOfTheseOrders.getAsInt();

        bridge.stopConnector();
        bridge.startReplayingConnector("replay-" + System.nanoTime());  // as if no offset had ever been committed
        await("the replay reached the end of deal-commands", Duration.ofSeconds(60),
                () -> bridge.meters.find("dealbridge.commands").tag("topology", "crm-connector").counters().stream()
                        .mapToDouble(c -> c.count()).sum() >= 2 * 10);
        sleepQuietly(1500);
        bridge.stopConnector();
        bridge.startConnector();

        // (other tests' orders may be replayed too: a CREATE whose deal was deleted in the CRM rightly adds one)
        assertThat(addsOfTheseOrders.getAsInt()).isEqualTo(addsBefore).isEqualTo(10);
        LongStream.rangeClosed(5001, 5010).forEach(id -> assertThat(deals(id)).as("deals of order " + id).hasSize(1));
    }

    @Test
    void anUnreadableCommandIsDeadLetteredAndTheCommandsBehindItAreWritten() throws Exception {
        try (org.apache.kafka.clients.producer.KafkaProducer<String, byte[]> raw = new org.apache.kafka.clients.producer.KafkaProducer<>(
                Map.of("bootstrap.servers", KAFKA.bootstrapServers()), new org.apache.kafka.common.serialization.StringSerializer(),
                new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            raw.send(new org.apache.kafka.clients.producer.ProducerRecord<>(Topics.DEAL_COMMANDS, "s1:7001",
                    "not avro".getBytes(java.nio.charset.StandardCharsets.UTF_8))).get();
        }
        bridge.storeReports(order(7001, "N", 99));

        awaitDeal(7001);
        await("the unreadable command is on the dead-letter topic", Duration.ofSeconds(30), () -> bridge.readAll(bridge.topics.deadLetters())
                .stream().anyMatch(l -> l.getReason().contains("cannot be read") && l.getValue() != null
                        && new String(l.getValue().array(), java.nio.charset.StandardCharsets.UTF_8).equals("not avro")));
    }

    @Test
    void aDealAManagerMovedMeanwhileIsNotOverwrittenAndTheOutcomeSaysWhy() {
        bridge.storeReports(order(4001, "N", 99));
        awaitDeal(4001);
        long dealId = Long.parseLong(deals(4001).get(0).get("ID").toString());
        awaitLinkKnown(4001);
        // the order changed first; the manager's move comes later, before the order's event reaches the connector
        OrderChanged paid = OrderChanged.newBuilder(order(4001, "P", 99)).setDateUpdate(Instant.now().minusSeconds(5)).build();
        // the sofa manager (not the webhook's user); not seen by DealBridge: no deal events here
        crm.crm().updateDealAsHuman(dealId, Map.of("STAGE_ID", "WON", "byUserId", 9));

        bridge.storeReports(paid);

        // both sides moved since the link and the manager's change is the later one: it stands (PairDecision)
        SyncOutcome conflict = awaitOutcome(4001, Outcome.CONFLICT_RESOLVED);
        assertThat(conflict.getReason()).contains("stage WON", "stands");
        assertThat(crm.crm().deal(dealId)).containsEntry("STAGE_ID", "WON");
    }

    @Test
    void aDealDeletedInTheCrmIsDealDeletedTheLinkSaysSoAndNothingIsDeadLettered() {
        // was: "sends the command to the dead-letter topic"; a deletion is a person's decision, not an error (issue 12)
        bridge.storeReports(order(4101, "N", 99));
        awaitDeal(4101);
        long dealId = Long.parseLong(deals(4101).get(0).get("ID").toString());
        awaitLinkKnown(4101);
        crm.crm().deleteDealAsHuman(dealId);

        bridge.storeReports(order(4101, "P", 99));

        SyncOutcome deleted = awaitOutcome(4101, Outcome.DEAL_DELETED);
        assertThat(deleted.getDealId()).isEqualTo(dealId);
        assertThat(deleted.getReason()).contains(Long.toString(dealId), "no longer exists");
        SyncLink unlinked = bridge.readAll(bridge.topics.dealLinks()).stream()
                .filter(l -> l.getOrderId() == 4101 && l.getDealDeletedAt() != null)
                .findFirst().orElseThrow(() -> new AssertionError("no link of order 4101 with dealDeletedAt"));
        assertThat(unlinked.getDealId()).isEqualTo(dealId);
        // the outcome and the link are committed in the same transaction as anything dead-lettered would be
        assertThat(bridge.readAll(bridge.topics.deadLetters())).noneMatch(l -> l.getReason().contains("s1:4101"));
        assertThat(bridge.readAll(bridge.topics.syncOutcomes())).noneMatch(o -> o.getOrderId() != null
                && o.getOrderId() == 4101 && o.getOutcome() == Outcome.DEAD_LETTERED);
        assertThat(deals(4101)).isEmpty();  // and no new deal (deals.onDeleted defaults to unlink)
    }

    @Test
    void afterARestartACommandDecidedOnAnOlderLinkIsJudgedAgainstTheLinkCommittedBeforeTheRestart() throws Exception {
        // the crash loop's order 190 (seed 16826493377694): the move to pipeline 0 was written and its link committed;
        // the process died; the restarted one consumed F, which the projector had decided on the link before the move
        bridge.projectorDecided(DealWriterTest.create(8001, Map.of(), null, false));
        awaitDeal(8001);
        long dealId = Long.parseLong(deals(8001).get(0).get("ID").toString());
        SyncLink created = awaitCommittedLink(8001, 2);
        Instant beforeTheMove = Instant.now().minusSeconds(5);
        bridge.projectorDecided(DealWriterTest.update(8001, dealId, created).basket(DealWriterTest.CHAIRS, 0).pipeline(0).stage("NEW")
                .build());
        awaitCommittedLink(8001, 0);

        bridge.stopConnector();
        bridge.startConnector();  // a new process: what it wrote before is only on deal-links
        bridge.projectorDecided(DealWriterTest.update(8001, dealId, created).status("F").basket(DealWriterTest.CHAIRS, 0).pipeline(0)
                .stage("WON").at(beforeTheMove).build());

        await("deal " + dealId + " is at WON or its WON was not written", Duration.ofSeconds(60),
                () -> "WON".equals(crm.crm().deal(dealId).get("STAGE_ID")) || bridge.readAll(bridge.topics.syncOutcomes()).stream()
                        .anyMatch(o -> o.getOrderId() != null && o.getOrderId() == 8001 && o.getOutcome() == Outcome.CONFLICT_RESOLVED));
        // DealBridge's own move is not the deal's later change: the order's F is written
        assertThat(crm.crm().deal(dealId)).containsEntry("CATEGORY_ID", "0").containsEntry("STAGE_ID", "WON");
    }

    @Test
    void aMovesIntentIsCommittedBeforeTheCrmCallAndAManagersMoveBackAfterItStandsWhenANewProcessExecutesTheMoveAgain()
            throws Exception {
        // the 10 000-order crash loop's orders 383, 398, 400: the move applied, its link lost with the process, the
        // manager moved the deal back, the move executed again over the manager's choice
        bridge.projectorDecided(DealWriterTest.create(8101, Map.of(), null, false));
        awaitDeal(8101);
        long dealId = Long.parseLong(deals(8101).get(0).get("ID").toString());
        SyncLink created = awaitCommittedLink(8101, 2);
        var committedWhenTheMoveApplied = new java.util.concurrent.atomic.AtomicReference<SyncLink>();
        crm.faults().failNext(Portal.CRM, "crm.item.update", 1, Fault.APPLY_THEN_DROP);  // its answer never comes back
        crm.faults().afterNext(Portal.CRM, "crm.item.update", () -> {
            // inside the CRM call, as a read_committed reader (a restarted process) sees deal-links: the connector waits
            // for this call, so no poll transaction of it commits meanwhile (the intent's markers may trail its commit by ms)
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (committedWhenTheMoveApplied.get() == null && System.nanoTime() < deadline) {
                committedWhenTheMoveApplied.set(bridge.readAll(bridge.topics.dealLinks()).stream()
                        .filter(l -> l.getOrderId() == 8101 && l.getMoveIntent() != null).reduce((a, b) -> b).orElse(null));
            }
            crm.crm().updateDealAsHuman(dealId, Map.of("CATEGORY_ID", 2, "STAGE_ID", "C2:NEW", "byUserId", 9));  // the manager
            crm.faults().outage(Portal.CRM, Duration.ofMinutes(5), Fault.HTTP_500);  // the command waits, uncommitted
        });

        bridge.projectorDecided(DealWriterTest.update(8101, dealId, created).basket(DealWriterTest.CHAIRS, 0).pipeline(0).stage("NEW")
                .build());
        await("the connector waits for the CRM", Duration.ofSeconds(60), bridge::connectorWaitsForTheCrm);
        bridge.stopConnector();  // the process is gone: what it knew is only on deal-links
        crm.faults().endOutage(Portal.CRM);
        bridge.startConnector();

        await("order 8101's move is decided again", Duration.ofSeconds(60), () -> bridge.readAll(bridge.topics.syncOutcomes()).stream()
                .anyMatch(o -> o.getOrderId() != null && o.getOrderId() == 8101 && o.getOutcome() != Outcome.CREATED));
        assertThat(committedWhenTheMoveApplied.get()).as("the move's intent, committed before the call").isNotNull();
        assertThat(committedWhenTheMoveApplied.get().getMoveIntent().getToPipeline()).isZero();
        assertThat(crm.crm().deal(dealId)).as("the manager's pipeline stands").containsEntry("CATEGORY_ID", "2");
        assertThat(crm.calls().count(Portal.CRM, "crm.item.update", call -> Long.toString(dealId).equals(call.param("id"))))
                .isEqualTo(1);
        assertThat(bridge.readAll(bridge.topics.syncOutcomes()).stream().filter(o -> o.getOrderId() != null && o.getOrderId() == 8101)
                .map(SyncOutcome::getReason)).anyMatch(reason -> reason.contains("pipeline 2 (DealBridge's choice was 0)"));
    }

    /** The order's link on deal-links (committed) once it says the deal is in {@code pipeline}. */
    static SyncLink awaitCommittedLink(long orderId, long pipeline) {
        SyncLink[] found = new SyncLink[1];
        await("a committed link of order " + orderId + " in pipeline " + pipeline, Duration.ofSeconds(60), () -> {
            found[0] = bridge.readAll(bridge.topics.dealLinks()).stream()
                    .filter(l -> l.getOrderId() == orderId && l.getDealId() > 0 && l.getCategoryId() == pipeline)
                    .reduce((first, second) -> second).orElse(null);
            return found[0] != null;
        });
        return found[0];
    }

    static void awaitLinkKnown(long orderId) {
        await("the projector knows the link of order " + orderId, Duration.ofSeconds(30),
                () -> bridge.projectorHasLink("s1:" + orderId));
    }

    static SyncOutcome awaitOutcome(long orderId, Outcome outcome) {
        SyncOutcome[] found = new SyncOutcome[1];
        await("order " + orderId + " has outcome " + outcome, Duration.ofSeconds(60), () -> {
            found[0] = bridge.readAll(bridge.topics.syncOutcomes()).stream()
                    .filter(o -> o.getOrderId() != null && o.getOrderId() == orderId && o.getOutcome() == outcome)
                    .findFirst().orElse(null);
            return found[0] != null;
        });
        return found[0];
    }

    static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
