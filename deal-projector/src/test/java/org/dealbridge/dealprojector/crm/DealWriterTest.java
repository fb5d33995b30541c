package org.dealbridge.dealprojector.crm;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.bitrix.PortalRateLimiter;
import org.dealbridge.dealprojector.DealProjectorConfig;
import org.dealbridge.dealprojector.topology.DealFields;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.emulator.Fault;
import org.dealbridge.emulator.ManualClock;
import org.dealbridge.emulator.Portal;
import org.dealbridge.mapping.LinkRevision;
import org.dealbridge.mapping.OrderFromDeal;
import org.dealbridge.mapping.Ownership;
import org.dealbridge.schemas.Buyer;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.DealCommandKind;
import org.dealbridge.schemas.LinkOrigin;
import org.dealbridge.schemas.Outcome;
import org.dealbridge.schemas.ProductRow;
import org.dealbridge.schemas.SyncLink;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The connector's CRM side against the CRM emulator over HTTP: each test is one rule of how deals are written. */
class DealWriterTest {

    private BitrixEmulator crm;
    private BitrixClient client;
    private DealWriter writer;
    private DealProjectorConfig config;
    private final List<Duration> waits = new java.util.ArrayList<>();

    @BeforeEach
    void start() {
        start(EmulatorOptions.defaults().rateLimitDisabled());
    }

    private void start(EmulatorOptions options) {
        crm = BitrixEmulator.start(options);
        crm.crm().addPipeline(2, "Sofas");
        crm.crm().addUser(7, "Contact", "Owner", "owner@example.com", true);
        crm.crm().addUser(9, "Sofa", "Manager", "sofas@example.com", true);
        crm.crm().addDealUserField("UF_CRM_PAY_SYSTEM", "string");
        client = BitrixClient.builder(crm.crmWebhookUrl()).portal("crm").meterRegistry(new SimpleMeterRegistry())
                .rateLimiter(new PortalRateLimiter("crm", PortalRateLimiter.Options.of(1000, 1000).withInitialFill(0)))
                .callTimeout(Duration.ofSeconds(2)).retry(2, Duration.ofMillis(10), Duration.ofMillis(50)).build();
        config = new DealProjectorConfig(Map.of(DealProjectorConfig.CONNECTOR.maxAttempts(), "3"));
        writer = new DealWriter(client, config, Clock.systemUTC(), waits::add);
    }

    @AfterEach
    void stop() {
        client.close();
        crm.close();
    }

