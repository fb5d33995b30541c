package org.dealbridge.orderprojector.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.bitrix.PortalRateLimiter;
import org.dealbridge.bitrix.crm.CrmApi;
import org.dealbridge.bitrix.store.StoreApi;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.emulator.Fault;
import org.dealbridge.emulator.ManualClock;
import org.dealbridge.emulator.NewOrder;
import org.dealbridge.emulator.Portal;
import org.dealbridge.mapping.CompiledMapping;
import org.dealbridge.orderprojector.OrderProjectorConfig;
import org.dealbridge.mapping.Ownership;
import org.dealbridge.mapping.PairDecision;
import org.dealbridge.schemas.LinkOrigin;
import org.dealbridge.schemas.OrderCommand;
import org.dealbridge.schemas.OrderCommandKind;
import org.dealbridge.schemas.Outcome;
import org.dealbridge.schemas.ProductRow;
import org.dealbridge.schemas.SyncLink;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The store connector's writes against the CRM and store emulators over HTTP: one rule per test. */
class OrderWriterTest {

    static final String MAPPING = """
            site: s1
            pipelines: { default: 1 }
            stages:
              "1":
                - { stage: "C1:NEW", status: N }
                - { stage: "C1:PREPARATION", status: P }
                - { stage: "C1:PREPARATION", status: A }
                - { stage: "C1:WON", status: F }
              "2":
                - { stage: "C2:NEW", status: N }
                - { stage: "C2:PREPARATION", status: P }
                - { stage: "C2:WON", status: F }
            responsible: { default: 1 }
            dealFields: { paySystemId: UF_CRM_PAY_SYSTEM }
            dealToOrder: { pipelines: [1] }
            payment: { default: 3 }
            """;

    private final ManualClock clock = new ManualClock(Instant.parse("2026-11-29T10:00:00Z"));
    private BitrixEmulator emu;
    private BitrixClient crmClient;
    private BitrixClient storeClient;
    private OrderWriter writer;
    private final CompiledMapping mapping = CompiledMapping.compile(MAPPING, 2);

