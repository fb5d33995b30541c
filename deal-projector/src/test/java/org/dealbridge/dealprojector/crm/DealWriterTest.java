package org.dealbridge.dealprojector.crm;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.bitrix.PortalRateLimiter;
import org.dealbridge.dealprojector.DealProjectorConfig;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.emulator.Fault;
import org.dealbridge.emulator.Portal;
import org.dealbridge.schemas.Buyer;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.DealCommandKind;
import org.dealbridge.schemas.Outcome;
import org.dealbridge.schemas.ProductRow;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The connector's CRM side against the CRM emulator over HTTP: each test is one rule of how deals are written. */
class DealWriterTest {

    private BitrixEmulator crm;
    private BitrixClient client;
    private DealWriter writer;
    private final List<Duration> waits = new java.util.ArrayList<>();

    @BeforeEach
    void start() {
        crm = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled());
        crm.crm().addPipeline(2, "Sofas");
        crm.crm().addUser(7, "Contact", "Owner", "owner@example.com", true);
        crm.crm().addUser(9, "Sofa", "Manager", "sofas@example.com", true);
        crm.crm().addDealUserField("UF_CRM_PAY_SYSTEM", "string");
        client = BitrixClient.builder(crm.crmWebhookUrl()).portal("crm").meterRegistry(new SimpleMeterRegistry())
                .rateLimiter(new PortalRateLimiter("crm", PortalRateLimiter.Options.of(1000, 1000).withInitialFill(0)))
                .callTimeout(Duration.ofSeconds(2)).retry(2, Duration.ofMillis(10), Duration.ofMillis(50)).build();
        DealProjectorConfig config = new DealProjectorConfig(Map.of(DealProjectorConfig.MAX_ATTEMPTS, "3"));
        writer = new DealWriter(client, config, Clock.systemUTC(), waits::add);
    }

    @AfterEach
    void stop() {
        client.close();
        crm.close();
    }

    static DealCommand create(long orderId, Map<String, String> extra, Buyer buyer, boolean contactOwner) {
        Map<String, String> fields = new HashMap<>(Map.of("TITLE", "Order #" + orderId, "CATEGORY_ID", "2", "STAGE_ID", "C2:NEW",
                "ASSIGNED_BY_ID", "9", "OPPORTUNITY", "1500.00", "CURRENCY_ID", "RUB", "ORIGINATOR_ID", "dealbridge:s1",
                "ORIGIN_ID", Long.toString(orderId), "UF_CRM_PAY_SYSTEM", "4", "IS_MANUAL_OPPORTUNITY", "Y"));
        fields.putAll(extra);
        return DealCommand.newBuilder().setCommandId("c-" + orderId).setKind(DealCommandKind.CREATE).setSiteId("s1")
                .setOrderId(orderId).setOriginatorId("dealbridge:s1").setFields(fields)
                .setExpected(Map.of("@STATUS_ID", "N"))
                .setProductRows(List.of(ProductRow.newBuilder().setProductId(77L).setName("Sofa").setPrice("1500.00").setQuantity("1").build()))
                .setBuyer(buyer).setResolveResponsibleFromContact(contactOwner).setMappingVersion(1)
                .setSourceTime(Instant.now()).build();
    }

    static DealCommand update(long orderId, long dealId, Map<String, String> fields, Map<String, String> expected) {
        Map<String, String> withStatus = new HashMap<>(expected);
        withStatus.put("@STATUS_ID", "P");
        return DealCommand.newBuilder().setCommandId("u-" + orderId).setKind(DealCommandKind.UPDATE).setSiteId("s1")
                .setOrderId(orderId).setDealId(dealId).setOriginatorId("dealbridge:s1").setFields(fields)
                .setExpected(withStatus).setMappingVersion(1).setSourceTime(Instant.now()).build();
    }

    static Buyer buyer(String email, String phone) {
        return Buyer.newBuilder().setName("Anna").setEmail(email).setPhone(phone).build();
    }

    private DealWrite writeOne(DealCommand command) throws InterruptedException {
        return writer.write(List.of(command)).get(0);
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
        assertThat(result.link().getDealFields()).containsEntry("UF_CRM_PAY_SYSTEM", "4").containsKey("@PRODUCT_ROWS")
                .doesNotContainKey("@STATUS_ID");
        assertThat(crm.crm().dealProductRows(dealId)).hasSize(1);
        List<Long> contacts = crm.crm().dealContactIds(dealId);
        assertThat(contacts).hasSize(1);
        assertThat(crm.crm().contact(contacts.get(0)).toString()).contains("anna@example.com");
    }

    @Test
    void aCreateForAnOrderThatAlreadyHasADealUpdatesThatDealInsteadOfAddingOne() throws Exception {
        long existing = crm.crm().addDealAsHuman(Map.of("TITLE", "Order #5002", "CATEGORY_ID", 2, "STAGE_ID", "C2:NEW",
                "ORIGINATOR_ID", "dealbridge:s1", "ORIGIN_ID", "5002", "OPPORTUNITY", "1000"));
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
    void anUpdateWritesOnlyItsFieldsWhenTheDealStillHasTheExpectedValues() throws Exception {
        long dealId = crm.crm().addDealAsHuman(Map.of("TITLE", "Order #5006", "CATEGORY_ID", 0, "STAGE_ID", "NEW",
                "ORIGINATOR_ID", "dealbridge:s1", "ORIGIN_ID", "5006"));

        DealWrite result = writeOne(update(5006, dealId, Map.of("STAGE_ID", "EXECUTING"), Map.of("STAGE_ID", "NEW")));

        assertThat(result.outcome()).isEqualTo(Outcome.UPDATED);
        assertThat(crm.crm().deal(dealId)).containsEntry("STAGE_ID", "EXECUTING").containsEntry("TITLE", "Order #5006");
        assertThat(result.link().getStageId()).isEqualTo("EXECUTING");
        assertThat(result.link().getStatusId()).isEqualTo("P");
    }

    @Test
    void noBlindOverwriteAnUpdateWhoseTargetChangedIsDroppedAndTheLinkRefreshed() throws Exception {
        long dealId = crm.crm().addDealAsHuman(Map.of("TITLE", "Order #5007", "CATEGORY_ID", 0, "STAGE_ID", "NEW",
                "ORIGINATOR_ID", "dealbridge:s1", "ORIGIN_ID", "5007"));
        crm.crm().updateDealAsHuman(dealId, Map.of("STAGE_ID", "WON"));  // a manager closed it meanwhile
        crm.calls().clear();

        // the order changed before the manager did (its event is older than the deal's DATE_MODIFY)
        DealWrite result = writeOne(DealCommand.newBuilder(update(5007, dealId, Map.of("STAGE_ID", "EXECUTING"),
                Map.of("STAGE_ID", "NEW"))).setSourceTime(Instant.now().minus(Duration.ofMinutes(5))).build());

        assertThat(result.outcome()).isEqualTo(Outcome.CONFLICT_RESOLVED);
        assertThat(result.reason()).contains("stage WON", "stands");
        assertThat(crm.crm().deal(dealId)).containsEntry("STAGE_ID", "WON");
        assertThat(crm.calls().count(Portal.CRM, "crm.deal.update")).isZero();
        assertThat(result.link().getStageId()).isEqualTo("WON");
    }

    @Test
    void aPipelineChangeOfAnExistingDealGoesThroughCrmItemUpdate() throws Exception {
        long dealId = crm.crm().addDealAsHuman(Map.of("TITLE", "Order #5008", "CATEGORY_ID", 0, "STAGE_ID", "NEW",
                "ORIGINATOR_ID", "dealbridge:s1", "ORIGIN_ID", "5008"));

        DealWrite result = writeOne(update(5008, dealId, Map.of("CATEGORY_ID", "2", "STAGE_ID", "C2:NEW"),
                Map.of("CATEGORY_ID", "0", "STAGE_ID", "NEW")));

        assertThat(result.outcome()).isEqualTo(Outcome.UPDATED);
        assertThat(crm.calls().count(Portal.CRM, "crm.item.update")).isEqualTo(1);
        assertThat(crm.crm().deal(dealId)).containsEntry("CATEGORY_ID", "2").containsEntry("STAGE_ID", "C2:NEW");
        assertThat(result.link().getCategoryId()).isEqualTo(2L);
    }

    @Test
    void aDealDeletedInTheCrmIsDeadLetteredAtOnceWithTheReason() throws Exception {
        DealWrite result = writeOne(update(5009, 987654, Map.of("STAGE_ID", "EXECUTING"), Map.of("STAGE_ID", "NEW")));

        assertThat(result.outcome()).isEqualTo(Outcome.DEAD_LETTERED);
        assertThat(result.attempts()).isEqualTo(1);
        assertThat(result.reason()).contains("987654", "s1:5009", "no longer exists");
        assertThat(result.link()).isNull();
    }

    @Test
    void aCommandTheCrmCannotTakeIsDeadLetteredAndTheOthersAreWritten() throws Exception {
        long dealId = crm.crm().addDealAsHuman(Map.of("TITLE", "Order #5012", "CATEGORY_ID", 0, "STAGE_ID", "NEW",
                "ORIGINATOR_ID", "dealbridge:s1", "ORIGIN_ID", "5012"));
        DealCommand broken = update(5012, dealId, Map.of("CATEGORY_ID", "2", "STAGE_ID", "NEW"),  // a stage of another pipeline
                Map.of("CATEGORY_ID", "0"));

        List<DealWrite> results = writer.write(List.of(broken, create(5013, Map.of(), null, false)));

        assertThat(results.get(0).outcome()).isEqualTo(Outcome.DEAD_LETTERED);
        assertThat(results.get(0).reason()).contains("NEW", "pipeline 2");
        assertThat(results.get(1).outcome()).isEqualTo(Outcome.CREATED);
        assertThat(crm.crm().deal(dealId)).containsEntry("CATEGORY_ID", "0");
    }

    @Test
    void transientFailuresAreRetriedWithBackoffAndThenDeadLetteredWithTheAttemptCount() throws Exception {
        crm.faults().outage(Portal.CRM, Duration.ofMinutes(5), Fault.HTTP_500);

        DealWrite result = writeOne(create(5010, Map.of(), null, false));

        assertThat(result.outcome()).isEqualTo(Outcome.DEAD_LETTERED);
        assertThat(result.attempts()).isEqualTo(3);
        assertThat(result.reason()).contains("after 3 attempts");
        assertThat(waits).hasSize(2);
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
        List<DealCommand> commands = new java.util.ArrayList<>();
        for (long id = 6001; id <= 6030; id++) {
            commands.add(create(id, Map.of(), null, false));
        }
        crm.calls().clear();

        List<DealWrite> results = writer.write(commands);

        assertThat(results).allSatisfy(r -> assertThat(r.outcome()).isEqualTo(Outcome.CREATED));
        int batches = crm.calls().count(Portal.CRM, "batch");
        assertThat(batches).isEqualTo(3);  // 30 finds in one call; 30 adds + 30 row sets in two
        for (long id = 6001; id <= 6030; id++) {
            assertThat(crm.crm().dealsByOrigin("dealbridge:s1", Long.toString(id))).hasSize(1);
        }
    }

    // --- the stage is decided with PairDecision against the deal as read (the same rule as the order projector's) ---

    /** An UPDATE decided against a link at C2:NEW/N, for an order now at P (→ C2:EXECUTING), changed at {@code orderAt}. */
    private static DealCommand stageUpdate(long orderId, long dealId, Instant orderAt) {
        Map<String, String> expected = new HashMap<>(Map.of("STAGE_ID", "C2:NEW", "@AGREED_STATUS_ID", "N"));
        return DealCommand.newBuilder(update(orderId, dealId, Map.of("STAGE_ID", "C2:EXECUTING", "CATEGORY_ID", "2"), expected))
                .setExpected(withStatus(expected, "P")).setSourceTime(orderAt).build();
    }

    private static Map<String, String> withStatus(Map<String, String> expected, String status) {
        Map<String, String> all = new HashMap<>(expected);
        all.put("@STATUS_ID", status);
        return all;
    }

    @Test
    void anOrderChangeLaterThanTheManagersStageChangeWinsInsteadOfDeadlockingThePair() throws Exception {
        long dealId = crm.crm().addDealAsHuman(Map.of("TITLE", "Order #5101", "CATEGORY_ID", 2, "STAGE_ID", "C2:NEW"));
        crm.crm().updateDealAsHuman(dealId, Map.of("STAGE_ID", "C2:PREPARATION"));  // both sides moved since the link

        DealWrite result = writeOne(stageUpdate(5101, dealId, Instant.now().plus(Duration.ofHours(1))));

        // the order's change is the later one: the deal is the loser and is written, once
        assertThat(crm.crm().deal(dealId).get("STAGE_ID")).isEqualTo("C2:EXECUTING");
        assertThat(result.outcome()).isEqualTo(Outcome.UPDATED);
        assertThat(result.link().getStageId()).isEqualTo("C2:EXECUTING");
        assertThat(result.link().getStatusId()).isEqualTo("P");
    }

    @Test
    void aManagersStageChangeLaterThanTheOrdersChangeIsNeverOverwritten() throws Exception {
        long dealId = crm.crm().addDealAsHuman(Map.of("TITLE", "Order #5102", "CATEGORY_ID", 2, "STAGE_ID", "C2:NEW"));
        crm.crm().updateDealAsHuman(dealId, Map.of("STAGE_ID", "C2:PREPARATION"));
        crm.calls().clear();

        DealWrite result = writeOne(stageUpdate(5102, dealId, Instant.now().minus(Duration.ofHours(1))));

        assertThat(crm.crm().deal(dealId).get("STAGE_ID")).isEqualTo("C2:PREPARATION");
        assertThat(crm.calls().count(Portal.CRM, "crm.deal.update")).isZero();
        assertThat(result.outcome()).isEqualTo(Outcome.CONFLICT_RESOLVED);
        assertThat(result.link().getStageId()).isEqualTo("C2:PREPARATION");
    }

    @Test
    void aDealAlreadyAtTheOrdersStageIsLeftThereAndItsOtherFieldsAreStillWritten() throws Exception {
        long dealId = crm.crm().addDealAsHuman(Map.of("TITLE", "Order #5103", "CATEGORY_ID", 2, "STAGE_ID", "C2:NEW",
                "OPPORTUNITY", "1000"));
        crm.crm().updateDealAsHuman(dealId, Map.of("STAGE_ID", "C2:EXECUTING"));  // the manager got there first
        Map<String, String> expected = new HashMap<>(Map.of("STAGE_ID", "C2:NEW", "@AGREED_STATUS_ID", "N",
                "OPPORTUNITY", "1000.00"));
        DealCommand command = DealCommand.newBuilder(update(5103, dealId,
                        Map.of("STAGE_ID", "C2:EXECUTING", "OPPORTUNITY", "1200.00"), expected))
                .setExpected(withStatus(expected, "P")).build();

        DealWrite result = writeOne(command);

        // consistent under the mapping: no stage write, and the amount is not lost to a "conflict"
        assertThat(result.outcome()).isEqualTo(Outcome.UPDATED);
        assertThat(crm.crm().deal(dealId)).containsEntry("STAGE_ID", "C2:EXECUTING").containsEntry("OPPORTUNITY", "1200.00");
    }

    @Test
    void aCreateThatFindsItsOwnDealWritesTheOrdersStageEvenWhenTheDealIsNewer() throws Exception {
        // an earlier incarnation created the deal (and was killed before its link was committed); the order's change is
        // older than that creation, as it is whenever DealBridge lags: the order's status is still what the deal must show
        long existing = crm.crm().addDealAsHuman(Map.of("TITLE", "Order #5104", "CATEGORY_ID", 2, "STAGE_ID", "C2:PREPARATION",
                "ORIGINATOR_ID", "dealbridge:s1", "ORIGIN_ID", "5104", "OPPORTUNITY", "1000"));

        DealCommand create = DealCommand.newBuilder(create(5104, Map.of(), null, false))
                .setSourceTime(Instant.now().minus(Duration.ofHours(1))).build();
        DealWrite result = writeOne(create);

        assertThat(crm.crm().deal(existing)).containsEntry("STAGE_ID", "C2:NEW").containsEntry("OPPORTUNITY", "1500.00");
        assertThat(result.link().getStageId()).isEqualTo("C2:NEW");
    }

    @Test
    void aCreateThatFindsADealOlderThanTheOrdersChangeBringsItToTheOrdersStage() throws Exception {
        long existing = crm.crm().addDealAsHuman(Map.of("TITLE", "Order #5105", "CATEGORY_ID", 2, "STAGE_ID", "C2:PREPARATION",
                "ORIGINATOR_ID", "dealbridge:s1", "ORIGIN_ID", "5105", "OPPORTUNITY", "1000"));

        writeOne(DealCommand.newBuilder(create(5105, Map.of(), null, false))
                .setSourceTime(Instant.now().plus(Duration.ofHours(1))).build());

        assertThat(crm.crm().deal(existing)).containsEntry("STAGE_ID", "C2:NEW");
    }

    // --- an order made from a deal, before its link arrives: the stage is decided in the deal's own pipeline ---

    private static DealCommand adoption(long orderId, long dealId, String status, Instant orderAt) {
        Map<String, String> expected = Map.of("@STATUS_ID", status, "@STAGE_BY_PIPELINE",
                "0=" + ("P".equals(status) ? "EXECUTING" : "NEW") + ";2=C2:" + ("P".equals(status) ? "EXECUTING" : "NEW"));
        return DealCommand.newBuilder(update(orderId, dealId, Map.of("OPPORTUNITY", "1500.00"), Map.of()))
                .setExpected(expected).setSourceTime(orderAt).build();
    }

    @Test
    void aStatusSetInTheStoreBeforeTheLinkArrivedReachesTheDealItsOrderWasMadeFrom() throws Exception {
        long dealId = crm.crm().addDealAsHuman(Map.of("TITLE", "Phone order", "CATEGORY_ID", 2, "STAGE_ID", "C2:NEW"));

        DealWrite result = writeOne(adoption(5201, dealId, "P", Instant.now().plus(Duration.ofHours(1))));

        assertThat(crm.crm().deal(dealId)).containsEntry("STAGE_ID", "C2:EXECUTING").containsEntry("CATEGORY_ID", "2")
                .containsEntry("OPPORTUNITY", "1500.00");
        assertThat(result.link().getStageId()).isEqualTo("C2:EXECUTING");
        assertThat(result.link().getStatusId()).isEqualTo("P");
    }

    @Test
    void anOrderMadeFromADealLeavesTheStageOfADealAManagerMovedLater() throws Exception {
        long dealId = crm.crm().addDealAsHuman(Map.of("TITLE", "Phone order", "CATEGORY_ID", 2, "STAGE_ID", "C2:PREPARATION"));

        DealWrite result = writeOne(adoption(5202, dealId, "N", Instant.now().minus(Duration.ofHours(1))));

        assertThat(crm.crm().deal(dealId)).containsEntry("STAGE_ID", "C2:PREPARATION").containsEntry("OPPORTUNITY", "1500.00");
        assertThat(result.reason()).contains("C2:PREPARATION", "stands");
    }
}