    /** The shop's CRM as the connector tests know it: the sofas' pipeline 2, its manager 9, the pay-system field. */
    static BitrixEmulator theShopsCrm() {
        BitrixEmulator crm = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled());
        crm.crm().addPipeline(2, "Sofas");
        crm.crm().addUser(9, "Sofa", "Manager", "sofas@example.com", true);
        crm.crm().addDealUserField("UF_CRM_PAY_SYSTEM", "string");
        return crm;
    }

    /** The webhook's user: what DealBridge writes carries this id in MODIFY_BY_ID/MOVED_BY_ID. */
    private static final int DEALBRIDGE = 1;
    /** The sofa manager, responsible for DealBridge's deals in these tests: their edits are a person's. */
    private static final int MANAGER = 9;

    /** The test shop's stage table: the stage each order status maps to, by pipeline (pipeline 2 has no F). */
    private static final Map<String, Map<String, String>> STAGES = Map.of(
            "N", Map.of("0", "NEW", "2", "C2:NEW"),
            "P", Map.of("0", "EXECUTING", "2", "C2:EXECUTING"),
            "F", Map.of("0", "WON"));

    static ProductRow row(long productId, String name, String price) {
        return ProductRow.newBuilder().setProductId(productId).setName(name).setPrice(price).setQuantity("1").build();
    }

    static String digest(List<ProductRow> rows) {
        return DealFields.productRowsDigest(rows);
    }

    static final List<ProductRow> SOFA = List.of(row(77, "Sofa", "1500.00"));
    static final List<ProductRow> SOFA_AND_POUF = List.of(row(77, "Sofa", "1500.00"), row(78, "Pouf", "300.00"));
    static final List<ProductRow> CHAIRS = List.of(row(88, "Chair", "500.00"), row(89, "Chair", "1000.00"));

    static DealCommand create(long orderId, Map<String, String> extra, Buyer buyer, boolean contactOwner) {
        Map<String, String> fields = new HashMap<>(Map.of("TITLE", "Order #" + orderId, "CATEGORY_ID", "2", "STAGE_ID", "C2:NEW",
                "ASSIGNED_BY_ID", "9", "OPPORTUNITY", "1500.00", "CURRENCY_ID", "RUB", "ORIGINATOR_ID", "dealbridge:s1",
                "ORIGIN_ID", Long.toString(orderId), "UF_CRM_PAY_SYSTEM", "4", "IS_MANUAL_OPPORTUNITY", "Y"));
        fields.putAll(extra);
        Map<String, String> orderValues = new LinkedHashMap<>();
        for (String field : List.of("TITLE", "OPPORTUNITY", "CURRENCY_ID", "UF_CRM_PAY_SYSTEM", "CATEGORY_ID")) {
            orderValues.put(field, fields.get(field));
        }
        return DealCommand.newBuilder().setCommandId("c-" + orderId).setKind(DealCommandKind.CREATE).setSiteId("s1")
                .setOrderId(orderId).setOriginatorId("dealbridge:s1").setFields(fields)
                .setOrderStatusId("N").setStageByPipeline(STAGES.get("N")).setOrderValues(orderValues)
                .setOrderRowsDigest(digest(SOFA)).setProductRows(SOFA)
                .setBuyer(buyer).setResolveResponsibleFromContact(contactOwner).setMappingVersion(1)
                .setSourceTime(Instant.now()).build();
    }

    /** The order's own values of order {@code orderId} as DealBridge wrote them and both sides agreed on. */
    static Map<String, String> valuesOf(long orderId, String price, long pipeline) {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("TITLE", "Order #" + orderId);
        values.put("OPPORTUNITY", price);
        values.put("CURRENCY_ID", "RUB");
        values.put(Ownership.PIPELINE, Long.toString(pipeline));
        return values;
    }

    /**
     * The link after DealBridge wrote the order's values on the deal and both sides agreed at (stage, status): what
     * DealBridge wrote and the order's values are the same.
     */
    static SyncLink agreed(long orderId, long dealId, long pipeline, String stage, String status, Map<String, String> values,
                           List<ProductRow> basket) {
        return SyncLink.newBuilder().setSiteId("s1").setOrderId(orderId).setDealId(dealId).setCategoryId(pipeline)
                .setStageId(stage).setStatusId(status).setDealFields(new LinkedHashMap<>(values)).setDealRowsDigest(digest(basket))
                .setOrderValues(new LinkedHashMap<>(values)).setOrderRowsDigest(digest(basket)).setOrigin(LinkOrigin.ORDER).setRevision(6)
                .setUpdatedAt(Instant.now().minus(Duration.ofMinutes(10))).build();
    }

    static SyncLink agreed(long orderId, long dealId, long pipeline, String stage, String status) {
        return agreed(orderId, dealId, pipeline, stage, status, valuesOf(orderId, "1500.00", pipeline), SOFA);
    }

    /** An UPDATE the way the topology decides it: decided on a link, carrying only what the order changed since. */
    static Update update(long orderId, long dealId, SyncLink decidedOn) {
        return new Update(orderId, dealId, decidedOn);
    }

    static final class Update {
        private final DealCommand.Builder command;
        private final Map<String, String> fields = new LinkedHashMap<>();
        private final Map<String, String> orderValues;
        private String orderRows;

        Update(long orderId, long dealId, SyncLink decidedOn) {
            orderValues = new LinkedHashMap<>(decidedOn.getOrderValues());
            orderRows = decidedOn.getOrderRowsDigest();
            command = DealCommand.newBuilder().setCommandId("u-" + orderId).setKind(DealCommandKind.UPDATE).setSiteId("s1")
                    .setOrderId(orderId).setDealId(dealId).setOriginatorId("dealbridge:s1").setDecidedOn(decidedOn)
                    .setMappingVersion(1).setSourceTime(Instant.now());
            status(decidedOn.getStatusId().isEmpty() ? "N" : decidedOn.getStatusId());
        }

        /** The order's status now, with its stage in every pipeline of the shop's mapping. */
        Update status(String status) {
            command.setOrderStatusId(status).setStageByPipeline(STAGES.get(status));
            return this;
        }

        /** The stage the topology asks for (in the link's pipeline). */
        Update stage(String stage) {
            fields.put("STAGE_ID", stage);
            return this;
        }

        /** The order's own value of a field changed to this: the command carries it. */
        Update changed(String field, String value) {
            fields.put(field, value);
            orderValues.put(field, value);
            return this;
        }

        /** The order's basket changed to these rows; the mapping picks {@code pipeline} for it. */
        Update basket(List<ProductRow> rows, long pipeline) {
            command.setProductRows(rows);
            orderRows = digest(rows);
            orderValues.put(Ownership.PIPELINE, Long.toString(pipeline));
            return this;
        }

        /** The topology asks to move the deal to this pipeline. */
        Update pipeline(long pipeline) {
            fields.put("CATEGORY_ID", Long.toString(pipeline));
            orderValues.put(Ownership.PIPELINE, Long.toString(pipeline));
            return this;
        }

        Update orderValue(String field, String value) {
            orderValues.put(field, value);
            return this;
        }

        Update at(Instant orderChangedAt) {
            command.setSourceTime(orderChangedAt);
            return this;
        }

        /** The store's version of the order save the command was decided for. */
        Update orderSave(long version) {
            command.setOrderVersion(version);
            return this;
        }

        Update mappingVersion(long version) {
            command.setMappingVersion(version);
            return this;
        }

        DealCommand build() {
            return command.setFields(fields).setOrderValues(orderValues).setOrderRowsDigest(orderRows).build();
        }
    }

    /** A deal DealBridge made for an order (as the webhook's user), with the manager responsible for it. */
    private long dealBridgesDeal(long orderId, long pipeline, String stage, Map<String, ?> more) {
        Map<String, Object> fields = new HashMap<>(Map.of("TITLE", "Order #" + orderId, "CATEGORY_ID", pipeline,
                "STAGE_ID", stage, "OPPORTUNITY", "1500.00", "IS_MANUAL_OPPORTUNITY", "Y", "CURRENCY_ID", "RUB",
                "ASSIGNED_BY_ID", MANAGER, "ORIGINATOR_ID", "dealbridge:s1", "ORIGIN_ID", Long.toString(orderId),
                "byUserId", DEALBRIDGE));
        fields.putAll(more);
        return crm.crm().addDealAsHuman(fields);
    }

    /** A deal DealBridge made in pipeline 0 (at NEW) that the manager then moved to pipeline 2 (sofas), the calls log cleared. */
    private long dealTheManagerMovedToPipeline2(long orderId) {
        long dealId = dealBridgesDeal(orderId, 0, "NEW", Map.of());
        theManagerEdits(dealId, Map.of("CATEGORY_ID", 2, "STAGE_ID", "C2:NEW"));
        crm.calls().clear();
        return dealId;
    }

    private void theManagerEdits(long dealId, Map<String, ?> fields) {
        Map<String, Object> edit = new HashMap<>(fields);
        edit.put("byUserId", MANAGER);
        crm.crm().updateDealAsHuman(dealId, edit);
    }

    static Buyer buyer(String email, String phone) {
        return Buyer.newBuilder().setName("Anna").setEmail(email).setPhone(phone).build();
    }

    private DealWrite writeOne(DealCommand command) throws InterruptedException {
        return writer.write(List.of(command)).get(0);
    }

    /** New orders {@code first..last} (no buyer) written in one call of the writer, counting the CRM's calls from here. */
    private List<DealWrite> writeNewOrders(long first, long last) throws InterruptedException {
        List<DealCommand> commands = new java.util.ArrayList<>();
        for (long order = first; order <= last; order++) {
            commands.add(create(order, Map.of(), null, false));
        }
        crm.calls().clear();
        return writer.write(commands);
    }

    @Test
    void aNewOrderGetsOneDealWithItsRowsAndANewContactAndALinkOfWhatWasWritten() throws Exception {
        DealWrite result = writeOne(create(5001, Map.of(), buyer("anna@example.com", null), false));

        assertThat(result.outcome()).isEqualTo(Outcome.CREATED);
        List<Map<String, Object>> deals = crm.crm().dealsByOrigin("dealbridge:s1", "5001");
        assertThat(deals).hasSize(1);
        long dealId = Long.parseLong(deals.get(0).get("ID").toString());
        assertThat(result.link().getDealId()).isEqualTo(dealId);
        assertThat(result.link().getCategoryId()).isEqualTo(2L);
        assertThat(result.link().getStageId()).isEqualTo("C2:NEW");
        assertThat(result.link().getStatusId()).isEqualTo("N");
        assertThat(result.link().getDealFields()).containsEntry("UF_CRM_PAY_SYSTEM", "4").containsEntry("CATEGORY_ID", "2");
        assertThat(result.link().getDealRowsDigest()).isEqualTo(digest(SOFA));
        assertThat(result.link().getDealFields().keySet()).noneMatch(key -> key.startsWith("@"));
        assertThat(result.link().getOrderValues()).isEqualTo(create(5001, Map.of(), null, false).getOrderValues());
        assertThat(result.link().getOrigin()).isEqualTo(LinkOrigin.ORDER);
        assertThat(result.link().getRevision()).as("the link's first write").isEqualTo(1);
        assertThat(crm.crm().dealProductRows(dealId)).hasSize(1);
        List<Long> contacts = crm.crm().dealContactIds(dealId);
        assertThat(contacts).hasSize(1);
        assertThat(crm.crm().contact(contacts.get(0)).toString()).contains("anna@example.com");
    }

    @Test
    void aCreateForAnOrderThatAlreadyHasADealUpdatesThatDealInsteadOfAddingOne() throws Exception {
        // an earlier add of DealBridge's went through (its answer was lost); nobody has touched the deal since
        long existing = dealBridgesDeal(5002, 2, "C2:NEW", Map.of("OPPORTUNITY", "1000"));
        crm.calls().clear();

        DealWrite result = writeOne(create(5002, Map.of(), null, false));

        assertThat(crm.calls().count(Portal.CRM, "crm.deal.add")).isZero();
        assertThat(result.outcome()).isEqualTo(Outcome.UPDATED);
        assertThat(result.link().getDealId()).isEqualTo(existing);
        assertThat(crm.crm().dealsByOrigin("dealbridge:s1", "5002")).singleElement()
                .satisfies(deal -> assertThat(deal.get("OPPORTUNITY")).isEqualTo("1500.00"));
    }

    @Test
    void responsiblePrecedenceTheContactOwnerWinsWhenTheBuyersContactIsFoundByEmail() throws Exception {
        long contact = crm.crm().addContact("Anna", "Smirnova", 7, "anna@example.com", null);

        DealWrite result = writeOne(create(5003, Map.of(), buyer("anna@example.com", "+79990001122"), true));

        Map<String, Object> deal = crm.crm().dealsByOrigin("dealbridge:s1", "5003").get(0);
        assertThat(deal).containsEntry("ASSIGNED_BY_ID", "7");
        assertThat(crm.crm().dealContactIds(result.link().getDealId())).containsExactly(contact);
        assertThat(crm.calls().count(Portal.CRM, "crm.contact.add")).isZero();
    }

    @Test
    void responsiblePrecedenceTheContactIsFoundByPhoneWhenTheEmailIsUnknown() throws Exception {
        long contact = crm.crm().addContact("Anna", "Smirnova", 7, null, "+79990001122");

        DealWrite result = writeOne(create(5004, Map.of(), buyer("new@example.com", "+79990001122"), true));

        assertThat(crm.crm().dealsByOrigin("dealbridge:s1", "5004").get(0)).containsEntry("ASSIGNED_BY_ID", "7");
        assertThat(crm.crm().dealContactIds(result.link().getDealId())).containsExactly(contact);
    }

    @Test
    void responsiblePrecedenceWithoutAContactThePipelinesUserStays() throws Exception {
        writeOne(create(5005, Map.of(), buyer("nobody@example.com", null), true));

        assertThat(crm.crm().dealsByOrigin("dealbridge:s1", "5005").get(0)).containsEntry("ASSIGNED_BY_ID", "9");
    }

    @Test
    void anUpdateWritesOnlyItsFieldsWhenTheDealStillHasTheAgreedValues() throws Exception {
        long dealId = dealBridgesDeal(5006, 0, "NEW", Map.of());

        DealWrite result = writeOne(update(5006, dealId, agreed(5006, dealId, 0, "NEW", "N")).status("P").stage("EXECUTING").build());

        assertThat(result.outcome()).isEqualTo(Outcome.UPDATED);
        assertThat(crm.crm().deal(dealId)).containsEntry("STAGE_ID", "EXECUTING").containsEntry("TITLE", "Order #5006")
                .containsEntry("OPPORTUNITY", "1500.00");
        assertThat(result.link().getStageId()).isEqualTo("EXECUTING");
        assertThat(result.link().getStatusId()).isEqualTo("P");
        assertThat(result.link().getRevision()).as("a deal write counts two on from the link it was decided on")
                .isEqualTo(agreed(5006, dealId, 0, "NEW", "N").getRevision() + 2);
    }

    @Test
    void noBlindOverwriteAnUpdateWhoseTargetChangedIsDroppedAndTheLinkRefreshed() throws Exception {
        long dealId = dealBridgesDeal(5007, 0, "NEW", Map.of());
        theManagerEdits(dealId, Map.of("STAGE_ID", "WON"));  // a manager closed it meanwhile
        crm.calls().clear();

        // the order changed before the manager did (its event is older than the deal's DATE_MODIFY)
        DealWrite result = writeOne(update(5007, dealId, agreed(5007, dealId, 0, "NEW", "N")).status("P").stage("EXECUTING")
                .at(Instant.now().minus(Duration.ofMinutes(5))).build());

        assertThat(result.outcome()).isEqualTo(Outcome.CONFLICT_RESOLVED);
        assertThat(result.reason()).contains("stage WON", "stands");
        assertThat(crm.crm().deal(dealId)).containsEntry("STAGE_ID", "WON");
        assertThat(crm.calls().count(Portal.CRM, "crm.deal.update")).isZero();
        assertThat(result.link().getStageId()).isEqualTo("WON");
    }

    @Test
    void aBasketThatNowPicksAnotherPipelineMovesTheDealThroughCrmItemUpdate() throws Exception {
        // was "a pipeline change of an existing deal goes through crm.item.update": a move is now made only when the
        // order's basket changed since the last agreement (chairs → a sofa), never for a pipeline alone
        long dealId = dealBridgesDeal(5008, 0, "NEW", Map.of());
        SyncLink chairs = agreed(5008, dealId, 0, "NEW", "N", valuesOf(5008, "1500.00", 0), CHAIRS);

        DealWrite result = writeOne(update(5008, dealId, chairs).basket(SOFA, 2).pipeline(2).stage("C2:NEW").build());

        assertThat(result.outcome()).isEqualTo(Outcome.UPDATED);
        assertThat(crm.calls().count(Portal.CRM, "crm.item.update")).isEqualTo(1);
        assertThat(crm.crm().deal(dealId)).containsEntry("CATEGORY_ID", "2").containsEntry("STAGE_ID", "C2:NEW");
        assertThat(result.link().getCategoryId()).isEqualTo(2L);
        assertThat(result.link().getDealFields()).containsEntry("CATEGORY_ID", "2");
        assertThat(result.link().getOrderValues()).containsEntry("CATEGORY_ID", "2");
        assertThat(result.link().getOrderRowsDigest()).isEqualTo(digest(SOFA));
    }

    @Test
    void aNewMappingVersionAloneNeverMovesADeal() throws Exception {
        // the admin now maps the same basket to pipeline 2; the order's basket did not change since the last agreement
        long dealId = dealBridgesDeal(5014, 0, "NEW", Map.of());
        crm.calls().clear();

        DealWrite result = writeOne(update(5014, dealId, agreed(5014, dealId, 0, "NEW", "N")).pipeline(2).stage("C2:NEW")
                .mappingVersion(2).build());

        assertThat(crm.calls().count(Portal.CRM, "crm.item.update")).isZero();
        assertThat(crm.crm().deal(dealId)).containsEntry("CATEGORY_ID", "0").containsEntry("STAGE_ID", "NEW");
        assertThat(result.outcome()).isEqualTo(Outcome.UNCHANGED);
        assertThat(result.link().getCategoryId()).isZero();
        assertThat(result.link().getDealFields()).containsEntry("CATEGORY_ID", "0");
    }

    @Test
    void aDealDeletedInTheCrmIsDealDeletedWithoutADeadLetterAndItsLinkSaysWhen() throws Exception {
        // was "dead-lettered at once": a deletion is a person's decision, not an error (issue 12)
        Instant before = Instant.now();
        SyncLink decidedOn = agreed(5009, 987654, 0, "NEW", "N");

        DealWrite result = writeOne(update(5009, 987654, decidedOn).status("P").stage("EXECUTING").build());

        assertThat(result.outcome()).isEqualTo(Outcome.DEAL_DELETED);
        assertThat(result.attempts()).isEqualTo(1);
        assertThat(result.errorCode()).isNull();
        assertThat(result.written()).isFalse();
        assertThat(result.reason()).contains("987654", "s1:5009", "no longer exists");
        assertThat(result.link()).isNotNull();
        assertThat(result.link().getDealId()).isEqualTo(987654L);
        assertThat(result.link().getDealDeletedAt()).isNotNull().isAfterOrEqualTo(before);
        assertThat(result.link().getStageId()).isEqualTo("NEW");  // the last agreement, kept for the record
        assertThat(crm.calls().count(Portal.CRM, "crm.deal.update")).isZero();
    }

    @Test
    void anOrderDeletedInTheStoreIsRecordedAndItsDealGoesOnlyToTheMappedCancelledStage() throws Exception {
        long kept = dealBridgesDeal(5020, 0, "EXECUTING", Map.of());
        long cancelled = dealBridgesDeal(5021, 2, "C2:EXECUTING", Map.of());
        DealCommand noCancelledStage = DealCommand.newBuilder(update(5020, kept, agreed(5020, kept, 0, "EXECUTING", "P")).build())
                .setFields(Map.of()).setOrderDeleted(true).setStageByPipeline(Map.of("2", "C2:LOSE")).build();
        DealCommand toCancelled = DealCommand.newBuilder(update(5021, cancelled, agreed(5021, cancelled, 2, "C2:EXECUTING", "P")).build())
                .setFields(Map.of()).setOrderDeleted(true).setStageByPipeline(Map.of("2", "C2:LOSE")).build();

        List<DealWrite> results = writer.write(List.of(noCancelledStage, toCancelled));

        assertThat(results).allSatisfy(r -> {
            assertThat(r.outcome()).isEqualTo(Outcome.ORDER_DELETED);
            assertThat(r.link().getOrderDeletedAt()).isNotNull();
        });
        assertThat(crm.crm().deal(kept).get("STAGE_ID")).as("no cancelled stage in pipeline 0: left alone").isEqualTo("EXECUTING");
        assertThat(crm.crm().deal(cancelled).get("STAGE_ID")).isEqualTo("C2:LOSE");
        assertThat(results.get(1).reason()).contains("cancelled stage C2:LOSE");
    }

    @Test
    void aCreateFoldedWithLaterChangesMakesTheDealWhereTheLatestBasketPointsNotWhereAnOlderOneDid() throws Exception {
        // the crash loop's case: a CREATE folded with an UPDATE for an older basket (CATEGORY_ID 2) and a later one
        // whose basket points back to pipeline 0; the order values are the latest order's
        DealCommand create = create(5030, Map.of(), null, false);
        Map<String, String> latest = new LinkedHashMap<>(create.getOrderValues());
        latest.put("CATEGORY_ID", "0");
        latest.put("OPPORTUNITY", "1700.00");
        DealCommand folded = DealCommand.newBuilder(create).setOrderValues(latest).build();

        DealWrite result = writeOne(folded);

        long dealId = result.link().getDealId();
        assertThat(crm.crm().deal(dealId).get("CATEGORY_ID")).isEqualTo("0");
        assertThat(crm.crm().deal(dealId).get("STAGE_ID")).isEqualTo("NEW");
        assertThat(crm.crm().deal(dealId).get("OPPORTUNITY")).isEqualTo("1700.00");
        assertThat(result.link().getCategoryId()).isEqualTo(0L);
    }

    @Test
    void aCreateThatFindsItsDealMovesItOnlyWhereTheLatestBasketPoints() throws Exception {
        long dealId = dealBridgesDeal(5031, 0, "NEW", Map.of());
        DealCommand create = create(5031, Map.of(), null, false);  // its own CATEGORY_ID 2 is an older decision's
        Map<String, String> latest = new LinkedHashMap<>(create.getOrderValues());
        latest.put("CATEGORY_ID", "0");

        DealWrite result = writeOne(DealCommand.newBuilder(create).setOrderValues(latest).build());

        assertThat(result.link().getDealId()).isEqualTo(dealId);
        assertThat(crm.crm().deal(dealId).get("CATEGORY_ID")).isEqualTo("0");
        assertThat(crm.calls().count(Portal.CRM, "crm.item.update")).isZero();
    }

    @Test
    void aCommandTheCrmCannotTakeIsDeadLetteredAndTheOthersAreWritten() throws Exception {
        long dealId = dealBridgesDeal(5012, 0, "NEW", Map.of());
        SyncLink chairs = agreed(5012, dealId, 0, "NEW", "N", valuesOf(5012, "1500.00", 0), CHAIRS);
        DealCommand broken = DealCommand.newBuilder(update(5012, dealId, chairs).basket(SOFA, 2).pipeline(2).stage("NEW").build())
                .setStageByPipeline(Map.of("0", "NEW", "2", "NEW")).build();  // a stage of another pipeline

        List<DealWrite> results = writer.write(List.of(broken, create(5013, Map.of(), null, false)));

        assertThat(results.get(0).outcome()).isEqualTo(Outcome.DEAD_LETTERED);
        assertThat(results.get(0).reason()).contains("NEW", "pipeline 2");
        assertThat(results.get(1).outcome()).isEqualTo(Outcome.CREATED);
        assertThat(crm.crm().deal(dealId)).containsEntry("CATEGORY_ID", "0");
    }

    @Test
    void aMoveTheCrmRefusesForGoodWritesNothingElseOfThatCommand() throws Exception {
        // the move is refused (pipeline 4 does not exist): the amount and the rows of the same command must not be
        // written either, or DealBridge's own amount would later read as a person's edit (no link records it)
        long dealId = dealBridgesDeal(5015, 0, "NEW", Map.of());
        crm.crm().setProductRowsAsHuman(dealId, List.of(Map.of("PRODUCT_ID", 88, "PRODUCT_NAME", "Chair", "PRICE", "1500.00",
                "QUANTITY", 1)));
        SyncLink chairs = agreed(5015, dealId, 0, "NEW", "N", valuesOf(5015, "1500.00", 0), CHAIRS);
        DealCommand refusedMove = DealCommand.newBuilder(update(5015, dealId, chairs).basket(SOFA_AND_POUF, 4).pipeline(4)
                .stage("C4:NEW").changed("OPPORTUNITY", "1800.00").build())
                .setStageByPipeline(Map.of("0", "NEW", "4", "C4:NEW")).build();

        List<DealWrite> results = writer.write(List.of(refusedMove, create(5016, Map.of(), null, false)));

        assertThat(results.get(0).outcome()).isEqualTo(Outcome.DEAD_LETTERED);
        assertThat(results.get(1).outcome()).as("another order's command in the same round").isEqualTo(Outcome.CREATED);
        assertThat(crm.crm().deal(dealId)).containsEntry("CATEGORY_ID", "0");
        assertThat(new BigDecimal(String.valueOf(crm.crm().deal(dealId).get("OPPORTUNITY")))).isEqualByComparingTo("1500.00");
        assertThat(crm.crm().dealProductRows(dealId)).extracting(r -> String.valueOf(r.get("PRODUCT_NAME"))).containsExactly("Chair");
    }

    @Test
    void transientFailuresAreRetriedWithBackoffAndThenWaitForTheCrmInsteadOfBeingDeadLettered() throws Exception {
        crm.faults().outage(Portal.CRM, Duration.ofMinutes(5), Fault.HTTP_500);

        DealWrite result = writeOne(create(5010, Map.of(), null, false));

        assertThat(result.outcome()).isNotEqualTo(Outcome.DEAD_LETTERED);
        assertThat(result.unreachable()).as("the connector waits for the CRM and runs it again").isTrue();
        assertThat(result.link()).isNull();
        assertThat(result.attempts()).isEqualTo(3);
        assertThat(result.reason()).contains("after 3 attempts", "s1:5010");
        assertThat(waits).hasSize(2).allSatisfy(wait -> assertThat(wait).isLessThanOrEqualTo(config.maxBackoff()));
        // one retry layer: each round is one read batch, which the client does not retry again (crm.max-attempts bounds it)
        assertThat(crm.calls().count(Portal.CRM, "batch")).isEqualTo(3);
        assertThat(crm.crm().dealsByOrigin("dealbridge:s1", "5010")).isEmpty();
    }

    @Test
    void aTransientFailureOfOneRoundIsRetriedAndTheDealAppearsOnce() throws Exception {
        crm.faults().failNext("crm.deal.add", 1, Fault.APPLY_THEN_DROP);

        DealWrite result = writeOne(create(5011, Map.of(), null, false));

        assertThat(result.outcome()).isIn(Outcome.CREATED, Outcome.UPDATED);
        assertThat(result.attempts()).isEqualTo(2);
        assertThat(crm.crm().dealsByOrigin("dealbridge:s1", "5011")).hasSize(1);
        assertThat(waits).hasSize(1);
    }

    @Test
    void manyCommandsShareBatchCallsOfAtMostFiftySubCommands() throws Exception {
        List<DealWrite> results = writeNewOrders(6001, 6030);

        assertThat(results).allSatisfy(r -> assertThat(r.outcome()).isEqualTo(Outcome.CREATED));
        int batches = crm.calls().count(Portal.CRM, "batch");
        assertThat(batches).isEqualTo(3);  // one look-up for all 30 in one call; 30 adds + 30 row sets in two
        for (long id = 6001; id <= 6030; id++) {
            assertThat(crm.crm().dealsByOrigin("dealbridge:s1", Long.toString(id))).hasSize(1);
        }
    }

    // --- shared look-ups (issue 14 item 1): one crm.deal.list per up to 50 deals, not one sub-command per command ---

    /** Sub-commands the emulator ran, by method, all batches together. */
    private Map<String, Long> subCommands() {
        Map<String, Long> counts = new java.util.TreeMap<>();
        crm.calls().all().stream().filter(org.dealbridge.emulator.Call::inBatch)
                .forEach(c -> counts.merge(c.method(), 1L, Long::sum));
        return counts;
    }

    @Test
    void theChecksBeforeSixtyStatusChangesAreTwoDealListsAndTheUpdatesAreOneSubCommandEach() throws Exception {
        List<DealCommand> commands = new java.util.ArrayList<>();
        for (long order = 7101; order <= 7160; order++) {
            long dealId = dealBridgesDeal(order, 0, "NEW", Map.of());
            commands.add(update(order, dealId, agreed(order, dealId, 0, "NEW", "N")).status("P").stage("EXECUTING").build());
        }
        crm.calls().clear();

        List<DealWrite> results = writer.write(commands);

        assertThat(results).allSatisfy(r -> assertThat(r.outcome()).isEqualTo(Outcome.UPDATED));
        assertThat(subCommands()).containsExactlyInAnyOrderEntriesOf(Map.of("crm.deal.list", 2L, "crm.deal.update", 60L));
        assertThat(crm.calls().of(Portal.CRM, "crm.deal.list")).allSatisfy(list -> assertThat(list.params().toString())
                .doesNotContain("UF_*"));  // only the fields the decision needs
        for (long order = 7101; order <= 7160; order++) {
            assertThat(crm.crm().dealsByOrigin("dealbridge:s1", Long.toString(order)).get(0)).containsEntry("STAGE_ID", "EXECUTING");
        }
    }

    @Test
    void theLookUpsBeforeSixtyNewDealsAreTwoDealListsByOrigin() throws Exception {
        List<DealWrite> results = writeNewOrders(7201, 7260);

        assertThat(results).allSatisfy(r -> assertThat(r.outcome()).isEqualTo(Outcome.CREATED));
        assertThat(subCommands()).containsExactlyInAnyOrderEntriesOf(Map.of("crm.deal.list", 2L, "crm.deal.add", 60L,
                "crm.deal.productrows.set", 60L));
        for (long order = 7201; order <= 7260; order++) {
            assertThat(crm.crm().dealsByOrigin("dealbridge:s1", Long.toString(order))).hasSize(1);
        }
    }

    @Test
    void anOrderWhoseDealAFullPageOfTheSharedLookUpCutOffIsLookedUpAloneAndGetsNoSecondDeal() throws Exception {
        // 51 deals for 50 orders (order 7301 was duplicated by hand): the page of 50, oldest first, cuts off 7350's deal
        dealBridgesDeal(7301, 0, "NEW", Map.of());
        dealBridgesDeal(7301, 0, "NEW", Map.of());
        List<DealCommand> commands = new java.util.ArrayList<>();
        for (long order = 7301; order <= 7350; order++) {
            if (order > 7301) {
                dealBridgesDeal(order, 2, "C2:NEW", Map.of());
            }
            commands.add(create(order, Map.of(), null, false));
        }
        crm.calls().clear();

        List<DealWrite> results = writer.write(commands);

        assertThat(crm.calls().count(Portal.CRM, "crm.deal.add")).isZero();
        assertThat(results).allSatisfy(r -> assertThat(r.outcome()).isNotEqualTo(Outcome.CREATED));
        assertThat(crm.crm().dealsByOrigin("dealbridge:s1", "7350")).hasSize(1);
        assertThat(crm.calls().count(Portal.CRM, "crm.deal.list")).isEqualTo(2);  // the shared one, then 7350's own
    }

    // --- contacts remembered (issue 14 item 2): a returning buyer costs nothing, unknown buyers are searched in bulk ---

    @Test
    void aReturningBuyersNewOrderCostsItsLookUpAddAndRowsOnlyNoSearchAndNoSecondContact() throws Exception {
        DealWrite first = writeOne(create(7401, Map.of(), buyer("Anna@Example.com", "+7 999 000-11-22"), false));
        long contact = crm.crm().dealContactIds(first.link().getDealId()).get(0);
        assertThat(first.contacts()).containsEntry("email:anna@example.com", contact).containsEntry("phone:79990001122", contact);
        crm.calls().clear();

        DealWrite second = writeOne(create(7402, Map.of(), buyer(" anna@example.COM", null), false));

        assertThat(subCommands()).containsExactlyInAnyOrderEntriesOf(Map.of("crm.deal.list", 1L, "crm.deal.add", 1L,
                "crm.deal.productrows.set", 1L));
        assertThat(crm.crm().dealContactIds(second.link().getDealId())).containsExactly(contact);
    }

    @Test
    void thirtyUnknownBuyersAreSearchedInTwoCallsOfTheDuplicateSearchAndEachDealGetsItsBuyersContact() throws Exception {
        Map<Long, Long> contactOfOrder = new HashMap<>();
        List<DealCommand> commands = new java.util.ArrayList<>();
        for (long order = 7501; order <= 7530; order++) {
            contactOfOrder.put(order, crm.crm().addContact("Buyer", Long.toString(order), 7, "b" + order + "@example.com", null));
            commands.add(create(order, Map.of(), buyer("b" + order + "@example.com", null), true));
        }
        crm.calls().clear();

        List<DealWrite> results = writer.write(commands);

        assertThat(subCommands()).containsEntry("crm.duplicate.findbycomm", 2L).containsEntry("crm.contact.list", 2L)
                .doesNotContainKey("crm.contact.add").doesNotContainKey("crm.contact.get");
        for (DealWrite result : results) {
            long order = result.command().getOrderId();
            assertThat(crm.crm().dealContactIds(result.link().getDealId())).as("order %d", order)
                    .containsExactly(contactOfOrder.get(order));
            assertThat(crm.crm().dealsByOrigin("dealbridge:s1", Long.toString(order)).get(0)).containsEntry("ASSIGNED_BY_ID", "7");
        }
    }

    // --- the stage is decided with PairDecision against the deal as read (the same rule as the order projector's) ---

    /** An UPDATE decided against a link at C2:NEW/N, for an order now at P (→ C2:EXECUTING), changed at {@code orderAt}. */
    private static DealCommand stageUpdate(long orderId, long dealId, Instant orderAt) {
        return update(orderId, dealId, agreed(orderId, dealId, 2, "C2:NEW", "N")).status("P").stage("C2:EXECUTING").at(orderAt).build();
    }

    @Test
    void whenBothSidesMovedTheOrdersTimestampIsNeverComparedWithTheCrmsClockAndTheStoreConnectorDecides() throws Exception {
        // the order's dateUpdate is by the store's clock and DATE_MODIFY by the CRM's, which may be minutes apart (issue 13
        // item 3): an hour "later" by the store's clock says nothing here. The deal stands and the store connector, which
        // reads both portals at one moment, settles the pair (RECONCILE).
        long dealId = dealBridgesDeal(5101, 2, "C2:NEW", Map.of());
        theManagerEdits(dealId, Map.of("STAGE_ID", "C2:PREPARATION"));  // both sides moved since the link
        crm.calls().clear();

        DealWrite result = writeOne(stageUpdate(5101, dealId, Instant.now().plus(Duration.ofHours(1))));

        assertThat(crm.crm().deal(dealId).get("STAGE_ID")).isEqualTo("C2:PREPARATION");
        assertThat(crm.calls().count(Portal.CRM, "crm.deal.update")).isZero();
        assertThat(result.outcome()).isEqualTo(Outcome.CONFLICT_RESOLVED);
        assertThat(result.reconcile()).as("handed to the store connector").isTrue();
        assertThat(result.reason()).contains("store connector");
    }

    @Test
    void aManagersStageChangeLaterThanTheOrdersChangeIsNeverOverwritten() throws Exception {
        long dealId = dealBridgesDeal(5102, 2, "C2:NEW", Map.of());
        theManagerEdits(dealId, Map.of("STAGE_ID", "C2:PREPARATION"));
        crm.calls().clear();

        DealWrite result = writeOne(stageUpdate(5102, dealId, Instant.now().minus(Duration.ofHours(1))));

        assertThat(crm.crm().deal(dealId).get("STAGE_ID")).isEqualTo("C2:PREPARATION");
        assertThat(crm.calls().count(Portal.CRM, "crm.deal.update")).isZero();
        assertThat(result.outcome()).isEqualTo(Outcome.CONFLICT_RESOLVED);
        assertThat(result.link().getStageId()).isEqualTo("C2:PREPARATION");
    }

    @Test
    void aDealAlreadyAtTheOrdersStageIsLeftThereAndItsOtherFieldsAreStillWritten() throws Exception {
        long dealId = dealBridgesDeal(5103, 2, "C2:NEW", Map.of("OPPORTUNITY", "1000"));
        theManagerEdits(dealId, Map.of("STAGE_ID", "C2:EXECUTING"));  // the manager got there first
        SyncLink decidedOn = agreed(5103, dealId, 2, "C2:NEW", "N", valuesOf(5103, "1000.00", 2), SOFA);

        DealWrite result = writeOne(update(5103, dealId, decidedOn).status("P").stage("C2:EXECUTING")
                .changed("OPPORTUNITY", "1200.00").build());

        // consistent under the mapping: no stage write, and the amount is not lost to a "conflict"
        assertThat(result.outcome()).isEqualTo(Outcome.UPDATED);
        assertThat(crm.crm().deal(dealId)).containsEntry("STAGE_ID", "C2:EXECUTING").containsEntry("OPPORTUNITY", "1200.00");
        assertThat(result.link().getDealFields()).containsEntry("OPPORTUNITY", "1200.00");
    }

    @Test
    void aCreateThatFindsItsOwnDealWritesTheOrdersStageEvenWhenTheDealIsNewer() throws Exception {
        // an earlier incarnation created the deal (and was killed before its link was committed); the order's change is
        // older than that creation, as it is whenever DealBridge lags: the order's status is still what the deal must show
        long existing = dealBridgesDeal(5104, 2, "C2:PREPARATION", Map.of("OPPORTUNITY", "1000"));

        DealCommand create = DealCommand.newBuilder(create(5104, Map.of(), null, false))
                .setSourceTime(Instant.now().minus(Duration.ofHours(1))).build();
        DealWrite result = writeOne(create);

        // nobody but DealBridge touched it (MODIFY_BY_ID/MOVED_BY_ID are the webhook's user): its values are DealBridge's
        assertThat(crm.crm().deal(existing)).containsEntry("STAGE_ID", "C2:NEW").containsEntry("OPPORTUNITY", "1500.00");
        assertThat(result.link().getStageId()).isEqualTo("C2:NEW");
    }

    @Test
    void aCreateThatFindsADealOlderThanTheOrdersChangeBringsItToTheOrdersStage() throws Exception {
        long existing = dealBridgesDeal(5105, 2, "C2:PREPARATION", Map.of("OPPORTUNITY", "1000"));

        writeOne(DealCommand.newBuilder(create(5105, Map.of(), null, false))
                .setSourceTime(Instant.now().plus(Duration.ofHours(1))).build());

        assertThat(crm.crm().deal(existing)).containsEntry("STAGE_ID", "C2:NEW");
    }

    @Test
    void aCreateThatFindsItsDealMovedByAPersonLaterKeepsTheManagersStage() throws Exception {
        long existing = dealBridgesDeal(5106, 2, "C2:NEW", Map.of());
        theManagerEdits(existing, Map.of("STAGE_ID", "C2:PREPARATION"));  // MOVED_BY_ID = the manager, after the order's change
        crm.calls().clear();

        DealWrite result = writeOne(DealCommand.newBuilder(create(5106, Map.of(), null, false))
                .setSourceTime(Instant.now().minus(Duration.ofHours(1))).build());

        assertThat(crm.crm().deal(existing)).containsEntry("STAGE_ID", "C2:PREPARATION").containsEntry("MOVED_BY_ID", "9");
        assertThat(crm.calls().count(Portal.CRM, "crm.deal.add")).isZero();
        assertThat(crm.calls().count(Portal.CRM, "crm.deal.update")).isZero();
        assertThat(result.outcome()).isEqualTo(Outcome.CONFLICT_RESOLVED);
        assertThat(result.reason()).contains("C2:PREPARATION", "stands");
        assertThat(result.link().getDealId()).isEqualTo(existing);
        assertThat(result.link().getStageId()).isEqualTo("C2:PREPARATION");
    }

    // --- whose data is it (issue 12): a value a person set stands ---

    @Test
    void aManagersTitleSurvivesAnOrderPriceChangeAndTheOutcomeNamesIt() throws Exception {
        long dealId = dealBridgesDeal(5301, 2, "C2:NEW", Map.of());
        theManagerEdits(dealId, Map.of("TITLE", "Anna: corner sofa, VIP"));
        crm.calls().clear();

        // the order's price changed, and so did its title (a new title template in mapping version 2)
        DealWrite result = writeOne(update(5301, dealId, agreed(5301, dealId, 2, "C2:NEW", "N"))
                .changed("TITLE", "Shop order 5301").changed("OPPORTUNITY", "1800.00").mappingVersion(2).build());

        assertThat(crm.crm().deal(dealId)).containsEntry("TITLE", "Anna: corner sofa, VIP").containsEntry("OPPORTUNITY", "1800.00");
        assertThat(result.outcome()).isEqualTo(Outcome.UPDATED);
        assertThat(result.reason()).contains("OPPORTUNITY", "TITLE", "Anna: corner sofa, VIP", "stand");
        // the link still says what DealBridge wrote (not the manager's title), and the order's new values as agreed
        assertThat(result.link().getDealFields()).containsEntry("TITLE", "Order #5301").containsEntry("OPPORTUNITY", "1800.00");
        assertThat(result.link().getOrderValues()).containsEntry("TITLE", "Shop order 5301");
    }

    @Test
    void aManagersTitleAloneIsKeptAsAManagerValue() throws Exception {
        long dealId = dealBridgesDeal(5302, 2, "C2:NEW", Map.of());
        theManagerEdits(dealId, Map.of("TITLE", "Anna: corner sofa, VIP"));
        crm.calls().clear();

        DealWrite result = writeOne(update(5302, dealId, agreed(5302, dealId, 2, "C2:NEW", "N"))
                .changed("TITLE", "Shop order 5302").mappingVersion(2).build());

        assertThat(result.outcome()).isEqualTo(Outcome.MANAGER_VALUE_KEPT);
        assertThat(result.reason()).contains("TITLE", "Anna: corner sofa, VIP");
        assertThat(crm.calls().count(Portal.CRM, "crm.deal.update")).isZero();
        assertThat(crm.crm().deal(dealId)).containsEntry("TITLE", "Anna: corner sofa, VIP");
    }

    @Test
    void anAmountTheCrmComputesFromTheRowsIsNeverWritten() throws Exception {
        long dealId = dealBridgesDeal(5303, 2, "C2:NEW", Map.of("IS_MANUAL_OPPORTUNITY", "N"));
        crm.calls().clear();

        DealWrite result = writeOne(update(5303, dealId, agreed(5303, dealId, 2, "C2:NEW", "N"))
                .changed("OPPORTUNITY", "1800.00").build());

        assertThat(crm.calls().count(Portal.CRM, "crm.deal.update")).isZero();
        assertThat(result.outcome()).isEqualTo(Outcome.MANAGER_VALUE_KEPT);
        assertThat(result.reason()).contains("OPPORTUNITY", "IS_MANUAL_OPPORTUNITY = N");
    }

    @Test
    void aManagersPipelineMoveSurvivesAStatusChangeAndTheStatusIsMappedInTheNewPipeline() throws Exception {
        long dealId = dealTheManagerMovedToPipeline2(5304);

        // the topology still believes the deal is in pipeline 0 (where DealBridge put it) and asks for EXECUTING there;
        // the pair last agreed after the move (C2:NEW with N), so only the order's status moved since
        SyncLink afterTheMove = agreed(5304, dealId, 2, "C2:NEW", "N", valuesOf(5304, "1500.00", 0), SOFA);
        DealWrite result = writeOne(update(5304, dealId, afterTheMove).status("P").stage("EXECUTING").build());

        assertThat(crm.crm().deal(dealId)).containsEntry("CATEGORY_ID", "2").containsEntry("STAGE_ID", "C2:EXECUTING");
        assertThat(crm.calls().count(Portal.CRM, "crm.item.update")).isZero();
        assertThat(result.outcome()).isEqualTo(Outcome.UPDATED);
        assertThat(result.link().getCategoryId()).isEqualTo(2L);
        assertThat(result.link().getStageId()).isEqualTo("C2:EXECUTING");
    }

    @Test
    void aManagersPipelineMoveAndAStatusChangeBothSinceTheLinkAreLeftToTheStoreConnectorAndThePipelineStays() throws Exception {
        long dealId = dealTheManagerMovedToPipeline2(5398);

        DealWrite result = writeOne(update(5398, dealId, agreed(5398, dealId, 0, "NEW", "N")).status("P").stage("EXECUTING")
                .at(Instant.now().plus(Duration.ofHours(1))).build());

        // both moved: no stage is written here whatever the order's dateUpdate says (the store's clock); the store
        // connector ages both changes and maps P through pipeline 2 if the order's is the later
        assertThat(crm.crm().deal(dealId)).containsEntry("CATEGORY_ID", "2").containsEntry("STAGE_ID", "C2:NEW");
        assertThat(crm.calls().count(Portal.CRM, "crm.item.update")).isZero();
        assertThat(result.reconcile()).isTrue();
        assertThat(result.link().getCategoryId()).isEqualTo(2L);
    }

    @Test
    void aManagersPipelineMoveSurvivesABasketChangeThatPicksAnotherPipeline() throws Exception {
        long dealId = dealTheManagerMovedToPipeline2(5305);
        SyncLink chairs = agreed(5305, dealId, 0, "NEW", "N", valuesOf(5305, "1500.00", 0), CHAIRS);

        // the basket changed and the mapping picks pipeline 0 for it, which DealBridge chose before the manager moved it
        DealWrite result = writeOne(DealCommand.newBuilder(update(5305, dealId, chairs).basket(SOFA, 0).build())
                .setFields(Map.of("CATEGORY_ID", "0", "STAGE_ID", "NEW")).build());

        assertThat(crm.calls().count(Portal.CRM, "crm.item.update")).isZero();
        assertThat(crm.crm().deal(dealId)).containsEntry("CATEGORY_ID", "2").containsEntry("STAGE_ID", "C2:NEW");
        assertThat(result.link().getCategoryId()).isEqualTo(2L);
    }

    /**
     * The crash loop's order 1 (seed 16826493377694): baskets sofa (pipeline 2) → chairs (0) → sofa and pouf (2). The
     * move to 0 is applied, then DealBridge dies before the link of that write is committed; the command is consumed
     * again after the restart and finds the deal in pipeline 0 already.
     */
    private DealCommand[] aMoveWhoseLinkIsLost(long orderId, long dealId) throws InterruptedException {
        theDealHasTheSofaRow(dealId);
        SyncLink sofa = agreed(orderId, dealId, 2, "C2:EXECUTING", "P", valuesOf(orderId, "1500.00", 2), SOFA);
        DealCommand toChairs = update(orderId, dealId, sofa).status("P").basket(CHAIRS, 0).pipeline(0).stage("EXECUTING")
                .changed("OPPORTUNITY", "1400.00").build();
        // decided on the same link (the chairs' link never came back): the basket picks pipeline 2, the link's, so the
        // projector asks for no move
        DealCommand back = DealCommand.newBuilder(update(orderId, dealId, sofa).status("P").basket(SOFA_AND_POUF, 2)
                .changed("OPPORTUNITY", "1800.00").build()).setCommandId("u-" + orderId + "-back").build();
        // applied, its intent committed before the call (the restarted connector reads it back); its link is lost
        writer.write(List.of(toChairs), recording);
        assertThat(crm.crm().deal(dealId)).containsEntry("CATEGORY_ID", "0");
        return new DealCommand[] {toChairs, back};
    }

    @Test
    void aMoveReplayedAfterACrashIsRecordedAsDealBridgesSoTheNextBasketChangeMovesTheDealBack() throws Exception {
        long dealId = dealBridgesDeal(5310, 2, "C2:EXECUTING", Map.of());
        DealCommand[] commands = aMoveWhoseLinkIsLost(5310, dealId);

        DealWrite replay = executedAgainAfterTheRestart(commands[0]);
        DealWrite result = writeOne(FreshestLink.apply(commands[1], replay.link()));

        assertThat(replay.link().getDealFields()).containsEntry(Ownership.PIPELINE, "0");
        assertThat(crm.crm().deal(dealId)).containsEntry("CATEGORY_ID", "2").containsEntry("STAGE_ID", "C2:EXECUTING")
                .containsEntry("OPPORTUNITY", "1800.00");
        assertThat(result.outcome()).isEqualTo(Outcome.UPDATED);
        assertThat(result.link().getDealFields()).containsEntry(Ownership.PIPELINE, "2");
    }

    @Test
    void aMoveReplayedAfterACrashInOnePollWithTheNextBasketChangeMovesTheDealBackWithTheLatestAmountAndRows() throws Exception {
        // seed 7057640645922, order 382: folded into one command, both judged on the older link, the replayed write's
        // amount and rows read as a person's and the latest basket was never written
        long dealId = dealBridgesDeal(5311, 2, "C2:EXECUTING", Map.of());
        DealCommand[] commands = aMoveWhoseLinkIsLost(5311, dealId);

        DealWrite result = writePoll(intents.get(intents.size() - 1), commands);

        assertThat(crm.crm().deal(dealId)).containsEntry("CATEGORY_ID", "2").containsEntry("STAGE_ID", "C2:EXECUTING")
                .containsEntry("OPPORTUNITY", "1800.00");
        assertThat(crm.crm().dealProductRows(dealId)).hasSize(2);
        assertThat(result.link().getDealFields()).containsEntry(Ownership.PIPELINE, "2");
    }

    /** The move intents the writer recorded, in order: what the connector commits on deal-links before each move. */
    private final List<SyncLink> intents = new java.util.ArrayList<>();
    private final DealWriter.MoveIntents recording = links -> intents.addAll(links.values());
    /** The process is SIGKILLed right after the intents are durable, before the CRM call. */
    private final DealWriter.MoveIntents recordingThenKilled = links -> {
        intents.addAll(links.values());
        throw new Killed();
    };

    private static final class Killed extends RuntimeException {
        Killed() {
            super("killed after the move intent was committed", null, false, false);
        }
    }

    /** Orders whose baskets were a sofa (pipeline 2, agreed at C2:NEW with N) and are now chairs, which pick pipeline 0. */
    private DealCommand chairsPickPipeline0(long orderId, long dealId) {
        theDealHasTheSofaRow(dealId);
        SyncLink sofa = agreed(orderId, dealId, 2, "C2:NEW", "N", valuesOf(orderId, "1500.00", 2), SOFA);
        return update(orderId, dealId, sofa).basket(CHAIRS, 0).pipeline(0).stage("NEW").build();
    }

    /** The restarted connector executes the command again, judged on the latest intent it read back from deal-links. */
    private DealWrite executedAgainAfterTheRestart(DealCommand command) throws InterruptedException {
        return writer.write(List.of(FreshestLink.apply(command, intents.get(intents.size() - 1))), recording).get(0);
    }

    /** The CRM emulator again, on a clock the test moves: its MOVED_TIME and the time of its answers. */
    private ManualClock crmOnAClockTheTestMoves() {
        stop();
        ManualClock clock = new ManualClock(Instant.now());
        start(EmulatorOptions.defaults().rateLimitDisabled().clock(clock));
        return clock;
    }

    @Test
    void aManagersMoveBackAfterAMoveWhoseLinkACrashLostStandsWhenTheMoveIsExecutedAgain() throws Exception {
        // the 10 000-order crash loop (seed 56838355112597, orders 383, 398, 400): created in 2, the basket picks 0, the
        // move is applied, the process dies before its link is committed, the manager moves the deal back to 2
        long dealId = dealBridgesDeal(5330, 2, "C2:NEW", Map.of());
        DealCommand toChairs = chairsPickPipeline0(5330, dealId);
        writer.write(List.of(toChairs), recording);  // applied; its link is lost with the process
        assertThat(crm.crm().deal(dealId)).containsEntry("CATEGORY_ID", "0");
        theManagerEdits(dealId, Map.of("CATEGORY_ID", 2, "STAGE_ID", "C2:NEW"));
        crm.calls().clear();

        DealWrite replay = executedAgainAfterTheRestart(toChairs);

        assertThat(crm.calls().count(Portal.CRM, "crm.item.update")).isZero();
        assertThat(crm.crm().deal(dealId)).containsEntry("CATEGORY_ID", "2").containsEntry("STAGE_ID", "C2:NEW");
        assertThat(replay.outcome()).isEqualTo(Outcome.MANAGER_VALUE_KEPT);
        assertThat(replay.reason()).contains("pipeline 2 (DealBridge's choice was 0)");
        assertThat(replay.link().getDealFields()).as("DealBridge last wrote 0: the manager's 2 is a person's pipeline")
                .containsEntry(Ownership.PIPELINE, "0");
        assertThat(replay.link().getMoveIntent()).isNull();

        // and the next basket change does not move it either
        DealWrite next = writeOne(update(5330, dealId, replay.link()).basket(SOFA_AND_POUF, 0).pipeline(0).stage("NEW").build());

        assertThat(crm.crm().deal(dealId)).containsEntry("CATEGORY_ID", "2");
        assertThat(next.reason()).contains("pipeline 2 (DealBridge's choice was 0)");
    }

    @Test
    void aManagersMoveBackBetweenAMoveAndItsLostAnswerStandsWhenTheRoundIsRunAgain() throws Exception {
        // the same without a crash: the answer of the applied move is lost, the manager moves the deal back before the
        // writer's next round reads it, and that round is judged on the intent its first one recorded
        long dealId = dealBridgesDeal(5334, 2, "C2:NEW", Map.of());
        DealCommand toChairs = chairsPickPipeline0(5334, dealId);
        crm.faults().failNext(Portal.CRM, "crm.item.update", 1, Fault.APPLY_THEN_DROP);
        crm.faults().afterNext(Portal.CRM, "crm.item.update",
                () -> theManagerEdits(dealId, Map.of("CATEGORY_ID", 2, "STAGE_ID", "C2:NEW")));

        DealWrite result = writer.write(List.of(toChairs), recording).get(0);

        assertThat(result.attempts()).isEqualTo(2);
        assertThat(crm.calls().count(Portal.CRM, "crm.item.update")).isEqualTo(1);
        assertThat(crm.crm().deal(dealId)).containsEntry("CATEGORY_ID", "2");
        // the rows, which the cut batch never reached, are written; the pipeline is the manager's
        assertThat(result.reason()).contains("product rows", "pipeline 2 (DealBridge's choice was 0)");
        assertThat(crm.crm().dealProductRows(dealId)).hasSize(2);
    }

    @Test
    void aMoveWhoseProcessDiedAfterItsIntentAndBeforeTheCallIsMadeWhenExecutedAgain() throws Exception {
        long dealId = dealBridgesDeal(5331, 2, "C2:NEW", Map.of());
        DealCommand toChairs = chairsPickPipeline0(5331, dealId);
        crm.calls().clear();

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> writer.write(List.of(toChairs), recordingThenKilled))
                .isInstanceOf(Killed.class);
        assertThat(crm.calls().count(Portal.CRM, "crm.item.update")).as("no move without its intent durable").isZero();

        DealWrite replay = executedAgainAfterTheRestart(toChairs);

        assertThat(crm.crm().deal(dealId)).containsEntry("CATEGORY_ID", "0").containsEntry("STAGE_ID", "NEW");
        assertThat(replay.outcome()).isEqualTo(Outcome.UPDATED);
        assertThat(replay.link().getDealFields()).containsEntry(Ownership.PIPELINE, "0");
    }

    @Test
    void aManagersStageChangeInsideThePipelineBeforeTheMoveIntentDoesNotKeepTheDealThere() throws Exception {
        ManualClock crmClock = crmOnAClockTheTestMoves();
        long dealId = dealBridgesDeal(5332, 2, "C2:NEW", Map.of());
        DealCommand toChairs = chairsPickPipeline0(5332, dealId);
        theManagerEdits(dealId, Map.of("STAGE_ID", "C2:EXECUTING"));  // a stage change, not a move back
        crmClock.advance(Duration.ofSeconds(2));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> writer.write(List.of(toChairs), recordingThenKilled))
                .isInstanceOf(Killed.class);

        executedAgainAfterTheRestart(toChairs);

        assertThat(intents.get(0).getMoveIntent().getCrmTime()).as("the CRM's time, not DealBridge's")
                .isAfterOrEqualTo(crmClock.instant()).isBefore(crmClock.instant().plusSeconds(1));
        assertThat(crm.crm().deal(dealId)).containsEntry("CATEGORY_ID", "0").containsEntry("STAGE_ID", "NEW");
    }

    @Test
    void aMoveFoundAppliedIsRecordedAsDealBridgesAndNothingIsWrittenTwice() throws Exception {
        long dealId = dealBridgesDeal(5333, 2, "C2:NEW", Map.of());
        DealCommand toChairs = chairsPickPipeline0(5333, dealId);
        DealWrite lost = writer.write(List.of(toChairs), recording).get(0);  // applied, rows too; its link is lost
        // the manager changes the stage inside pipeline 0: MOVED_BY_ID alone would make the move read as the manager's
        theManagerEdits(dealId, Map.of("STAGE_ID", "EXECUTING"));
        crm.calls().clear();

        DealWrite replay = executedAgainAfterTheRestart(toChairs);

        assertThat(crm.calls().count(Portal.CRM, "crm.item.update")).isZero();
        assertThat(crm.calls().count(Portal.CRM, "crm.deal.update")).isZero();
        assertThat(crm.calls().count(Portal.CRM, "crm.deal.productrows.set")).isZero();
        assertThat(crm.crm().deal(dealId)).containsEntry("CATEGORY_ID", "0").containsEntry("STAGE_ID", "EXECUTING");
        assertThat(replay.link().getDealFields()).containsEntry(Ownership.PIPELINE, "0");
        // the revisions: the intent counts on from the link judged on, the link after the move from the intent, so the
        // intent never reads as newer than either (its updatedAt is the later of the first two)
        SyncLink intent = intents.get(0);
        assertThat(intent.getRevision()).isEqualTo(toChairs.getDecidedOn().getRevision() + 2);
        assertThat(lost.link().getRevision()).isEqualTo(intent.getRevision() + 2);
        assertThat(lost.link().getUpdatedAt()).isBeforeOrEqualTo(intent.getUpdatedAt());
        assertThat(LinkRevision.isNewer(lost.link(), intent)).isTrue();
        assertThat(LinkRevision.isNewer(replay.link(), intent)).isTrue();
        assertThat(lost.link().getMoveIntent()).isNull();

        // the move is DealBridge's: the next basket change moves the deal back
        writeOne(update(5333, dealId, replay.link()).basket(SOFA_AND_POUF, 2).pipeline(2).stage("C2:NEW").build());

        assertThat(crm.crm().deal(dealId)).containsEntry("CATEGORY_ID", "2");
    }

    @Test
    void theSecondMoveOfACrashedPollKeepsItsIntentThroughTheFirstMovesReplay() throws Exception {
        // one poll moves the deal to 0 and, in its next wave, back to 2; the process dies before the poll's commit, so
        // deal-links has the second move's intent; the manager moves the deal to 0. The first command's replay writes a
        // link on that intent: it must carry the second's intent on, or the second's replay moves over the manager
        long dealId = dealBridgesDeal(5336, 2, "C2:NEW", Map.of());
        DealCommand toChairs = chairsPickPipeline0(5336, dealId);
        DealCommand back = DealCommand.newBuilder(update(5336, dealId, toChairs.getDecidedOn()).basket(SOFA_AND_POUF, 2).pipeline(2)
                .stage("C2:NEW").build()).setCommandId("u-5336-back").build();
        DealWrite first = writer.write(List.of(toChairs), recording).get(0);
        writer.write(List.of(FreshestLink.apply(back, first.link())), recording);  // then the process dies
        assertThat(crm.crm().deal(dealId)).containsEntry("CATEGORY_ID", "2");
        theManagerEdits(dealId, Map.of("CATEGORY_ID", 0, "STAGE_ID", "NEW"));
        crm.calls().clear();

        DealWrite firstAgain = executedAgainAfterTheRestart(toChairs);
        DealWrite backAgain = writer.write(List.of(FreshestLink.apply(back, firstAgain.link())), recording).get(0);

        assertThat(firstAgain.link().getMoveIntent()).isNotNull();
        assertThat(crm.calls().count(Portal.CRM, "crm.item.update")).isZero();
        assertThat(crm.crm().deal(dealId)).containsEntry("CATEGORY_ID", "0");
        assertThat(backAgain.reason()).contains("pipeline 0 (DealBridge's choice was 2)");
        assertThat(backAgain.link().getMoveIntent()).as("its own intent, judged").isNull();
    }

    @Test
    void anotherCommandsIntentLeftByADeadLetteredMoveChangesNothingOfHowTheNextIsJudged() throws Exception {
        // the move to pipeline 4 is refused for good after its intent is recorded; the manager then moves the deal to 0
        long dealId = dealBridgesDeal(5335, 2, "C2:NEW", Map.of());
        theDealHasTheSofaRow(dealId);
        SyncLink sofa = agreed(5335, dealId, 2, "C2:NEW", "N", valuesOf(5335, "1500.00", 2), SOFA);
        DealCommand refused = DealCommand.newBuilder(update(5335, dealId, sofa).basket(CHAIRS, 4).pipeline(4).stage("C4:NEW").build())
                .setStageByPipeline(Map.of("0", "NEW", "2", "C2:NEW", "4", "C4:NEW")).build();
        assertThat(writer.write(List.of(refused), recording).get(0).outcome()).isEqualTo(Outcome.DEAD_LETTERED);
        theManagerEdits(dealId, Map.of("CATEGORY_ID", 0, "STAGE_ID", "NEW"));

        DealCommand next = DealCommand.newBuilder(update(5335, dealId, sofa).basket(SOFA_AND_POUF, 2).pipeline(2).stage("C2:NEW")
                .build()).setCommandId("u-5335-next").build();
        DealWrite result = writer.write(List.of(FreshestLink.apply(next, intents.get(0))), recording).get(0);

        assertThat(crm.crm().deal(dealId)).as("the manager's pipeline stands, as the link alone says")
                .containsEntry("CATEGORY_ID", "0");
        assertThat(result.reason()).contains("pipeline 0 (DealBridge's choice was 2)");
        assertThat(result.link().getRevision()).isEqualTo(intents.get(0).getRevision() + 2);
    }

    /** One poll's commands of one order as the connector writes them: wave after wave, each on the link the last left. */
    private DealWrite writePoll(DealCommand... commands) throws InterruptedException {
        return writePoll(null, commands);
    }

    /**
     * One poll's commands of one order as a connector writes them that knows {@code own} as the order's link (read back
     * from deal-links when it started): wave after wave, each on the link the last left.
     */
    private DealWrite writePoll(SyncLink own, DealCommand... commands) throws InterruptedException {
        CommandsPerOrder poll = new CommandsPerOrder();
        for (DealCommand command : commands) {
            poll.add(command.getSiteId() + ":" + command.getOrderId(), command, own);
        }
        DealWrite last = null;
        for (List<CommandsPerOrder.Pending> wave : poll.waves()) {
            last = writeOne(FreshestLink.apply(wave.get(0).command(), own));
            own = last.link() != null ? last.link() : own;
        }
        return last;
    }

    /** A CREATE of order {@code orderId} for this basket, decided before the link of the deal's add came back. */
    private static DealCommand createFor(long orderId, String commandId, List<ProductRow> basket, String amount) {
        DealCommand create = create(orderId, Map.of("OPPORTUNITY", amount), null, false);
        return DealCommand.newBuilder(create).setCommandId(commandId).setProductRows(basket).setOrderRowsDigest(digest(basket))
                .build();
    }

    @Test
    void aCreateReplayedAfterACrashAsAnUpdateOfTheDealIsNotFoldedIntoTheNextCreateSoTheLatestBasketIsWritten() throws Exception {
        // OwnershipPropertyTest seed 11, history 318: the deal's add is linked; two more CREATEs of the order were decided
        // before that link reached the projector (chairs, then sofa and pouf). The connector runs the first alone, as
        // the UPDATE of the deal it knows (FreshestLink): amount and rows written, then it dies before its commit. A
        // manager edits the title. The restarted connector polls both again: folded into the last CREATE, they were
        // judged on the add's link, where the chairs' amount and rows read as a person's, and the sofa and pouf were
        // never written
        DealWrite added = writeOne(createFor(5340, "c-5340-sofa", SOFA, "1500.00"));
        long dealId = added.link().getDealId();
        DealCommand chairs = createFor(5340, "c-5340-chairs", CHAIRS, "1400.00");
        DealCommand sofaAndPouf = createFor(5340, "c-5340-sofa-and-pouf", SOFA_AND_POUF, "1800.00");
        writeOne(FreshestLink.apply(chairs, added.link()));  // applied; its link is lost with the process
        assertThat(crm.crm().deal(dealId)).containsEntry("OPPORTUNITY", "1400.00");
        theManagerEdits(dealId, Map.of("TITLE", "Call first"));

        DealWrite result = writePoll(added.link(), chairs, sofaAndPouf);

        assertThat(crm.crm().deal(dealId)).containsEntry("OPPORTUNITY", "1800.00").containsEntry("TITLE", "Call first");
        assertThat(crm.crm().dealProductRows(dealId)).extracting(r -> r.get("PRODUCT_NAME")).containsExactly("Sofa", "Pouf");
        assertThat(result.outcome()).isEqualTo(Outcome.UPDATED);
        assertThat(result.reason()).doesNotContain("product rows (a person changed them)");
    }

    @Test
    void aCreateWhoseAddWasAppliedButWhoseLinkWasLostIsNotFoldedIntoTheNextCreateSoTheLatestBasketIsWritten() throws Exception {
        // the add of the chairs' CREATE went through and the process died before its link was committed; a manager
        // edited the title; a second CREATE (sofa and pouf) was decided before any link. Folded into it, the found deal
        // was judged as if its add had carried the sofa's values, and the chairs' amount and rows stood as agreed
        DealCommand chairs = createFor(5342, "c-5342-chairs", CHAIRS, "1400.00");
        long dealId = writeOne(chairs).link().getDealId();  // applied; its link is lost with the process
        theManagerEdits(dealId, Map.of("TITLE", "Call first"));
        DealCommand sofaAndPouf = createFor(5342, "c-5342-sofa-and-pouf", SOFA_AND_POUF, "1800.00");

        writePoll(chairs, sofaAndPouf);

        assertThat(crm.crm().dealsByOrigin("dealbridge:s1", "5342")).hasSize(1);
        assertThat(crm.crm().deal(dealId)).containsEntry("OPPORTUNITY", "1800.00").containsEntry("TITLE", "Call first");
        assertThat(crm.crm().dealProductRows(dealId)).extracting(r -> r.get("PRODUCT_NAME")).containsExactly("Sofa", "Pouf");
    }

    @Test
    void aPersonsPipelineWhereDealBridgeWroteAStageWhoseLinkWasLostStaysThePersons() throws Exception {
        // OwnershipPropertyTest seed 13, history 258: the manager moves the deal to pipeline 0; one poll's first wave
        // records the deal there (the manager's pipeline stands), its second writes the order's P as EXECUTING in 0,
        // and the process dies before its commit. Replayed on the committed link (pipeline 2), the deal reads as moved
        // last by DealBridge's user: taken for a move of DealBridge's whose link was lost, the manager's pipeline was
        // left when the basket changed. DealBridge commits a move's intent before every move: none, no move of its own
        long dealId = dealBridgesDeal(5341, 2, "C2:NEW", Map.of());
        theDealHasTheSofaRow(dealId);
        SyncLink sofa = agreed(5341, dealId, 2, "C2:NEW", "N", valuesOf(5341, "1500.00", 2), SOFA);
        theManagerEdits(dealId, Map.of("CATEGORY_ID", 0, "STAGE_ID", "NEW"));
        SyncLink seenInZero = SyncLink.newBuilder(sofa).setCategoryId(0).setStageId("NEW").setRevision(sofa.getRevision() + 2).build();
        writeOne(update(5341, dealId, seenInZero).status("P").build());  // applied; its link is lost with the process
        assertThat(crm.crm().deal(dealId)).containsEntry("CATEGORY_ID", "0").containsEntry("STAGE_ID", "EXECUTING");

        DealWrite result = writeOne(update(5341, dealId, sofa).status("P").basket(SOFA_AND_POUF, 2).build());

        assertThat(crm.crm().deal(dealId)).as("the manager's pipeline stands").containsEntry("CATEGORY_ID", "0");
        assertThat(result.reason()).contains("pipeline 0 (DealBridge's choice was 2)");
    }

    @Test
    void aStageDealBridgeWroteInAWriteWhoseLinkWasLostIsNotTheDealsLaterChange() throws Exception {
        // the move to pipeline 0 at EXECUTING is applied and its link lost; F, decided on the same link, is judged on it
        // (the move's replay did not run first: it failed, or was folded with F as before the waves): the deal's
        // EXECUTING differs from the link's stage, but DealBridge set it, so the order's F wins
        long dealId = dealBridgesDeal(5313, 2, "C2:EXECUTING", Map.of());
        Instant decided = Instant.now().minus(Duration.ofMinutes(1));
        SyncLink sofa = agreed(5313, dealId, 2, "C2:EXECUTING", "P", valuesOf(5313, "1500.00", 2), SOFA);
        DealCommand toChairs = update(5313, dealId, sofa).status("P").basket(CHAIRS, 0).pipeline(0).stage("EXECUTING").at(decided).build();
        writeOne(toChairs);  // applied; its link is lost with the process

        DealWrite result = writeOne(update(5313, dealId, sofa).status("F").basket(CHAIRS, 0).pipeline(0).stage("WON").at(decided).build());

        assertThat(crm.crm().deal(dealId)).containsEntry("CATEGORY_ID", "0").containsEntry("STAGE_ID", "WON");
        assertThat(result.outcome()).isEqualTo(Outcome.UPDATED);
    }

    /** The link of DealBridge's own write of {@code stage}: its {@code dealFields} record the stage it wrote. */
    private static SyncLink afterOurStageWrite(long orderId, long dealId, String stage, String status) {
        SyncLink link = agreed(orderId, dealId, 0, stage, status);
        link.getDealFields().put(Ownership.STAGE, stage);
        return link;
    }

    @Test
    void aManagersMoveBackToTheStageDealBridgeWroteOverALaterWriteTheLinkDoesNotShowIsNotWrittenOver() throws Exception {
        // CrashLoopTest seed 37034695896898, order 87: the link records DealBridge's write of EXECUTING (P); the store
        // connector then wrote WON (its link not here yet) and the manager moved the deal back to EXECUTING. F, decided
        // on the EXECUTING link, read "no move" and wrote WON over the manager. A person's move to the stage DealBridge
        // last wrote is a move since that write: both sides moved, so the deal stands and the store connector decides
        long dealId = dealBridgesDeal(5320, 0, "EXECUTING", Map.of());
        SyncLink paid = afterOurStageWrite(5320, dealId, "EXECUTING", "P");
        crm.crm().updateDealAsHuman(dealId, Map.of("STAGE_ID", "WON", "byUserId", DEALBRIDGE));  // the store connector's
        theManagerEdits(dealId, Map.of("STAGE_ID", "EXECUTING"));

        DealWrite result = writeOne(update(5320, dealId, paid).status("F").stage("WON").build());

        assertThat(crm.crm().deal(dealId)).containsEntry("STAGE_ID", "EXECUTING");
        assertThat(result.reconcile()).as("the store connector decides the pair").isTrue();
        assertThat(result.outcome()).isEqualTo(Outcome.CONFLICT_RESOLVED);
    }

    /** DealBridge's deal at WON for F (link {@code won}, order save 5) and the store connector's link after it followed. */
    private record MovedBack(long dealId, SyncLink won, SyncLink followed) {
    }

    /**
     * DealBridge wrote WON for the order's F (save 5); the manager moved the deal back to NEW; the store connector
     * brought the order to N by its write, save 7 (its link NEW / N, one revision on).
     */
    private MovedBack theStoreConnectorFollowedAManagersMoveBack(long orderId) {
        long dealId = dealBridgesDeal(orderId, 0, "WON", Map.of());
        SyncLink won = SyncLink.newBuilder(afterOurStageWrite(orderId, dealId, "WON", "F")).setOrderVersion(5L).build();
        theManagerEdits(dealId, Map.of("STAGE_ID", "NEW"));
        return new MovedBack(dealId, won, SyncLink.newBuilder(won).setStageId("NEW").setStatusId("N").setOrderVersion(7L)
                .setRevision(LinkRevision.after(won)).build());
    }

    @Test
    void aCommandOfAnOrderSaveTheLinkHasSeenNeverWritesItsOlderStatusOverAManagersMoveBack() throws Exception {
        // CrashLoopBenchmark seed 61255093050292, orders 69 and 2634: DealBridge wrote WON for F (order save 5); the
        // manager moved the deal back to NEW; the store connector brought the order to N (its write was save 7, its
        // link NEW / N). A command decided on F (save 5) before the move then read "the order moved since NEW / N, the
        // deal did not" and wrote WON over the manager; the store connector then took that for the deal's later change
        MovedBack pair = theStoreConnectorFollowedAManagersMoveBack(5323);

        DealWrite result = writeOne(FreshestLink.apply(update(5323, pair.dealId(), pair.won()).status("F").stage("WON").orderSave(5)
                .build(), pair.followed()));

        assertThat(crm.crm().deal(pair.dealId())).containsEntry("STAGE_ID", "NEW");
        assertThat(result.link().getStatusId()).as("the newer agreement stays").isEqualTo("N");
        assertThat(result.link().getOrderVersion()).isEqualTo(7L);
        assertThat(result.reason()).contains("older than what the pair last agreed on");
    }

    @Test
    void aStatusAgreementWrittenOnTheLinkADealWriteWasBasedOnNeverHidesWhatThatWriteWrote() throws Exception {
        // CrashLoopBenchmark seed 67881710880229, order 5553: the store connector, its view of deal-links behind, wrote
        // its agreement on the link the CRM connector's last write was based on. Both counted one on from it, so the
        // agreement, the later, stood, and it still said what DealBridge had written before: its amount read as a
        // person's (here: the order's next price is never written), its pipeline moved back over a manager's move
        long dealId = dealBridgesDeal(5340, 0, "EXECUTING", Map.of());
        SyncLink paid = agreed(5340, dealId, 0, "EXECUTING", "P");
        DealWrite priced = writeOne(update(5340, dealId, paid).status("P").changed("OPPORTUNITY", "2000.00").build());
        SyncLink agreement = SyncLink.newBuilder(paid).setStageId("WON").setStatusId("F").setRevision(LinkRevision.after(paid))
                .setUpdatedAt(priced.link().getUpdatedAt().plusMillis(1)).build();
        // the connector's view of the two (CrmConnector.committedLink), and the projector's, which took the later record
        SyncLink view = LinkRevision.isNewer(agreement, priced.link()) ? agreement : priced.link();

        writeOne(FreshestLink.apply(update(5340, dealId, agreement).status("F").changed("OPPORTUNITY", "3000.00").build(), view));

        assertThat(crm.crm().deal(dealId).get("OPPORTUNITY")).asString().startsWith("3000");
    }

    @Test
    void aShopsLaterSaveAfterTheStoreConnectorsWriteStillMovesTheDeal() throws Exception {
        // the control: the same pair, but the shop set F again after the store connector's N (save 8): written at once
        MovedBack pair = theStoreConnectorFollowedAManagersMoveBack(5324);

        DealWrite result = writeOne(update(5324, pair.dealId(), pair.followed()).status("F").stage("WON").orderSave(8).build());

        assertThat(crm.crm().deal(pair.dealId())).containsEntry("STAGE_ID", "WON");
        assertThat(result.link().getStatusId()).isEqualTo("F");
        assertThat(result.link().getOrderVersion()).isEqualTo(8L);
    }

    @Test
    void theStageDealBridgeWroteLastGoesToTheOrdersNextStatusAtOnce() throws Exception {
        // the control of the test above: the same link and command, the deal last moved by DealBridge
        long dealId = dealBridgesDeal(5321, 0, "EXECUTING", Map.of());
        SyncLink paid = afterOurStageWrite(5321, dealId, "EXECUTING", "P");

        DealWrite result = writeOne(update(5321, dealId, paid).status("F").stage("WON").build());

        assertThat(crm.crm().deal(dealId)).containsEntry("STAGE_ID", "WON");
        assertThat(result.reconcile()).isFalse();
        assertThat(result.outcome()).isEqualTo(Outcome.UPDATED);
        assertThat(result.link().getDealFields()).as("the link records the stage written").containsEntry(Ownership.STAGE, "WON");
    }

    @Test
    void aStageAPersonSetThatTheLinkAgreedOnGoesToTheOrdersNextStatusAtOnce() throws Exception {
        // the other control: the manager's EXECUTING was agreed on (the order followed it); DealBridge never wrote it
        long dealId = dealBridgesDeal(5322, 0, "NEW", Map.of());
        theManagerEdits(dealId, Map.of("STAGE_ID", "EXECUTING"));
        SyncLink followed = agreed(5322, dealId, 0, "EXECUTING", "P");

        DealWrite result = writeOne(update(5322, dealId, followed).status("F").stage("WON").build());

        assertThat(crm.crm().deal(dealId)).containsEntry("STAGE_ID", "WON");
        assertThat(result.reconcile()).isFalse();
    }

    @Test
    void aManagersMoveToWhereTheBasketNowPointsStaysTheManagers() throws Exception {
        // the control case of the two above: the same deal in pipeline 0, but a person put it there
        long dealId = dealBridgesDeal(5312, 2, "C2:EXECUTING", Map.of());
        theManagerEdits(dealId, Map.of("CATEGORY_ID", 0, "STAGE_ID", "EXECUTING"));
        SyncLink sofa = agreed(5312, dealId, 2, "C2:EXECUTING", "P", valuesOf(5312, "1500.00", 2), SOFA);
        DealWrite toChairs = writeOne(update(5312, dealId, sofa).status("P").basket(CHAIRS, 0).pipeline(0).stage("EXECUTING").build());

        DealWrite result = writeOne(FreshestLink.apply(update(5312, dealId, sofa).status("P").basket(SOFA_AND_POUF, 2).build(),
                toChairs.link()));

        assertThat(crm.crm().deal(dealId)).containsEntry("CATEGORY_ID", "0");
        assertThat(crm.calls().count(Portal.CRM, "crm.item.update")).isZero();
        assertThat(result.reason()).contains("pipeline 0");
    }

    @Test
    void aStatusWithNoStageInTheManagersPipelineLeavesTheStageAloneAndSaysSo() throws Exception {
        long dealId = dealTheManagerMovedToPipeline2(5306);

        // F is mapped in pipeline 0 (WON) only
        DealWrite result = writeOne(update(5306, dealId, agreed(5306, dealId, 0, "NEW", "N")).status("F").stage("WON")
                .at(Instant.now().plus(Duration.ofHours(1))).build());

        assertThat(crm.crm().deal(dealId)).containsEntry("CATEGORY_ID", "2").containsEntry("STAGE_ID", "C2:NEW");
        assertThat(crm.calls().count(Portal.CRM, "crm.deal.update")).isZero();
        assertThat(crm.calls().count(Portal.CRM, "crm.item.update")).isZero();
        assertThat(result.reason()).contains("status F has no stage in pipeline 2", "C2:NEW", "left as it is");
        assertThat(result.outcome()).isNotEqualTo(Outcome.UPDATED).isNotEqualTo(Outcome.DEAD_LETTERED);
    }

    @Test
    void emptyOrderRowsNeverReplaceADealsRows() throws Exception {
        long dealId = dealBridgesDeal(5307, 2, "C2:NEW", Map.of());
        theDealHasTheSofaRow(dealId);
        crm.calls().clear();

        // the order's basket was emptied in the store
        DealWrite result = writeOne(update(5307, dealId, agreed(5307, dealId, 2, "C2:NEW", "N")).basket(List.of(), 2).build());

        assertThat(crm.calls().count(Portal.CRM, "crm.deal.productrows.set")).isZero();
        assertThat(crm.crm().dealProductRows(dealId)).hasSize(1);
        assertThat(result.outcome()).isEqualTo(Outcome.MANAGER_VALUE_KEPT);
        assertThat(result.reason()).contains("never replaced by none");
    }

    /** The deal's rows are the order's {@link #SOFA} (a person set them here: the digest is all that counts). */
    private void theDealHasTheSofaRow(long dealId) {
        crm.crm().setProductRowsAsHuman(dealId, List.of(Map.of("PRODUCT_ID", 77, "PRODUCT_NAME", "Sofa", "PRICE", "1500.00",
                "QUANTITY", "1")));
    }

    @Test
    void changedOrderRowsReplaceTheRowsDealBridgeSet() throws Exception {
        long dealId = dealBridgesDeal(5308, 2, "C2:NEW", Map.of());
        theDealHasTheSofaRow(dealId);

        DealWrite result = writeOne(update(5308, dealId, agreed(5308, dealId, 2, "C2:NEW", "N")).basket(SOFA_AND_POUF, 2).build());

        assertThat(result.outcome()).isEqualTo(Outcome.UPDATED);
        assertThat(crm.crm().dealProductRows(dealId)).hasSize(2);
        assertThat(result.link().getDealRowsDigest()).isEqualTo(digest(SOFA_AND_POUF));
    }

    /** A link as DealBridge 0.1 wrote it: the rows digests inside dealFields/orderValues under "@PRODUCT_ROWS". */
    private static SyncLink asWrittenBy01(SyncLink link) {
        Map<String, String> dealFields = new LinkedHashMap<>(link.getDealFields());
        dealFields.put("@PRODUCT_ROWS", link.getDealRowsDigest());
        Map<String, String> orderValues = new LinkedHashMap<>(link.getOrderValues());
        orderValues.put("@PRODUCT_ROWS", link.getOrderRowsDigest());
        return SyncLink.newBuilder(link).setDealFields(dealFields).setOrderValues(orderValues)
                .setDealRowsDigest(null).setOrderRowsDigest(null).build();
    }

    @Test
    void aLinkWrittenBy01IsUnderstoodAndRecordedInTheNewForm() throws Exception {
        long dealId = dealBridgesDeal(5309, 2, "C2:NEW", Map.of());
        theDealHasTheSofaRow(dealId);

        // the deal still has the rows the 0.1 link says DealBridge set, so the order's new basket replaces them
        DealWrite result = writeOne(update(5309, dealId, asWrittenBy01(agreed(5309, dealId, 2, "C2:NEW", "N")))
                .basket(SOFA_AND_POUF, 2).build());

        assertThat(result.outcome()).isEqualTo(Outcome.UPDATED);
        assertThat(crm.crm().dealProductRows(dealId)).hasSize(2);
        assertThat(result.link().getDealRowsDigest()).isEqualTo(digest(SOFA_AND_POUF));
        assertThat(result.link().getOrderRowsDigest()).isEqualTo(digest(SOFA_AND_POUF));
        assertThat(result.link().getDealFields()).doesNotContainKey("@PRODUCT_ROWS");
    }

    @Test
    void aLinkWrittenBy01WithTheSameBasketMovesNoDealToTheNewMappingsPipeline() throws Exception {
        long dealId = dealBridgesDeal(5310, 2, "C2:NEW", Map.of());
        crm.calls().clear();

        // the basket is the one the 0.1 link agreed; a new mapping version picks pipeline 0 for it
        DealWrite result = writeOne(update(5310, dealId, asWrittenBy01(agreed(5310, dealId, 2, "C2:NEW", "N")))
                .basket(SOFA, 0).build());

        assertThat(crm.calls().count(Portal.CRM, "crm.item.update")).isZero();
        assertThat(crm.calls().count(Portal.CRM, "crm.deal.productrows.set")).isZero();
        assertThat(crm.crm().deal(dealId)).containsEntry("CATEGORY_ID", "2");
        assertThat(result.outcome()).isEqualTo(Outcome.UNCHANGED);
    }

    // --- an order made from a deal: the deal is the source of every field but its stage ---

    /** What the topology sends for an order made from a deal before its link arrives: no fields, no rows. */
    private static DealCommand adoption(long orderId, long dealId, String status, Instant orderAt) {
        return update(orderId, dealId, OrderFromDeal.adoptedLink("s1", orderId, dealId)).status(status)
                .orderValue("TITLE", "Order #A-" + orderId).orderValue("OPPORTUNITY", "1500.00").at(orderAt).build();
    }

    @Test
    void aStatusSetInTheStoreBeforeTheLinkArrivedIsLeftToTheStoreConnectorAndTheHandMadeDealsFieldsStand() throws Exception {
        // changed on purpose (issue 12): the hand-made deal keeps its own amount; before, the order's 1500.00 was written
        long dealId = crm.crm().addDealAsHuman(Map.of("TITLE", "Phone order", "CATEGORY_ID", 2, "STAGE_ID", "C2:NEW",
                "OPPORTUNITY", "900", "IS_MANUAL_OPPORTUNITY", "Y", "ASSIGNED_BY_ID", MANAGER));

        DealWrite result = writeOne(adoption(5201, dealId, "P", Instant.now().plus(Duration.ofHours(1))));

        // nothing agreed yet, so both count as changed: the stage is the store connector's to decide (it reads both
        // portals' clocks; the order's dateUpdate against DATE_MODIFY would compare two servers' clocks), and only the stage
        assertThat(crm.crm().deal(dealId)).containsEntry("STAGE_ID", "C2:NEW").containsEntry("CATEGORY_ID", "2")
                .containsEntry("OPPORTUNITY", "900.00").containsEntry("TITLE", "Phone order");
        assertThat(result.reconcile()).isTrue();
        assertThat(result.link().getStatusId()).isEqualTo("P");
        assertThat(result.link().getOrigin()).isEqualTo(LinkOrigin.DEAL);
    }

    @Test
    void anOrderMadeFromADealLeavesTheStageOfADealAManagerMovedLater() throws Exception {
        long dealId = crm.crm().addDealAsHuman(Map.of("TITLE", "Phone order", "CATEGORY_ID", 2, "STAGE_ID", "C2:PREPARATION",
                "OPPORTUNITY", "900", "IS_MANUAL_OPPORTUNITY", "Y", "ASSIGNED_BY_ID", MANAGER));

        DealWrite result = writeOne(adoption(5202, dealId, "N", Instant.now().minus(Duration.ofHours(1))));

        // changed on purpose (issue 12): the deal's amount stands too (before, the order's 1500.00 was written)
        assertThat(crm.crm().deal(dealId)).containsEntry("STAGE_ID", "C2:PREPARATION").containsEntry("OPPORTUNITY", "900.00");
        assertThat(result.reason()).contains("C2:PREPARATION", "stands");
    }

    @Test
    void aHandMadeDealGetsOnlyItsStageWrittenEvenWhenTheCommandCarriesTitleAmountAndRows() throws Exception {
        long dealId = crm.crm().addDealAsHuman(Map.of("TITLE", "Phone order", "CATEGORY_ID", 2, "STAGE_ID", "C2:NEW",
                "OPPORTUNITY", "900", "IS_MANUAL_OPPORTUNITY", "Y", "ASSIGNED_BY_ID", MANAGER));
        SyncLink handMade = SyncLink.newBuilder(agreed(5203, dealId, 2, "C2:NEW", "N")).setOrigin(LinkOrigin.DEAL).build();
        crm.calls().clear();

        DealWrite result = writeOne(update(5203, dealId, handMade).status("P").stage("C2:EXECUTING")
                .changed("TITLE", "Order #A-5203").changed("OPPORTUNITY", "1800.00").basket(SOFA, 2).build());

        assertThat(crm.crm().deal(dealId)).containsEntry("STAGE_ID", "C2:EXECUTING").containsEntry("TITLE", "Phone order")
                .containsEntry("OPPORTUNITY", "900.00");
        assertThat(crm.calls().count(Portal.CRM, "crm.deal.productrows.set")).isZero();
        assertThat(crm.crm().dealProductRows(dealId)).isEmpty();
        assertThat(crm.calls().count(Portal.CRM, "crm.deal.update", call -> call.param("fields", "TITLE") != null
                || call.param("fields", "OPPORTUNITY") != null)).isZero();
        assertThat(result.outcome()).isEqualTo(Outcome.UPDATED);
        assertThat(result.link().getOrigin()).isEqualTo(LinkOrigin.DEAL);
    }
}
