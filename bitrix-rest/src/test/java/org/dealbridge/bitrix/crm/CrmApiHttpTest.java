package org.dealbridge.bitrix.crm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import org.dealbridge.bitrix.BatchCommand;
import org.dealbridge.bitrix.BatchResult;
import org.dealbridge.bitrix.BitrixException;
import org.dealbridge.bitrix.EmulatorClients;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.emulator.Fault;
import org.dealbridge.emulator.Portal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link CrmApi} against the CRM emulator over real HTTP. */
class CrmApiHttpTest {
    private BitrixEmulator emu;
    private CrmApi crm;

    @BeforeEach
    void start() {
        emu = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled());
        emu.crm().addPipeline(1, "Online store");
        emu.crm().addStage(1, "PACKING", "Packing", org.dealbridge.emulator.StageSemantics.PROCESS);
        crm = new CrmApi(EmulatorClients.crm(emu, new SimpleMeterRegistry()).build());
    }

    @AfterEach
    void stop() {
        emu.close();
    }

    @Test
    void addGetAndUpdateADeal() {
        long id = crm.addDeal(Map.of("TITLE", "Shop order #5001", "CATEGORY_ID", 1, "STAGE_ID", "C1:NEW", "OPPORTUNITY", new BigDecimal("15400.50"),
                "CURRENCY_ID", "RUB", "ORIGINATOR_ID", "shop", "ORIGIN_ID", "5001", "ASSIGNED_BY_ID", 1));
        Deal deal = crm.getDeal(id).orElseThrow();
        assertThat(deal.id()).isEqualTo(id);
        assertThat(deal.title()).isEqualTo("Shop order #5001");
        assertThat(deal.categoryId()).isEqualTo(1);
        assertThat(deal.stageId()).isEqualTo("C1:NEW");
        assertThat(deal.opportunity()).isEqualByComparingTo("15400.50");
        assertThat(deal.currency()).isEqualTo("RUB");
        assertThat(deal.originatorId()).isEqualTo("shop");
        assertThat(deal.originId()).isEqualTo("5001");
        assertThat(deal.assignedById()).isEqualTo(1L);
        assertThat(deal.dateModify()).isNotNull();

        crm.updateDeal(id, Map.of("STAGE_ID", "C1:PACKING", "TITLE", "renamed"));
        assertThat(crm.getDeal(id).orElseThrow()).extracting(Deal::stageId, Deal::title).containsExactly("C1:PACKING", "renamed");
    }

    @Test
    void getOfAMissingDealIsEmpty() {
        assertThat(crm.getDeal(987654)).isEmpty();
    }

    @Test
    void updateRefusesCategoryAndPointsAtMove() {
        long id = crm.addDeal(Map.of("TITLE", "x"));
        assertThatThrownBy(() -> crm.updateDeal(id, Map.of("CATEGORY_ID", 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("CATEGORY_ID").hasMessageContaining("moveDeal");
        assertThat(emu.calls().count(Portal.CRM, "crm.deal.update")).isZero();
    }

    @Test
    void updateOfAMissingDealIsNotFound() {
        assertThatThrownBy(() -> crm.updateDeal(987654, Map.of("TITLE", "x"))).isInstanceOf(BitrixException.NotFound.class);
    }

    @Test
    void moveDealChangesPipelineThroughCrmItemUpdate() {
        long id = crm.addDeal(Map.of("TITLE", "to move"));
        Deal moved = crm.moveDeal(id, 1, "C1:PACKING");
        assertThat(moved.categoryId()).isEqualTo(1);
        assertThat(moved.stageId()).isEqualTo("C1:PACKING");
        assertThat(emu.crm().deal(id).get("CATEGORY_ID")).isEqualTo("1");
        assertThat(emu.calls().of(Portal.CRM, "crm.item.update").get(0).param("entityTypeId")).isEqualTo("2");
        assertThatThrownBy(() -> crm.moveDeal(id, 1, "NEW")).hasMessageContaining("does not belong to pipeline 1");
        assertThatThrownBy(() -> crm.moveDeal(987654, 1, "C1:NEW")).isInstanceOf(BitrixException.NotFound.class);
    }

    @Test
    void listAndFindByOrigin() {
        long a = crm.addDeal(Map.of("TITLE", "a", "ORIGINATOR_ID", "shop", "ORIGIN_ID", "1"));
        crm.addDeal(Map.of("TITLE", "b", "ORIGINATOR_ID", "shop", "ORIGIN_ID", "2"));
        long dup = crm.addDeal(Map.of("TITLE", "a again", "ORIGINATOR_ID", "shop", "ORIGIN_ID", "1"));
        assertThat(crm.findDealsByOrigin("shop", "1")).extracting(Deal::id).containsExactly(a, dup);
        assertThat(crm.findDealsByOrigin("shop", "404")).isEmpty();
        assertThat(crm.listDeals(Map.of("ORIGINATOR_ID", "shop"), List.of("ID", "TITLE"))).hasSize(3);
    }

    @Test
    void productRowsReplaceAndReadBack() {
        long id = crm.addDeal(Map.of("TITLE", "rows"));
        crm.setProductRows(id, List.of(ProductRow.of(0, "T-shirt red L", new BigDecimal("980"), new BigDecimal("2")),
                ProductRow.of(348, "Mug", new BigDecimal("500"), BigDecimal.ONE)));
        List<ProductRow> rows = crm.getProductRows(id);
        assertThat(rows).extracting(ProductRow::productName).containsExactly("T-shirt red L", "Mug");
        assertThat(rows.get(0).price()).isEqualByComparingTo("980");
        assertThat(rows.get(0).quantity()).isEqualByComparingTo("2");
        crm.setProductRows(id, List.of());
        assertThat(crm.getProductRows(id)).isEmpty();
        assertThatThrownBy(() -> crm.setProductRows(987654, List.of())).isInstanceOf(BitrixException.NotFound.class);
    }

    @Test
    void pipelinesIncludeTheDefaultAndStagesCarrySemantics() {
        assertThat(crm.pipelines()).extracting(Pipeline::id).containsExactlyInAnyOrder(0L, 1L);
        assertThat(crm.pipelines()).filteredOn(Pipeline::isDefault).extracting(Pipeline::id).containsExactly(0L);
        List<Stage> general = crm.stages(0);
        assertThat(general).extracting(Stage::statusId).startsWith("NEW").contains("WON", "LOSE");
        assertThat(general).filteredOn(s -> s.statusId().equals("WON")).extracting(Stage::semantics).containsExactly(StageSemantics.SUCCESS);
        assertThat(general).filteredOn(s -> s.statusId().equals("LOSE")).extracting(Stage::semantics).containsExactly(StageSemantics.FAILURE);
        assertThat(general).filteredOn(s -> s.statusId().equals("APOLOGY")).extracting(Stage::semantics).containsExactly(StageSemantics.FAILURE);
        List<Stage> store = crm.stages(1);
        assertThat(store).extracting(Stage::statusId).allMatch(s -> s.startsWith("C1:")).contains("C1:PACKING");
        assertThat(store).extracting(Stage::pipelineId).containsOnly(1L);
        assertThat(store).filteredOn(s -> s.statusId().equals("C1:NEW")).extracting(Stage::semantics).containsExactly(StageSemantics.PROCESS);
        assertThat(crm.stages(42)).isEmpty();
    }

    @Test
    void usersWithActiveFlag() {
        emu.crm().addUser(7, "Ivan", "Petrov", "ivan@example.com", true);
        emu.crm().addUser(8, "Gone", "Away", "gone@example.com", false);
        assertThat(crm.users()).extracting(CrmUser::id).contains(7L, 8L);
        assertThat(crm.user(7)).get().extracting(CrmUser::active, CrmUser::name).containsExactly(true, "Ivan");
        assertThat(crm.user(8)).get().extracting(CrmUser::active).isEqualTo(false);
        assertThat(crm.user(999)).isEmpty();
    }

    @Test
    void contactsFoundByEmailAndPhoneAddedAndRead() {
        emu.crm().addUser(7, "Ivan", true);
        long anna = emu.crm().addContact("Anna", "Smirnova", 7, "anna@example.com", "+79990001122");
        assertThat(crm.findContactsByEmail(List.of("anna@example.com")).contacts()).containsExactly(anna);
        assertThat(crm.findContactsByPhone(List.of("+79990001122")).contacts()).containsExactly(anna);
        assertThat(crm.findContactsByEmail(List.of("nobody@example.com")).isEmpty()).isTrue();   // portal answers []
        assertThat(crm.findContactsByEmail(List.of())).isEqualTo(ContactMatches.NONE);

        long added = crm.addContact(Map.of("NAME", "Petr", "LAST_NAME", "Ivanov", "ASSIGNED_BY_ID", 7,
                "EMAIL", List.of(Map.of("VALUE", "petr@example.com", "VALUE_TYPE", "WORK"))));
        Contact c = crm.contact(added).orElseThrow();
        assertThat(c.name()).isEqualTo("Petr");
        assertThat(c.assignedById()).isEqualTo(7L);
        assertThat(c.emails()).containsExactly("petr@example.com");
        assertThat(crm.contact(987654)).isEmpty();
    }

    @Test
    void findByCommSplitsIntoChunksOf20() {
        long anna = emu.crm().addContact("Anna", "S", null, "anna@example.com", null);
        List<String> emails = new java.util.ArrayList<>();
        for (int i = 0; i < 45; i++) {
            emails.add("nobody" + i + "@example.com");
        }
        emails.add("anna@example.com");
        assertThat(crm.findContactsByEmail(emails).contacts()).containsExactly(anna);
        assertThat(emu.calls().of(Portal.CRM, "crm.duplicate.findbycomm")).hasSize(3);
    }

    @Test
    void dealUserFieldsIncludingEnumerations() {
        emu.crm().addDealUserField("UF_CRM_SHOP_ORDER", "string");
        Map<String, String> items = emu.crm().addDealEnumerationField("UF_CRM_PAYMENT", "Card", "Cash");
        List<DealUserField> fields = crm.dealUserFields();
        assertThat(fields).extracting(DealUserField::fieldName).contains("UF_CRM_SHOP_ORDER", "UF_CRM_PAYMENT");
        DealUserField payment = fields.stream().filter(f -> f.fieldName().equals("UF_CRM_PAYMENT")).findFirst().orElseThrow();
        assertThat(payment.userTypeId()).isEqualTo("enumeration");
        assertThat(payment.items()).extracting(DealUserField.Item::value).containsExactly("Card", "Cash");
        assertThat(payment.items().get(0).id()).isEqualTo(Long.parseLong(items.get("Card")));

        long id = crm.addDeal(Map.of("TITLE", "uf", "UF_CRM_SHOP_ORDER", "5001"));
        assertThat(crm.getDeal(id).orElseThrow().userFields().get("UF_CRM_SHOP_ORDER").asText()).isEqualTo("5001");
    }

    @Test
    void batchedWritesWithReferences() {
        BatchResult r = crm.client().batch(List.of(
                CrmApi.addDealCommand("add", Map.of("TITLE", "batched", "ORIGINATOR_ID", "shop", "ORIGIN_ID", "9")),
                CrmApi.setProductRowsCommand("rows", BatchCommand.ref("add"), List.of(ProductRow.of(0, "Thing", BigDecimal.TEN, BigDecimal.ONE))),
                CrmApi.updateDealCommand("upd", 987654, Map.of("TITLE", "x")),
                CrmApi.moveDealCommand("move", 987655, 1, "C1:NEW")));
        long id = CrmApi.addedId(r, "add");
        assertThat(r.succeeded("rows")).isTrue();
        assertThat(emu.crm().dealProductRows(id)).hasSize(1);
        assertThat(r.error("upd")).get().isInstanceOf(BitrixException.NotFound.class);
        assertThat(r.error("move")).isPresent();
        assertThat(CrmApi.foundDealIds(crm.client().batch(List.of(CrmApi.findDealsByOriginCommand("f", "shop", "9"))), "f")).containsExactly(id);
        assertThatThrownBy(() -> CrmApi.updateDealCommand("bad", id, Map.of("category_id", 2))).hasMessageContaining("moveDeal");
    }

    @Test
    void addIsNotRetriedButReadsAre() {
        emu.faults().failNext("crm.deal.add", 1, Fault.HTTP_500);
        assertThatThrownBy(() -> crm.addDeal(Map.of("TITLE", "x"))).isInstanceOf(BitrixException.TransientFailure.class);
        emu.faults().failNext("crm.category.list", 1, Fault.HTTP_500);
        assertThat(crm.pipelines()).hasSize(2);
        emu.faults().failNext("crm.deal.update", 1, Fault.HTTP_500);
        long id = crm.addDeal(Map.of("TITLE", "y"));
        crm.updateDeal(id, Map.of("TITLE", "z"));    // updates set absolute values and are retried
        assertThat(emu.crm().deal(id).get("TITLE")).isEqualTo("z");
    }

    @Test
    void findOrAddDealAddsOnceAndRecoversFromAnAddThatLandedWithoutAnAnswer() {
        CrmApi.OriginDeal first = crm.findOrAddDeal("shop", "5001", Map.of("TITLE", "Order 5001"));
        assertThat(first.created()).isTrue();
        assertThat(crm.findOrAddDeal("shop", "5001", Map.of("TITLE", "Order 5001"))).isEqualTo(new CrmApi.OriginDeal(first.dealId(), false));

        emu.faults().failNext("crm.deal.add", 1, Fault.APPLY_THEN_DROP);
        CrmApi.OriginDeal dropped = crm.findOrAddDeal("shop", "5002", Map.of("TITLE", "Order 5002"));
        assertThat(dropped.created()).isTrue();
        assertThat(emu.crm().dealsByOrigin("shop", "5002")).hasSize(1);
        assertThat(emu.calls().count(Portal.CRM, "crm.deal.add")).isEqualTo(2);

        emu.faults().failNext("crm.deal.add", 1, Fault.HTTP_500);      // not applied: nothing to find, the failure surfaces
        assertThatThrownBy(() -> crm.findOrAddDeal("shop", "5003", Map.of("TITLE", "Order 5003")))
                .isInstanceOf(BitrixException.TransientFailure.class);
        assertThat(emu.crm().dealsByOrigin("shop", "5003")).isEmpty();
        assertThatThrownBy(() -> crm.findOrAddDeal("shop", "5004", Map.of("ORIGIN_ID", "9")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ORIGIN_ID");
    }

    @Test
    @SuppressWarnings("unchecked")
    void phoneValuesAreSentAsGivenBecausePortalNormalizationIsUnverified() {
        crm.findContactsByPhone(List.of(" +7 (999) 000-11-22 "));
        assertThat((List<Object>) emu.calls().of(Portal.CRM, "crm.duplicate.findbycomm").get(0).params().get("values"))
                .containsExactly("+7 (999) 000-11-22");
        assertThat(emu.calls().of(Portal.CRM, "crm.duplicate.findbycomm").get(0).param("type")).isEqualTo("PHONE");
    }

    @Test
    void moveRequiresAStageBecauseThePortalDefaultIsUnverified() {
        long id = crm.addDeal(Map.of("TITLE", "x"));
        assertThatThrownBy(() -> crm.moveDeal(id, 1, null)).isInstanceOf(NullPointerException.class).hasMessageContaining("stageId");
        assertThat(emu.calls().count(Portal.CRM, "crm.item.update")).isZero();
    }

    @Test
    void listDealsPagesByKeysetBeyond50() {
        for (int from = 0; from < 120; from += 50) {
            List<BatchCommand> cmds = new java.util.ArrayList<>();
            for (int i = from; i < Math.min(120, from + 50); i++) {
                cmds.add(CrmApi.addDealCommand("d" + i, Map.of("TITLE", "Deal " + i, "ORIGINATOR_ID", "many")));
            }
            assertThat(crm.client().batch(cmds).allSucceeded()).isTrue();
        }
        emu.calls().clear();
        List<Deal> deals = crm.listDeals(Map.of("ORIGINATOR_ID", "many"), List.of("TITLE"));
        assertThat(deals).hasSize(120);
        assertThat(deals).extracting(Deal::id).isSorted().doesNotHaveDuplicates();
        assertThat(deals.get(119).title()).isEqualTo("Deal 119");
        assertThat(emu.calls().of(Portal.CRM, "crm.deal.list")).hasSize(3).allSatisfy(c -> assertThat(c.param("start")).isEqualTo("-1"));
    }
}