    @BeforeEach
    void start() {
        emu = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled().clock(clock));
        emu.crm().addPipeline(1, "Shop orders");
        emu.crm().addPipeline(2, "Wholesale");
        emu.store().addStatus("N", "New");
        emu.store().addStatus("P", "Paid");
        emu.store().addStatus("A", "Approved");
        emu.store().addStatus("F", "Finished");
        emu.store().addPaySystem(3, "Cash");
        emu.store().addPaySystem(9, "Card");
        emu.store().addPersonType(1, "Person");
        emu.store().addOrderProperty(1, "FIO", "Full name");
        emu.store().addOrderProperty(2, "EMAIL", "E-mail");
        emu.store().addOrderProperty(3, "PHONE", "Phone");
        emu.store().addProduct(101, "Sofa", null, "1400.00");  // the deal sells it at 1500.00: its own price wins
        crmClient = client(emu.crmWebhookUrl(), "crm");
        storeClient = client(emu.storeWebhookUrl(), "store");
        writer = new OrderWriter(new OrderProjectorConfig(Map.of(OrderProjectorConfig.CONNECTOR.maxAttempts(), "3",
                OrderProjectorConfig.CONNECTOR.initialBackoff(), "1", OrderProjectorConfig.CONNECTOR.maxBackoff(), "5")),
                new StoreApi(storeClient), new CrmApi(crmClient), PairDecision.UNDER_MAPPING, Clock.systemUTC());
    }

    private static BitrixClient client(String url, String portal) {
        return BitrixClient.builder(url).portal(portal).meterRegistry(new SimpleMeterRegistry())
                .rateLimiter(new PortalRateLimiter(portal, PortalRateLimiter.Options.of(1000, 1000).withInitialFill(0)))
                .callTimeout(Duration.ofSeconds(2)).retry(1, Duration.ofMillis(10), Duration.ofMillis(50)).build();
    }

    @AfterEach
    void stop() {
        crmClient.close();
        storeClient.close();
        emu.close();
    }

    private long deal(String stage) {
        return emu.crm().addDealAsHuman(Map.of("TITLE", "Deal", "CATEGORY_ID", 1, "STAGE_ID", stage));
    }

    private long order(String status) {
        return emu.store().addOrder(NewOrder.create().status(status).site("s1").item(101, "Sofa", "1500.00", 1));
    }

    private static SyncLink link(long orderId, long dealId, String stage, String status) {
        return SyncLink.newBuilder().setSiteId("s1").setOrderId(orderId).setDealId(dealId).setCategoryId(1).setStageId(stage)
                .setStatusId(status).setOrigin(LinkOrigin.ORDER).setDealFields(Map.of("TITLE", "Order #1"))
                .setUpdatedAt(Instant.EPOCH).build();
    }

    private static OrderCommand update(long dealId, long orderId, String status, String expected) {
        return OrderCommand.newBuilder().setCommandId("u-" + dealId).setKind(OrderCommandKind.UPDATE_STATUS).setSiteId("s1")
                .setDealId(dealId).setOrderId(orderId).setStatusId(status).setExpectedStatusId(expected).setMappingVersion(2)
                .setSourceTime(Instant.now()).build();
    }

    private static OrderCommand create(long dealId, long paySystem) {
        return OrderCommand.newBuilder().setCommandId("c-" + dealId).setKind(OrderCommandKind.CREATE).setSiteId("s1")
                .setDealId(dealId).setStatusId("N").setCurrency("RUB").setPaySystemId(paySystem)
                .setItems(List.of(ProductRow.newBuilder().setProductId(101L).setName("Sofa").setPrice("1500.00").setQuantity("2").build()))
                .setMappingVersion(2).setSourceTime(Instant.now()).build();
    }

    private static OrderCommand createWith(long dealId, List<ProductRow> rows, String paySystemValue) {
        return OrderCommand.newBuilder(create(dealId, 3)).setItems(rows).setPaySystemField("UF_CRM_PAY_SYSTEM")
                .setPaySystemValue(paySystemValue).build();
    }

    private static ProductRow row(Long productId, String name, String price, String quantity) {
        return ProductRow.newBuilder().setProductId(productId).setName(name).setPrice(price).setQuantity(quantity).build();
    }

    private static final List<ProductRow> SOFAS_AND_DELIVERY = List.of(row(101L, "Sofa", "1500.00", "2"),
            row(null, "Delivery to the door", "350.00", "1"));

    /** The order's basket lines as "productId name price x quantity customPrice". */
    private List<String> basketOf(long orderId) {
        return ((List<?>) emu.store().order(orderId).get("basketItems")).stream().map(b -> (Map<?, ?>) b)
                .map(b -> b.get("productId") + " " + b.get("name") + " " + new java.math.BigDecimal(String.valueOf(b.get("price")))
                        .stripTrailingZeros().toPlainString() + " x " + new java.math.BigDecimal(String.valueOf(b.get("quantity")))
                        .stripTrailingZeros().toPlainString() + " " + b.get("customPrice"))
                .toList();
    }

    private java.math.BigDecimal priceOf(long orderId) {
        return new java.math.BigDecimal(String.valueOf(emu.store().order(orderId).get("price")));
    }

    private String paySystemOf(long orderId) {
        List<?> payments = (List<?>) emu.store().order(orderId).get("payments");
        assertThat(payments).hasSize(1);
        return String.valueOf(((Map<?, ?>) payments.get(0)).get("paySystemId"));
    }

    private void deadLetteredBeforeAnyOrder(OrderWrite result, String... reasonParts) {
        assertThat(result.outcome()).isEqualTo(Outcome.DEAD_LETTERED);
        assertThat(result.attempts()).as("bad input is not retried").isEqualTo(1);
        assertThat(result.reason()).contains(reasonParts);
        assertThat(emu.calls().count(Portal.STORE, "sale.order.add")).isZero();
        assertThat(emu.store().orders()).isEmpty();
    }

    private String statusOf(long orderId) {
        return String.valueOf(emu.store().order(orderId).get("statusId"));
    }

    private int orderUpdates() {
        return emu.calls().count(Portal.STORE, "sale.order.update");
    }

    @Test
    void aDealMoveSetsTheOrderStatusAndKeepsTheLinksFields() throws Exception {
        long orderId = order("N");
        long dealId = deal("C1:NEW");
        clock.advance(Duration.ofSeconds(5));
        emu.crm().updateDealAsHuman(dealId, Map.of("STAGE_ID", "C1:WON"));

        OrderWrite result = writer.write(update(dealId, orderId, "F", "N"), mapping, link(orderId, dealId, "C1:NEW", "N"));

        assertThat(result.outcome()).isEqualTo(Outcome.UPDATED);
        assertThat(result.written()).isTrue();
        assertThat(statusOf(orderId)).isEqualTo("F");
        assertThat(result.link().getStageId()).isEqualTo("C1:WON");
        assertThat(result.link().getStatusId()).isEqualTo("F");
        assertThat(result.link().getOrigin()).as("origin kept").isEqualTo(LinkOrigin.ORDER);
        assertThat(result.link().getDealFields()).as("deal-projector's written fields kept").containsEntry("TITLE", "Order #1");
        assertThat(orderUpdates()).isEqualTo(1);
        assertThat(result.link().getOrderVersion()).as("the save of this write: a deal command of it or before carries an older status")
                .isEqualTo(((Number) emu.store().order(orderId).get("version")).longValue());
    }

    @Test
    void anOrderAlreadyConsistentIsNotWritten() throws Exception {
        long orderId = order("A");
        long dealId = deal("C1:PREPARATION");

        // the command says P (the stage's first status), but A is consistent with C1:PREPARATION
        OrderWrite result = writer.write(update(dealId, orderId, "P", "A"), mapping, link(orderId, dealId, "C1:NEW", "A"));

        assertThat(result.outcome()).isEqualTo(Outcome.ECHO_SUPPRESSED);
        assertThat(result.link().getStatusId()).isEqualTo("A");
        assertThat(statusOf(orderId)).isEqualTo("A");
        assertThat(orderUpdates()).isZero();
    }

    @Test
    void aStaleCommandIsDecidedAgainAndTheLaterOrderEditWins() throws Exception {
        long orderId = order("N");
        long dealId = deal("C1:NEW");
        clock.advance(Duration.ofSeconds(5));
        emu.crm().updateDealAsHuman(dealId, Map.of("STAGE_ID", "C1:WON"));
        clock.advance(Duration.ofSeconds(5));
        emu.store().updateOrderAsHuman(orderId, Map.of("statusId", "P"));  // later than the deal's move

        OrderWrite result = writer.write(update(dealId, orderId, "F", "N"), mapping, link(orderId, dealId, "C1:NEW", "N"));

        assertThat(result.outcome()).isEqualTo(Outcome.CONFLICT_RESOLVED);
        assertThat(result.reason()).contains("expected status N", "order's change wins");
        assertThat(statusOf(orderId)).as("the manager's later order edit stands").isEqualTo("P");
        assertThat(orderUpdates()).isZero();
        // the loser is the deal: it follows the order now rather than waiting for the other direction
        assertThat(emu.crm().deal(dealId).get("STAGE_ID")).isEqualTo("C1:PREPARATION");
        assertThat(emu.calls().count(Portal.CRM, "crm.deal.update")).isEqualTo(1);
        assertThat(result.link().getStageId()).isEqualTo("C1:PREPARATION");
        assertThat(result.link().getStatusId()).isEqualTo("P");
    }

    /** DealBridge's deal of the order at C1:NEW; the shop saves P, then F; then {@code dealToP} moves the deal to P's stage. */
    private long shopGoesToPAndFThenTheDealToP(long orderId, java.util.function.LongConsumer dealToP) {
        long dealId = crmClient.call("crm.deal.add", Map.of("fields", Map.of("TITLE", "Order #1", "CATEGORY_ID", 1,
                "STAGE_ID", "C1:NEW"))).asLong();
        clock.advance(Duration.ofSeconds(5));
        emu.store().updateOrderAsHuman(orderId, Map.of("statusId", "P"));
        clock.advance(Duration.ofSeconds(1));
        emu.store().updateOrderAsHuman(orderId, Map.of("statusId", "F"));
        clock.advance(Duration.ofSeconds(1));
        dealToP.accept(dealId);
        return dealId;
    }

    @Test
    void aStageDealBridgeWroteThatTheLinkDoesNotShowYetNeverRevertsTheShopsLaterStatus() throws Exception {
        // CrashLoopTest seed 37034695896898: the shop went N -> P -> F; the CRM connector wrote P's stage; a command
        // decided against N reached the store connector before the link of that write: the deal's "change" (ours)
        // is the younger one, yet it is an echo of P and must not beat the shop's F
        long orderId = order("N");
        long dealId = shopGoesToPAndFThenTheDealToP(orderId,
                deal -> crmClient.call("crm.deal.update", Map.of("id", deal, "fields", Map.of("STAGE_ID", "C1:PREPARATION"))));

        OrderWrite result = writer.write(update(dealId, orderId, "P", "N"), mapping, link(orderId, dealId, "C1:NEW", "N"));

        assertThat(statusOf(orderId)).as("the shop's later F stands").isEqualTo("F");
        assertThat(orderUpdates()).isZero();
        assertThat(emu.crm().deal(dealId).get("STAGE_ID")).as("the deal follows the shop").isEqualTo("C1:WON");
        assertThat(result.link().getStatusId()).isEqualTo("F");
        assertThat(result.link().getStageId()).isEqualTo("C1:WON");
        assertThat(result.link().getDealFields()).as("the stage DealBridge wrote, for Ownership.agreed")
                .containsEntry(Ownership.STAGE, "C1:WON");
    }

    /** DealBridge's deal of an order at P, at C1:PREPARATION; then the shop finishes the order (F). */
    private long dealBridgesDealAtPThenTheShopFinishes(long orderId) {
        long dealId = crmClient.call("crm.deal.add", Map.of("fields", Map.of("TITLE", "Order #1", "CATEGORY_ID", 1,
                "STAGE_ID", "C1:PREPARATION"))).asLong();
        clock.advance(Duration.ofSeconds(5));
        emu.store().updateOrderAsHuman(orderId, Map.of("statusId", "F"));
        clock.advance(Duration.ofSeconds(5));
        return dealId;
    }

    /** The CRM connector's move of the deal to pipeline 2 (the basket's) at P's stage, decided before the shop's F. */
    private void dealBridgeMovesTheDealToPipeline2AtP(long dealId) {
        emu.crm().updateDealAsHuman(dealId, Map.of("CATEGORY_ID", 2, "STAGE_ID", "C2:PREPARATION", "byUserId", 1));
    }

    @Test
    void aStageTheCrmIgnoredBecauseTheDealChangedPipelineMeanwhileIsDecidedAgainNotRecordedAsWritten() throws Exception {
        // CrashLoopBenchmark seed 70843509061136, order 212: the store connector read the deal in pipeline 1 while the
        // shop had finished the order; before its write of C1:WON the CRM connector moved the deal to pipeline 2, and
        // crm.deal.update ignores a stage of another pipeline (result true, reference §13 pitfall 2). Recorded as
        // written, that link made DealBridge's own move read as the deal's later change: the order went back to P
        long orderId = order("P");
        long dealId = dealBridgesDealAtPThenTheShopFinishes(orderId);
        emu.faults().afterNext(Portal.CRM, "crm.deal.get", () -> dealBridgeMovesTheDealToPipeline2AtP(dealId));

        OrderWrite result = writer.write(update(dealId, orderId, "P", "P"), mapping, link(orderId, dealId, "C1:PREPARATION", "P"));

        assertThat(statusOf(orderId)).as("the shop's F stands").isEqualTo("F");
        assertThat(orderUpdates()).isZero();
        assertThat(emu.crm().deal(dealId)).as("the deal follows the shop in the pipeline it is in now")
                .containsEntry("CATEGORY_ID", "2").containsEntry("STAGE_ID", "C2:WON");
        assertThat(result.link().getCategoryId()).isEqualTo(2);
        assertThat(result.link().getStageId()).as("the link records what the deal is, not what was sent").isEqualTo("C2:WON");
        assertThat(result.link().getStatusId()).isEqualTo("F");
    }

    @Test
    void aStageDealBridgeMovedTheDealToIsPairedWithTheStatusItWasWrittenForNotTheLinks() throws Exception {
        // the rest of order 212: the link from the unchecked write said C1:WON / F while the deal stood at C2:PREPARATION,
        // DealBridge's move written for P, later than the shop's F. Paired with the link's F, neither side read as
        // moved, a tie the later change decided: DealBridge's own move, and the order went back to P
        long orderId = order("P");
        long dealId = dealBridgesDealAtPThenTheShopFinishes(orderId);
        dealBridgeMovesTheDealToPipeline2AtP(dealId);
        SyncLink unchecked = SyncLink.newBuilder(link(orderId, dealId, "C1:WON", "F")).build();

        OrderWrite result = writer.write(update(dealId, orderId, "P", "F"), mapping, unchecked);

        assertThat(statusOf(orderId)).as("the shop's F is the later change").isEqualTo("F");
        assertThat(orderUpdates()).isZero();
        assertThat(emu.crm().deal(dealId).get("STAGE_ID")).isEqualTo("C2:WON");
        assertThat(result.link().getStageId()).isEqualTo("C2:WON");
    }

    @Test
    void aManagersStageChangeThatTheLinkDoesNotShowStillWinsWhenItIsTheLaterChange() throws Exception {
        // the control of the test above: the same history with the stage set by a person
        long orderId = order("N");
        long dealId = shopGoesToPAndFThenTheDealToP(orderId,
                deal -> emu.crm().updateDealAsHuman(deal, Map.of("STAGE_ID", "C1:PREPARATION")));

        writer.write(update(dealId, orderId, "P", "N"), mapping, link(orderId, dealId, "C1:NEW", "N"));

        assertThat(emu.crm().deal(dealId).get("MOVED_BY_ID")).isNotEqualTo("1");
        assertThat(statusOf(orderId)).as("the manager's later move wins").isEqualTo("P");
        assertThat(emu.crm().deal(dealId).get("STAGE_ID")).isEqualTo("C1:PREPARATION");
    }

    @Test
    void whenTheDealsChangeIsLaterItWinsAndReplacesTheStatusItReadBack() throws Exception {
        long orderId = order("N");
        long dealId = deal("C1:NEW");
        clock.advance(Duration.ofSeconds(5));
        emu.store().updateOrderAsHuman(orderId, Map.of("statusId", "P"));
        clock.advance(Duration.ofSeconds(5));
        emu.crm().updateDealAsHuman(dealId, Map.of("STAGE_ID", "C1:WON"));

        OrderWrite result = writer.write(update(dealId, orderId, "F", "N"), mapping, link(orderId, dealId, "C1:NEW", "N"));

        assertThat(result.outcome()).isEqualTo(Outcome.CONFLICT_RESOLVED);
        assertThat(result.written()).isTrue();
        assertThat(statusOf(orderId)).isEqualTo("F");
    }

    @Test
    void aReconcileFromTheCrmConnectorBringsTheOrderToTheDealsLaterStage() throws Exception {
        // the order projector judged the pair on a link that still showed N; the CRM connector found the manager's
        // later stage standing against the shop's status and asked the store side to reconcile
        long orderId = order("N");
        long dealId = deal("C1:NEW");
        clock.advance(Duration.ofSeconds(5));
        emu.store().updateOrderAsHuman(orderId, Map.of("statusId", "P"));
        clock.advance(Duration.ofSeconds(5));
        emu.crm().updateDealAsHuman(dealId, Map.of("STAGE_ID", "C1:WON"));
        OrderCommand reconcile = OrderCommand.newBuilder(update(dealId, orderId, "P", "P")).setKind(OrderCommandKind.RECONCILE).build();

        OrderWrite result = writer.write(reconcile, mapping, link(orderId, dealId, "C1:WON", "P"));

        assertThat(result.written()).isTrue();
        assertThat(statusOf(orderId)).isEqualTo("F");
        assertThat(result.link().getStatusId()).isEqualTo("F");
    }

    @Test
    void anOrderDeletedInTheStoreIsRecordedOnTheLinkAndItsDealIsLeftAlone() throws Exception {
        long dealId = deal("C1:WON");
        long missing = 987_654;  // no such order: the shop deleted it

        OrderWrite result = writer.write(update(dealId, missing, "F", "N"), mapping, link(missing, dealId, "C1:NEW", "N"));

        assertThat(result.outcome()).isEqualTo(Outcome.ORDER_DELETED);
        assertThat(result.link().getOrderDeletedAt()).isNotNull();
        assertThat(emu.crm().deal(dealId).get("STAGE_ID")).as("no cancelled stage is mapped: the deal stands").isEqualTo("C1:WON");
        assertThat(emu.calls().count(Portal.CRM, "crm.deal.update")).isZero();
    }

    @Test
    void theCancelledStageOfADeletedOrderIsWrittenInThePipelineTheDealIsInWhenItMovesMeanwhile() throws Exception {
        // the same pitfall as order 212: the CRM connector moves the deal to pipeline 2 right after the store connector
        // read it in pipeline 1, so C1:LOSE is ignored (result true); read back, the deal goes to C2:LOSE instead
        CompiledMapping cancelling = CompiledMapping.compile(MAPPING + "cancelled: { \"1\": \"C1:LOSE\", \"2\": \"C2:LOSE\" }\n", 2);
        long dealId = crmClient.call("crm.deal.add", Map.of("fields", Map.of("TITLE", "Order #1", "CATEGORY_ID", 1,
                "STAGE_ID", "C1:PREPARATION"))).asLong();
        long missing = 987_655;  // the shop deleted the order
        emu.faults().afterNext(Portal.CRM, "crm.deal.get", () -> dealBridgeMovesTheDealToPipeline2AtP(dealId));

        OrderWrite result = writer.write(update(dealId, missing, "P", "P"), cancelling, link(missing, dealId, "C1:PREPARATION", "P"));

        assertThat(result.outcome()).isEqualTo(Outcome.ORDER_DELETED);
        assertThat(emu.crm().deal(dealId)).containsEntry("CATEGORY_ID", "2").containsEntry("STAGE_ID", "C2:LOSE");
        assertThat(result.link().getCategoryId()).isEqualTo(2);
        assertThat(result.link().getStageId()).as("the deal as read back, not the stage sent").isEqualTo("C2:LOSE");
        assertThat(result.reason()).contains("C2:LOSE");
    }

    @Test
    void creationIsIdempotentByXmlIdEvenWhenTheAddsAnswerIsLost() throws Exception {
        long dealId = deal("C1:NEW");
        emu.faults().failNext(Portal.STORE, "sale.order.add", 1, Fault.APPLY_THEN_DROP);

        OrderWrite first = writer.write(create(dealId, 9), mapping, null);
        OrderWrite again = writer.write(create(dealId, 9), mapping, null);

        List<Map<String, Object>> made = emu.store().orders().stream()
                .filter(o -> ("dealbridge-deal:" + dealId).equals(o.get("xmlId"))).toList();
        assertThat(made).hasSize(1);
        long orderId = Long.parseLong(String.valueOf(made.get(0).get("id")));
        assertThat(first.link().getOrderId()).isEqualTo(orderId);
        assertThat(first.link().getOrigin()).isEqualTo(LinkOrigin.DEAL);
        assertThat(first.link().getStageId()).isEqualTo("C1:NEW");
        assertThat(first.link().getStatusId()).isEqualTo("N");
        assertThat(again.outcome()).isEqualTo(Outcome.UNCHANGED);
        assertThat(again.link().getOrderId()).isEqualTo(orderId);
        assertThat(emu.store().order(orderId).get("payments")).asList().singleElement()
                .satisfies(p -> assertThat(String.valueOf(((Map<?, ?>) p).get("paySystemId"))).isEqualTo("9"));
        assertThat(statusOf(orderId)).isEqualTo("N");
    }

    @Test
    void aStageAManagerSetWhileTheOrderWasBeingMadeReachesTheOrder() throws Exception {
        // the CREATE was decided on C1:NEW; the manager moved the deal on before the store connector ran it (found by
        // the launcher crash loop: the link recorded C1:WON as agreed with N, and the order's newer save then moved
        // the deal back to C1:NEW)
        long dealId = deal("C1:NEW");
        clock.advance(Duration.ofSeconds(5));
        emu.crm().updateDealAsHuman(dealId, Map.of("STAGE_ID", "C1:WON", "byUserId", 7));

        OrderWrite result = writer.write(create(dealId, 3), mapping, null);

        long orderId = result.link().getOrderId();
        assertThat(result.outcome()).isEqualTo(Outcome.CREATED);
        assertThat(statusOf(orderId)).as("the order follows the manager's later stage").isEqualTo("F");
        assertThat(result.link().getStageId()).isEqualTo("C1:WON");
        assertThat(result.link().getStatusId()).isEqualTo("F");
        assertThat(emu.crm().deal(dealId).get("STAGE_ID")).isEqualTo("C1:WON");
    }

    @Test
    void aCreateDecidedOnALaterStageOfADealAlreadyLinkedBringsItsOrderThere() throws Exception {
        // the deal's stage change was decided before the link of its order came back: as a second CREATE
        long dealId = deal("C1:NEW");
        OrderWrite made = writer.write(create(dealId, 3), mapping, null);
        long orderId = made.link().getOrderId();
        clock.advance(Duration.ofSeconds(5));
        emu.crm().updateDealAsHuman(dealId, Map.of("STAGE_ID", "C1:WON", "byUserId", 7));

        OrderWrite result = writer.write(OrderCommand.newBuilder(create(dealId, 3)).setCommandId("c2").setStatusId("F").build(),
                mapping, made.link());

        assertThat(statusOf(orderId)).isEqualTo("F");
        assertThat(result.link().getStatusId()).isEqualTo("F");
        assertThat(emu.store().orders()).as("no second order").hasSize(1);
        assertThat(emu.crm().deal(dealId).get("STAGE_ID")).isEqualTo("C1:WON");
    }

    @Test
    void theBuyerOfAnOrderMadeFromADealComesFromItsContact() throws Exception {
        long contactId = emu.crm().addContact("Anna", "Petrova", null, "anna@example.com", "+7 900 000-00-00");
        long dealId = emu.crm().addDealAsHuman(Map.of("TITLE", "Deal", "CATEGORY_ID", 1, "STAGE_ID", "C1:NEW", "CONTACT_ID", contactId));

        OrderWrite result = writer.write(create(dealId, 3), mapping, null);

        assertThat(result.outcome()).isEqualTo(Outcome.CREATED);
        List<?> properties = (List<?>) emu.store().order(result.link().getOrderId()).get("propertyValues");
        assertThat(properties).extracting(p -> ((Map<?, ?>) p).get("code") + "=" + ((Map<?, ?>) p).get("value"))
                .containsExactlyInAnyOrder("FIO=Anna Petrova", "EMAIL=anna@example.com", "PHONE=+7 900 000-00-00");
    }

    @Test
    void transientFailuresAreRetriedThenWaitForTheStoreInsteadOfBeingDeadLettered() throws Exception {
        long orderId = order("N");
        long dealId = deal("C1:WON");
        emu.faults().failNext(Portal.STORE, "sale.order.get", 100, Fault.HTTP_503);

        OrderWrite result = writer.write(update(dealId, orderId, "F", "N"), mapping, link(orderId, dealId, "C1:NEW", "N"));

        assertThat(result.outcome()).isNotEqualTo(Outcome.DEAD_LETTERED);
        assertThat(result.unreachable()).as("the connector waits for the store and runs it again").isTrue();
        assertThat(result.attempts()).isEqualTo(3);
        assertThat(result.reason()).contains("unreachable after 3 attempts");
        assertThat(statusOf(orderId)).isEqualTo("N");
    }

    @Test
    void aFailingCallIsRetriedByTheWritersAttemptsAloneWithinItsBackoffCap() throws Exception {
        long orderId = order("N");
        long dealId = deal("C1:WON");
        // clients that would retry a failed read 4 times on their own
        BitrixClient patientStore = BitrixClient.builder(emu.storeWebhookUrl()).portal("store").meterRegistry(new SimpleMeterRegistry())
                .rateLimiter(new PortalRateLimiter("store", PortalRateLimiter.Options.of(1000, 1000).withInitialFill(0)))
                .retry(4, Duration.ofMillis(1), Duration.ofMillis(2)).build();
        List<Duration> waits = new java.util.ArrayList<>();
        OrderProjectorConfig config = new OrderProjectorConfig(Map.of(OrderProjectorConfig.CONNECTOR.maxAttempts(), "3",
                OrderProjectorConfig.CONNECTOR.initialBackoff(), "400", OrderProjectorConfig.CONNECTOR.maxBackoff(), "500"));
        OrderWriter retrying = new OrderWriter(config, new StoreApi(patientStore), new CrmApi(crmClient), PairDecision.UNDER_MAPPING,
                Clock.systemUTC(), waits::add);
        emu.faults().outage(Portal.STORE, Duration.ofMinutes(5), Fault.HTTP_500);
        emu.calls().clear();

        OrderWrite result = retrying.write(update(dealId, orderId, "F", "N"), mapping, link(orderId, dealId, "C1:NEW", "N"));

        assertThat(result.unreachable()).isTrue();
        assertThat(result.attempts()).isEqualTo(3);
        assertThat(emu.calls().count(Portal.STORE, "sale.order.get")).as("store.max-attempts, not 3 × 4").isEqualTo(3);
        assertThat(waits).hasSize(2).allSatisfy(wait -> assertThat(wait).isLessThanOrEqualTo(Duration.ofMillis(500)));
        emu.faults().endOutage(Portal.STORE);
    }

    @Test
    void aCommandForAStatusTheStoreDoesNotKnowIsDeadLetteredAtOnce() throws Exception {
        String broken = MAPPING.replace("status: F", "status: Z");
        long orderId = order("N");
        long dealId = deal("C1:WON");

        OrderWrite result = writer.write(update(dealId, orderId, "Z", "N"), CompiledMapping.compile(broken, 3),
                link(orderId, dealId, "C1:NEW", "N"));

        assertThat(result.outcome()).isEqualTo(Outcome.DEAD_LETTERED);
        assertThat(result.attempts()).isEqualTo(1);
        assertThat(result.reason()).contains("permanent failure", "Z");
    }

    @Test
    void anOrderMadeFromADealHasALinePerRowIncludingACustomLineAndTheRowsTotal() throws Exception {
        long dealId = deal("C1:NEW");

        OrderWrite result = writer.write(createWith(dealId, SOFAS_AND_DELIVERY, "9"), mapping, null);

        assertThat(result.outcome()).as(result.reason()).isEqualTo(Outcome.CREATED);
        long orderId = result.link().getOrderId();
        assertThat(basketOf(orderId)).containsExactly("101 Sofa 1500 x 2 Y", "0 Delivery to the door 350 x 1 Y");
        assertThat(priceOf(orderId)).as("the order's total is the deal's rows total").isEqualByComparingTo("3350.00");
        assertThat(((Map<?, ?>) ((List<?>) emu.store().order(orderId).get("payments")).get(0)).get("sum").toString())
                .isEqualTo("3350");
        assertThat(result.reason()).contains("2 basket line(s) totalling 3350.00 RUB");
        // the link keeps the hand-made deal's own values from the moment its order is made (it is their source)
        assertThat(result.link().getOrigin()).isEqualTo(LinkOrigin.DEAL);
        assertThat(result.link().getDealFields()).containsEntry("TITLE", "Deal").containsEntry("CATEGORY_ID", "1");
        assertThat(result.link().getDealRowsDigest())
                .isEqualTo(org.dealbridge.mapping.DealValues.productRowsDigest(SOFAS_AND_DELIVERY));
    }

    @Test
    void aCreateRetriedAfterALineWasAddedButItsAnswerLostAddsOnlyTheMissingLine() throws Exception {
        long dealId = deal("C1:NEW");
        emu.faults().failNext(Portal.STORE, "sale.basketitem.add", 1, Fault.APPLY_THEN_DROP);

        OrderWrite result = writer.write(createWith(dealId, SOFAS_AND_DELIVERY, "9"), mapping, null);

        assertThat(result.attempts()).as("the lost answer was retried by the writer").isEqualTo(2);
        long orderId = result.link().getOrderId();
        assertThat(basketOf(orderId)).containsExactly("101 Sofa 1500 x 2 Y", "0 Delivery to the door 350 x 1 Y");
        assertThat(priceOf(orderId)).isEqualByComparingTo("3350.00");
        assertThat(emu.calls().count(Portal.STORE, "sale.order.add")).isEqualTo(1);
        assertThat(emu.calls().count(Portal.STORE, "sale.basketitem.add")).isEqualTo(2);
        assertThat(result.outcome()).isEqualTo(Outcome.UPDATED);
        assertThat(result.reason()).contains("added the 1 of 2 basket line(s) it lacked");
        assertThat(paySystemOf(orderId)).isEqualTo("9");

        // the whole command again (a redelivery after a crash before the commit): nothing is added
        OrderWrite again = writer.write(createWith(dealId, SOFAS_AND_DELIVERY, "9"), mapping, null);
        assertThat(again.outcome()).isEqualTo(Outcome.UNCHANGED);
        assertThat(again.written()).isFalse();
        assertThat(basketOf(orderId)).hasSize(2);
        assertThat(emu.calls().count(Portal.STORE, "sale.basketitem.add")).isEqualTo(2);
        assertThat(emu.calls().count(Portal.STORE, "sale.payment.add")).isEqualTo(1);
    }

    @Test
    void aCreateThatFailedBeforeAnyLineGivesTheFoundOrderAllItsLines() throws Exception {
        long dealId = deal("C1:NEW");
        emu.faults().failNext(Portal.STORE, "sale.basketitem.add", 1, Fault.HTTP_500);

        OrderWrite result = writer.write(createWith(dealId, SOFAS_AND_DELIVERY, "9"), mapping, null);

        long orderId = result.link().getOrderId();
        assertThat(basketOf(orderId)).containsExactly("101 Sofa 1500 x 2 Y", "0 Delivery to the door 350 x 1 Y");
        assertThat(priceOf(orderId)).isEqualByComparingTo("3350.00");
        assertThat(emu.calls().count(Portal.STORE, "sale.order.add")).isEqualTo(1);
        assertThat(paySystemOf(orderId)).as("the payment comes once the lines are there").isEqualTo("9");
    }

    @Test
    void aPaySystemTheStoreDoesNotHaveFallsBackToTheDefaultAndTheReasonSaysWhy() throws Exception {
        long dealId = deal("C1:NEW");

        OrderWrite result = writer.write(createWith(dealId, SOFAS_AND_DELIVERY, "77"), mapping, null);

        assertThat(result.outcome()).isEqualTo(Outcome.CREATED);
        assertThat(paySystemOf(result.link().getOrderId())).isEqualTo("3");
        assertThat(result.reason()).contains("pay system 3 (payment.default): UF_CRM_PAY_SYSTEM = \"77\" names no pay system of the store");
    }

    @Test
    void anEmptyPaySystemFieldUsesTheDefault() throws Exception {
        long dealId = deal("C1:NEW");

        OrderWrite result = writer.write(createWith(dealId, SOFAS_AND_DELIVERY, null), mapping, null);

        assertThat(result.outcome()).isEqualTo(Outcome.CREATED);
        assertThat(paySystemOf(result.link().getOrderId())).isEqualTo("3");
        assertThat(result.reason()).contains("pay system 3 (payment.default): UF_CRM_PAY_SYSTEM is empty");
    }

    @Test
    void aPaySystemValueThatIsNotAPositiveNumberUsesTheDefault() throws Exception {
        OrderWrite card = writer.write(createWith(deal("C1:NEW"), SOFAS_AND_DELIVERY, "card"), mapping, null);
        OrderWrite negative = writer.write(createWith(deal("C1:NEW"), SOFAS_AND_DELIVERY, "-9"), mapping, null);

        assertThat(card.outcome()).isEqualTo(Outcome.CREATED);
        assertThat(paySystemOf(card.link().getOrderId())).isEqualTo("3");
        assertThat(card.reason()).contains("pay system 3 (payment.default): UF_CRM_PAY_SYSTEM = \"card\" is not a pay system id");
        assertThat(paySystemOf(negative.link().getOrderId())).isEqualTo("3");
        assertThat(negative.reason()).contains("\"-9\" is not a pay system id");
    }

    @Test
    void thePaySystemListIsCachedAndReReadOnceOnAMiss() throws Exception {
        OrderWrite card = writer.write(createWith(deal("C1:NEW"), SOFAS_AND_DELIVERY, "9"), mapping, null);
        assertThat(card.reason()).contains("pay system 9 from UF_CRM_PAY_SYSTEM");
        assertThat(emu.calls().count(Portal.STORE, "sale.paysystem.list")).isEqualTo(1);

        emu.store().addPaySystem(12, "Installments");  // added in the store after the list was read
        OrderWrite added = writer.write(createWith(deal("C1:NEW"), SOFAS_AND_DELIVERY, "12"), mapping, null);
        assertThat(paySystemOf(added.link().getOrderId())).isEqualTo("12");
        assertThat(emu.calls().count(Portal.STORE, "sale.paysystem.list")).as("one re-read for the miss").isEqualTo(2);

        OrderWrite unknown = writer.write(createWith(deal("C1:NEW"), SOFAS_AND_DELIVERY, "77"), mapping, null);
        assertThat(paySystemOf(unknown.link().getOrderId())).isEqualTo("3");
        assertThat(emu.calls().count(Portal.STORE, "sale.paysystem.list")).as("a miss re-reads once per command").isEqualTo(3);

        writer.write(createWith(deal("C1:NEW"), SOFAS_AND_DELIVERY, "9"), mapping, null);
        assertThat(emu.calls().count(Portal.STORE, "sale.paysystem.list")).as("a hit reads nothing").isEqualTo(3);
    }

    @Test
    void aDefaultPaySystemTheStoreLacksIsDeadLetteredBeforeAnyOrderIsAdded() throws Exception {
        long dealId = deal("C1:NEW");

        OrderWrite result = writer.write(OrderCommand.newBuilder(createWith(dealId, SOFAS_AND_DELIVERY, "77")).setPaySystemId(5L).build(),
                mapping, null);

        deadLetteredBeforeAnyOrder(result, "payment.default = 5 names no pay system of the store", "\"77\"");
    }

    @Test
    void aRowWithoutAPositiveQuantityIsDeadLetteredBeforeAnyOrderIsAdded() throws Exception {
        long dealId = deal("C1:NEW");

        OrderWrite result = writer.write(createWith(dealId, List.of(row(101L, "Sofa", "1500.00", "0")), "9"), mapping, null);

        deadLetteredBeforeAnyOrder(result, "product row 101", "quantity \"0\"");
    }

    @Test
    void aRowWhoseProductTheStoreLacksIsDeadLetteredBeforeAnyOrderIsAdded() throws Exception {
        long dealId = deal("C1:NEW");

        OrderWrite result = writer.write(createWith(dealId, List.of(row(101L, "Sofa", "1500.00", "1"),
                row(555L, "Armchair", "700.00", "1")), "9"), mapping, null);

        deadLetteredBeforeAnyOrder(result, "PRODUCT_ID 555", "Armchair", "no product of the store's catalog");
    }
}
