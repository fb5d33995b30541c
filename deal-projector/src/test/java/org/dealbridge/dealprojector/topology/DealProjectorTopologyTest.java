package org.dealbridge.dealprojector.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.dealbridge.dealprojector.topology.ProjectorScenario.MAPPING;
import static org.dealbridge.dealprojector.topology.ProjectorScenario.line;
import static org.dealbridge.dealprojector.topology.ProjectorScenario.order;
import static org.dealbridge.dealprojector.topology.ProjectorScenario.variation;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.dealbridge.schemas.DeadLetter;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.DealCommandKind;
import org.dealbridge.schemas.LinkOrigin;
import org.dealbridge.schemas.Outcome;
import org.dealbridge.schemas.ProductRow;
import org.dealbridge.schemas.SyncOutcome;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each test is one rule of the deal projector, as the shop admin would state it. */
class DealProjectorTopologyTest {

    @TempDir
    Path stateDir;

    private ProjectorScenario shop;

    @BeforeEach
    void openShop() {
        shop = new ProjectorScenario(stateDir).theAdminPublishes(MAPPING, 1);
    }

    @AfterEach
    void closeShop() {
        shop.close();
    }

    @Test
    void anOrderInAnUnmappedStatusGetsNoDealAndAVisibleOutcome() {
        shop.theStoreReports(order(5001).status("X").build());

        assertThat(shop.commands()).isEmpty();
        SyncOutcome outcome = single(shop.outcomes());
        assertThat(outcome.getOutcome()).isEqualTo(Outcome.SKIPPED_UNMAPPED_STATUS);
        assertThat(outcome.getOrderId()).isEqualTo(5001L);
        assertThat(outcome.getMappingVersion()).isEqualTo(1L);
        assertThat(outcome.getReason()).contains("Status X", "s1:5001", "pipeline 0", "mapping version 1", "no deal");
        assertThat(shop.counted("dealbridge.sync.outcomes", "direction", "ORDER_TO_DEAL", "outcome", "SKIPPED_UNMAPPED_STATUS"))
                .isEqualTo(1.0);
    }

    @Test
    void anUnmappedStatusOfALinkedOrderLeavesItsDealAlone() {
        shop.theStoreReports(order(5001).build());
        DealCommand create = shop.onlyCommand();
        shop.clearOutput()
                .theConnectorLinksTheCreatedDeal(create, 812, "N")
                .theStoreReports(order(5001).status("X").build());

        assertThat(shop.commands()).isEmpty();
        SyncOutcome outcome = single(shop.outcomes());
        assertThat(outcome.getOutcome()).isEqualTo(Outcome.SKIPPED_UNMAPPED_STATUS);
        assertThat(outcome.getDealId()).isEqualTo(812L);
        assertThat(outcome.getReason()).contains("deal 812 is not updated");
    }

    @Test
    void aStatusMappedInAnotherPipelineOnlyIsStillUnmappedForThisOrder() {
        // P is mapped in pipelines 0 and 2, not in pipeline 1 where furniture goes
        shop.theStoreReports(order(5001).status("P").with(line(1, "100", "1", 10L)).build());

        assertThat(shop.commands()).isEmpty();
        assertThat(single(shop.outcomes()).getReason()).contains("Status P", "pipeline 1");
    }

    @Test
    void aSubsectionInheritsItsAncestorsPipeline() {
        // 10 (furniture, pipeline 1) → 11 (chairs, not mapped)
        shop.theStoreReports(order(5001).with(line(1, "100", "1", 10L, 11L)).build());

        DealCommand create = shop.onlyCommand();
        assertThat(create.getFields()).containsEntry("CATEGORY_ID", "1").containsEntry("STAGE_ID", "C1:NEW");
    }

    @Test
    void theNearestMappedAncestorWins() {
        // 10 (pipeline 1) → 12 (sofas, pipeline 2) → 40 (corner sofas, not mapped)
        shop.theStoreReports(order(5001).with(line(1, "100", "1", 10L, 12L, 40L)).build());

        assertThat(shop.onlyCommand().getFields()).containsEntry("CATEGORY_ID", "2").containsEntry("STAGE_ID", "C2:NEW");
    }

    @Test
    void aVariationsParentProductDecidesThePipeline() {
        // the variation 501 sits in no section; the path is its parent's (500, in sofas)
        shop.theStoreReports(order(5001).with(variation(501, 500, "100", "1", 10L, 12L)).build());

        DealCommand create = shop.onlyCommand();
        assertThat(create.getFields()).containsEntry("CATEGORY_ID", "2");
        assertThat(create.getProductRows()).extracting(ProductRow::getProductId).containsExactly(501L);
    }

    @Test
    void theLargestLineTotalDecidesBetweenPipelines() {
        // a sofa at 25.50 vs three chairs at 10.00: 30.00 > 25.50, the chairs' pipeline wins
        shop.theStoreReports(order(5001).with(line(1, "25.50", "1", 10L, 12L), line(2, "10.00", "3", 10L)).build());

        assertThat(shop.onlyCommand().getFields()).containsEntry("CATEGORY_ID", "1");
    }

    @Test
    void tiesGoToBasketOrder() {
        shop.theStoreReports(order(5001).with(line(1, "20", "1", 12L), line(2, "10", "2", 10L)).build())
                .theStoreReports(order(5002).with(line(2, "10", "2", 10L), line(1, "20", "1", 12L)).build());

        List<DealCommand> creates = shop.commands();
        assertThat(creates).extracting(c -> c.getFields().get("CATEGORY_ID")).containsExactly("2", "1");
    }

    @Test
    void anOrderWithNoMappedSectionGoesToTheDefaultPipeline() {
        shop.theStoreReports(order(5001).with(line(1, "100", "1", 77L, 78L), line(2, "5", "1")).build());

        assertThat(shop.onlyCommand().getFields()).containsEntry("CATEGORY_ID", "0").containsEntry("STAGE_ID", "NEW");
    }

    @Test
    void responsiblePrecedenceThePipelinesUserElseTheDefault() {
        shop.theStoreReports(order(5001).with(line(1, "100", "1", 12L)).build())   // pipeline 2 has user 9
                .theStoreReports(order(5002).with(line(1, "100", "1", 10L)).build()); // pipeline 1 has none

        List<DealCommand> creates = shop.commands();
        assertThat(creates).extracting(c -> c.getFields().get("ASSIGNED_BY_ID")).containsExactly("9", "1");
        assertThat(creates).allSatisfy(c -> assertThat(c.getResolveResponsibleFromContact()).isFalse());
    }

    @Test
    void responsiblePrecedenceTheContactOwnerFirstWhenContactOwnerIsOn() {
        shop.theAdminPublishes(MAPPING.replace("contactOwner: false", "contactOwner: true"), 2)
                .theStoreReports(order(5001).with(line(1, "100", "1", 12L)).build());

        DealCommand create = shop.onlyCommand();
        // the connector asks the CRM for the buyer's contact owner and falls back to the pipeline's user
        assertThat(create.getResolveResponsibleFromContact()).isTrue();
        assertThat(create.getFields()).containsEntry("ASSIGNED_BY_ID", "9");
        assertThat(create.getBuyer().getEmail()).isEqualTo("anna@example.com");
        assertThat(create.getMappingVersion()).isEqualTo(2L);
    }

    @Test
    void paySystemLandsInItsUserField() {
        shop.theStoreReports(order(5001).paySystems(4L, 7L).build());

        assertThat(shop.onlyCommand().getFields()).containsEntry("UF_CRM_PAY_SYSTEM", "4");
    }

    @Test
    void otherOrderFieldsLandInTheirUserFieldsAsTheMappingSays() {
        shop.theAdminPublishes(MAPPING.replace("paySystemId: UF_CRM_PAY_SYSTEM",
                        "paySystemId: UF_CRM_PAY_SYSTEM\n  paid: UF_CRM_PAID\n  accountNumber: UF_CRM_SHOP_NUMBER"), 2)
                .theStoreReports(order(5001).build());

        assertThat(shop.onlyCommand().getFields()).containsEntry("UF_CRM_PAID", "N").containsEntry("UF_CRM_SHOP_NUMBER", "A-5001");
    }

    @Test
    void aNewDealCarriesTitleAmountCurrencyOriginAndProductRows() {
        shop.theStoreReports(order(5001).price("1500.5").with(line(7, "750.25", "2", 99L)).build());

        DealCommand create = shop.onlyCommand();
        assertThat(create.getKind()).isEqualTo(DealCommandKind.CREATE);
        assertThat(create.getDealId()).isNull();
        assertThat(create.getOriginatorId()).isEqualTo("dealbridge:s1");
        assertThat(create.getFields())
                .containsEntry("TITLE", "Order #A-5001")
                .containsEntry("OPPORTUNITY", "1500.50")
                .containsEntry("CURRENCY_ID", "RUB")
                .containsEntry("ORIGINATOR_ID", "dealbridge:s1")
                .containsEntry("ORIGIN_ID", "5001");
        assertThat(create.getProductRows()).singleElement().satisfies(row -> {
            assertThat(row.getProductId()).isEqualTo(7L);
            assertThat(row.getPrice()).isEqualTo("750.25");
            assertThat(row.getQuantity()).isEqualTo("2");
        });
        assertThat(create.getSourceTime()).isEqualTo(java.time.Instant.parse("2026-11-29T09:00:00Z"));
    }

    @Test
    void theTitleFollowsTheTemplateAndFallsBackToTheOrderId() {
        shop.theAdminPublishes(MAPPING + "deal: { title: \"Shop {siteId} order {accountNumber}\" }\n", 2)
                .theStoreReports(order(5001).build())
                .theStoreReports(order(5002).noAccountNumber().build());

        assertThat(shop.commands()).extracting(c -> c.getFields().get("TITLE"))
                .containsExactly("Shop s1 order A-5001", "Shop s1 order 5002");
    }

    @Test
    void anUpdateCarriesOnlyTheFieldsThatDifferAndTheLinkItWasDecidedOn() {
        shop.theStoreReports(order(5001).status("N").build());
        DealCommand create = shop.onlyCommand();
        shop.clearOutput()
                .theConnectorLinksTheCreatedDeal(create, 812, "N")
                .theStoreReports(order(5001).status("P").build());

        DealCommand update = shop.onlyCommand();
        assertThat(update.getKind()).isEqualTo(DealCommandKind.UPDATE);
        assertThat(update.getDealId()).isEqualTo(812L);
        assertThat(update.getFields()).containsExactly(Map.entry("STAGE_ID", "EXECUTING"));
        // no blind overwrite: was an "expected" STAGE_ID = NEW; the connector now checks the deal against the link itself
        assertThat(update.getExpected()).isEmpty();
        assertThat(update.getDecidedOn().getDealId()).isEqualTo(812L);
        assertThat(update.getDecidedOn().getStageId()).isEqualTo("NEW");
        assertThat(update.getOrderStatusId()).isEqualTo("P");
        assertThat(update.getStageByPipeline()).isEqualTo(Map.of("0", "EXECUTING", "2", "C2:EXECUTING"));
        assertThat(update.getOrderValues()).isEqualTo(create.getOrderValues());  // nothing but the status changed
        assertThat(update.getProductRows()).isNull();
        assertThat(update.getBuyer()).isNull();
    }

    @Test
    void aLinkThatCountsFewerWritesArrivingAfterANewerOneIsNotTakenAsTheLatest() {
        // the store connector's agreement (revision 2) was based on the link the CRM connector's write (revision 3) was
        // based on, and reached deal-links after it (10 000-order crash loop, seed 67881710880229, order 5553)
        shop.theStoreReports(order(5001).status("N").build());
        DealCommand create = shop.onlyCommand();
        shop.clearOutput()
                .theConnectorPublishes(shop.linkOfTheCreatedDeal(create, 812, "P").setStageId("EXECUTING").setRevision(3).build())
                .theConnectorPublishes(shop.linkOfTheCreatedDeal(create, 812, "N").setRevision(2).build())
                .theStoreReports(order(5001).status("P").build());

        DealCommand update = shop.onlyCommand();
        assertThat(update.getDecidedOn().getRevision()).as("decided on the deal write, not the agreement that came later")
                .isEqualTo(3);
        assertThat(update.getDecidedOn().getStageId()).isEqualTo("EXECUTING");
        assertThat(update.getDecidedOn().getStatusId()).isEqualTo("P");
    }

    @Test
    void aPriceChangeUpdatesTheAmountAndTheRowsButNotTheStage() {
        shop.theStoreReports(order(5001).build());
        DealCommand create = shop.onlyCommand();
        shop.clearOutput()
                .theConnectorLinksTheCreatedDeal(create, 812, "N")
                .theStoreReports(order(5001).price("1800").with(line(1, "1800", "1", 99L)).build());

        DealCommand update = shop.onlyCommand();
        assertThat(update.getFields()).containsExactly(Map.entry("OPPORTUNITY", "1800.00"));
        assertThat(update.getDecidedOn().getOrderValues()).containsEntry("OPPORTUNITY", "1500.00");
        assertThat(update.getOrderValues()).containsEntry("OPPORTUNITY", "1800.00");
        assertThat(update.getOrderRowsDigest()).isEqualTo(DealFields.productRowsDigest(update.getProductRows()));
        assertThat(update.getProductRows()).extracting(ProductRow::getPrice).containsExactly("1800.00");
    }

    @Test
    void theEchoOfOurOwnWriteProducesNoWrite() {
        shop.theStoreReports(order(5001).build());
        DealCommand create = shop.onlyCommand();
        shop.clearOutput()
                .theConnectorLinksTheCreatedDeal(create, 812, "N")
                .theStoreReports(order(5001).updatedAt("2026-11-29T09:05:00Z").build());  // same state again

        assertThat(shop.commands()).isEmpty();
        SyncOutcome outcome = single(shop.outcomes());
        assertThat(outcome.getOutcome()).isEqualTo(Outcome.UNCHANGED);
        assertThat(outcome.getReason()).contains("deal 812", "stage NEW");
    }

    @Test
    void aConsistentManyToOneStageIsNotRewritten() {
        // the deal sits at EXECUTING (first listed for P); the order moves to S, which also maps to EXECUTING
        shop.theStoreReports(order(5001).status("P").build());
        DealCommand create = shop.onlyCommand();
        shop.clearOutput()
                .theConnectorLinksTheCreatedDeal(create, 812, "P")
                .theStoreReports(order(5001).status("S").build());

        assertThat(shop.commands()).isEmpty();
        assertThat(single(shop.outcomes()).getOutcome()).isEqualTo(Outcome.UNCHANGED);
    }

    @Test
    void aStatusThatGoesBackBeforeTheLinkOfItsChangeArrivesIsStillSent() {
        // N → P → N while the link still says N: the P command is on its way, so "consistent with the link" means
        // nothing for the second N; it goes to the connector, which judges it against the deal as it is
        shop.theStoreReports(order(5001).build());
        DealCommand create = shop.onlyCommand();
        shop.clearOutput()
                .theConnectorLinksTheCreatedDeal(create, 812, "N")
                .theStoreReports(order(5001).status("P").updatedAt("2026-11-29T09:05:00Z").build());
        assertThat(shop.onlyCommand().getFields()).containsEntry("STAGE_ID", "EXECUTING");
        shop.clearOutput().theStoreReports(order(5001).status("N").updatedAt("2026-11-29T09:06:00Z").build());

        DealCommand back = shop.onlyCommand();
        assertThat(back.getFields()).containsEntry("STAGE_ID", "NEW");
        assertThat(back.getOrderStatusId()).isEqualTo("N");
    }

    @Test
    void aStageTheManagerMovedToIsConsistentWithTheOrdersStatusAndIsKept() {
        // the link says the deal is at EXECUTING; the order is in S (maps to EXECUTING): no stage write
        shop.theStoreReports(order(5001).build());
        DealCommand create = shop.onlyCommand();
        shop.clearOutput().theConnectorLinksTheCreatedDeal(create, 812, "N");
        shop.theConnectorPublishes(shop.linkOfTheCreatedDeal(create, 812, "S").setStageId("EXECUTING").build())
                .theStoreReports(order(5001).status("S").build());

        // the link may be ahead of the last decision (N) or behind it: the connector checks the deal, and the stage it
        // is sent is the one the deal already has, so nothing is written
        DealCommand check = shop.onlyCommand();
        assertThat(check.getFields()).containsExactly(Map.entry("STAGE_ID", "EXECUTING"));
        assertThat(check.getDecidedOn().getStageId()).isEqualTo("EXECUTING");
    }

    @Test
    void aBasketThatNowPicksAnotherPipelineCarriesPipelineStageAndRows() {
        shop.theStoreReports(order(5001).build());
        DealCommand create = shop.onlyCommand();
        shop.clearOutput()
                .theConnectorLinksTheCreatedDeal(create, 812, "N")
                .theStoreReports(order(5001).with(line(2, "1500", "1", 12L)).build());  // the basket is now a sofa

        DealCommand update = shop.onlyCommand();
        assertThat(update.getFields()).containsEntry("CATEGORY_ID", "2").containsEntry("STAGE_ID", "C2:NEW")
                .doesNotContainKey("ASSIGNED_BY_ID");
        // was: expected CATEGORY_ID 0 / STAGE_ID NEW; the connector now checks against the link it was decided on
        assertThat(update.getDecidedOn().getCategoryId()).isZero();
        assertThat(update.getDecidedOn().getStageId()).isEqualTo("NEW");
        assertThat(update.getOrderValues()).containsEntry("CATEGORY_ID", "2");
        assertThat(update.getProductRows()).extracting(ProductRow::getProductId).containsExactly(2L);
    }

    @Test
    void aNewMappingVersionThatMapsTheSameBasketToAnotherPipelineMovesNoDeal() {
        shop.theStoreReports(order(5001).with(line(1, "1500", "1", 10L)).build());  // furniture → pipeline 1
        DealCommand create = shop.onlyCommand();
        shop.clearOutput()
                .theConnectorLinksTheCreatedDeal(create, 812, "N")
                .theAdminPublishes(MAPPING.replace("{ section: 10, pipeline: 1 }", "{ section: 10, pipeline: 2 }"), 2)
                .theStoreReports(order(5001).status("F").with(line(1, "1500", "1", 10L)).build());

        DealCommand update = shop.onlyCommand();
        assertThat(update.getMappingVersion()).isEqualTo(2L);
        assertThat(update.getFields()).doesNotContainKey("CATEGORY_ID").containsExactly(Map.entry("STAGE_ID", "C1:WON"));
        assertThat(update.getProductRows()).isNull();
    }

    @Test
    void aLinkedOrderWhoseTitleAndPriceDidNotChangeSendsNeitherEvenWhenDealBridgeWroteOtherValues() {
        shop.theStoreReports(order(5001).build());
        DealCommand create = shop.onlyCommand();
        // DealBridge last wrote another title and amount (an older template, an older price the order has since agreed on)
        java.util.Map<String, String> wroteOther = new java.util.HashMap<>(ProjectorScenario.writtenBy(create));
        wroteOther.put("TITLE", "Order 5001 (old template)");
        wroteOther.put("OPPORTUNITY", "1400.00");
        shop.clearOutput()
                .theConnectorPublishes(shop.linkOfTheCreatedDeal(create, 812, "N").setDealFields(wroteOther).build())
                .theStoreReports(order(5001).status("P").build());

        DealCommand update = shop.onlyCommand();
        assertThat(update.getFields()).doesNotContainKeys("TITLE", "OPPORTUNITY").containsExactly(Map.entry("STAGE_ID", "EXECUTING"));
    }

    @Test
    void aCancelledOrderGoesToThePipelinesCancelledStage() {
        shop.theAdminPublishes(MAPPING + "cancelled: { \"0\": LOSE }\n", 2)
                .theStoreReports(order(5001).status("P").canceled().build());

        assertThat(shop.onlyCommand().getFields()).containsEntry("STAGE_ID", "LOSE");
    }

    @Test
    void noMappingForTheSiteMeansNoCommandAndAnOutcome() {
        shop.theStoreReports(order(5001).build());
        shop.clearOutput();
        shop.theStoreReports(org.dealbridge.schemas.OrderChanged.newBuilder(order(5001).build()).setSiteId("s2").build());

        assertThat(shop.commands()).isEmpty();
        SyncOutcome outcome = single(shop.outcomes());
        assertThat(outcome.getOutcome()).isEqualTo(Outcome.SKIPPED_NO_MAPPING);
        assertThat(outcome.getReason()).contains("site s2", "s2:5001");
        assertThat(outcome.getMappingVersion()).isNull();
    }

    @Test
    void aWithdrawnMappingStopsSyncAndSaysSo() {
        shop.theAdminWithdrawsTheMapping().theStoreReports(order(5001).build());

        assertThat(shop.commands()).isEmpty();
        assertThat(single(shop.outcomes()).getOutcome()).isEqualTo(Outcome.SKIPPED_NO_MAPPING);
    }

    @Test
    void anInvalidMappingVersionIsIgnoredAndTheLastGoodOneStaysInForce() {
        shop.theAdminPublishes(MAPPING.replace("default: 0", "default: zero"), 2)
                .theStoreReports(order(5001).build());

        DealCommand create = shop.onlyCommand();
        assertThat(create.getMappingVersion()).isEqualTo(1L);
        assertThat(create.getFields()).containsEntry("CATEGORY_ID", "0");
    }

    @Test
    void aNewMappingVersionAppliesToTheNextChange() {
        shop.theAdminPublishes(MAPPING.replace("{ section: 10, pipeline: 1 }", "{ section: 10, pipeline: 2 }"), 2)
                .theStoreReports(order(5001).with(line(1, "100", "1", 10L, 11L)).build());

        DealCommand create = shop.onlyCommand();
        assertThat(create.getFields()).containsEntry("CATEGORY_ID", "2");
        assertThat(create.getMappingVersion()).isEqualTo(2L);
    }

    @Test
    void anOrderWhosePriceIsNotANumberGoesToTheDeadLetterTopicNamingTheValue() {
        shop.theStoreReports(order(5001).price("15OO").build());

        assertThat(shop.commands()).isEmpty();
        DeadLetter letter = shop.deadLetters().get(0);
        assertThat(letter.getComponent()).isEqualTo("deal-projector");
        assertThat(letter.getReason()).contains("s1:5001", "15OO");
        assertThat(letter.getSourceOffset()).isEqualTo(0L);
        assertThat(letter.getValue()).isNotNull();
    }

    private static SyncOutcome single(List<SyncOutcome> outcomes) {
        assertThat(outcomes).hasSize(1);
        return outcomes.get(0);
    }


    @Test
    void aBurstOfChangesBecomesOneCommand(@TempDir Path otherStateDir) {
        try (ProjectorScenario burst = new ProjectorScenario(otherStateDir, Duration.ofSeconds(1)).theAdminPublishes(MAPPING, 1)) {
            burst.theStoreReports(order(5001).status("N").updatedAt("2026-11-29T09:00:00Z").build())
                    .theStoreReports(order(5001).status("P").updatedAt("2026-11-29T09:00:01Z").build())
                    .theStoreReports(order(5001).status("F").updatedAt("2026-11-29T09:00:02Z").build())
                    .theStoreReports(order(5002).status("N").build());
            assertThat(burst.commands()).isEmpty();  // nothing before the window closes

            burst.timePasses(Duration.ofSeconds(1));

            List<DealCommand> commands = burst.commands();
            assertThat(commands).hasSize(2);
            assertThat(commands).filteredOn(c -> c.getOrderId() == 5001).singleElement()
                    .satisfies(c -> assertThat(c.getFields()).containsEntry("STAGE_ID", "WON"));
            assertThat(burst.counted("dealbridge.commands", "topology", "deal-projector", "kind", "CREATE")).isEqualTo(2.0);

            burst.timePasses(Duration.ofSeconds(1));
            assertThat(burst.commands()).hasSize(2);  // flushed orders are not sent again
        }
    }

    @Test
    void aLateOlderStateDoesNotReplaceANewerPendingOne(@TempDir Path otherStateDir) {
        try (ProjectorScenario burst = new ProjectorScenario(otherStateDir, Duration.ofSeconds(1)).theAdminPublishes(MAPPING, 1)) {
            burst.theStoreReports(order(5001).status("F").updatedAt("2026-11-29T09:00:05Z").build())
                    .theStoreReports(order(5001).status("N").updatedAt("2026-11-29T09:00:01Z").build())
                    .timePasses(Duration.ofSeconds(1));

            assertThat(burst.onlyCommand().getFields()).containsEntry("STAGE_ID", "WON");
        }
    }

    // --- orders made from deals (xmlId = dealbridge-deal:{dealId}) ---

    @Test
    void anOrderMadeFromADealBeforeItsLinkArrivesUpdatesThatDealInsteadOfCreatingOne() {
        shop.theStoreReports(order(5001).xmlId("dealbridge-deal:812").build());

        DealCommand update = shop.onlyCommand();
        assertThat(update.getKind()).isEqualTo(DealCommandKind.UPDATE);
        assertThat(update.getDealId()).isEqualTo(812L);
        // changed on purpose (issue 12): the deal is the order's origin and owns every field but its stage, so the
        // command carries no fields at all (it used to bring OPPORTUNITY to the order's 1500.00) and no rows
        assertThat(update.getFields()).isEmpty();
        assertThat(update.getProductRows()).isNull();
        assertThat(update.getDecidedOn().getOrigin()).isEqualTo(LinkOrigin.DEAL);
        assertThat(update.getDecidedOn().getDealId()).isEqualTo(812L);
        assertThat(update.getOrderStatusId()).isEqualTo("N");
        // the connector reads the deal's pipeline and decides the stage there (N is mapped in pipelines 0, 1 and 2)
        assertThat(update.getStageByPipeline()).isEqualTo(Map.of("0", "NEW", "1", "C1:NEW", "2", "C2:NEW"));
    }

    @Test
    void anOrderMadeFromADealNeverGetsACreateEvenWhenItChangesAgainBeforeItsLink() {
        shop.theStoreReports(order(5001).xmlId("dealbridge-deal:812").build())
                .theStoreReports(order(5001).xmlId("dealbridge-deal:812").price("1700").build());

        assertThat(shop.commands()).hasSize(2).allSatisfy(c -> {
            assertThat(c.getKind()).isEqualTo(DealCommandKind.UPDATE);
            assertThat(c.getDealId()).isEqualTo(812L);
        });
    }

    @Test
    void anOrderWithAnotherSystemsXmlIdStillGetsItsDeal() {
        shop.theStoreReports(order(5001).xmlId("bx_63498bf7c8d31").build())
                .theStoreReports(order(5002).xmlId("dealbridge-deal:").build());

        assertThat(shop.commands()).hasSize(2).allSatisfy(c -> assertThat(c.getKind()).isEqualTo(DealCommandKind.CREATE));
    }

    @Test
    void aStageUpdateCarriesTheLinksStatusSoTheConnectorCanTellWhetherTheOrderMoved() {
        shop.theStoreReports(order(5001).build());
        DealCommand create = shop.onlyCommand();
        shop.clearOutput()
                .theConnectorLinksTheCreatedDeal(create, 812, "N")
                .theStoreReports(order(5001).status("P").build());

        DealCommand update = shop.onlyCommand();
        assertThat(update.getFields()).containsEntry(DealFields.STAGE_ID, "EXECUTING");
        // was: expected @AGREED_STATUS_ID / @STATUS_ID; now the link decided on and the command's own status
        assertThat(update.getDecidedOn().getStageId()).isEqualTo("NEW");
        assertThat(update.getDecidedOn().getStatusId()).isEqualTo("N");
        assertThat(update.getOrderStatusId()).isEqualTo("P");
    }

    // --- a deal deleted in the CRM (the link carries dealDeletedAt) ---

    @Test
    void anOrderDeletedInTheStoreAsksTheConnectorToRecordItWithTheCancelledStageOfEachPipeline() {
        shop.theAdminPublishes(MAPPING + "cancelled: { \"0\": LOSE }\n", 2)
                .theStoreReports(order(5001).build());
        DealCommand create = shop.onlyCommand();
        shop.clearOutput()
                .theConnectorLinksTheCreatedDeal(create, 812, "N")
                .theStoreReports(org.dealbridge.schemas.OrderChanged.newBuilder(order(5001).build()).setDeleted(true).build());

        DealCommand deleted = shop.onlyCommand();
        assertThat(deleted.getOrderDeleted()).isTrue();
        assertThat(deleted.getDealId()).isEqualTo(812L);
        assertThat(deleted.getFields()).as("nothing of a deleted order is written").isEmpty();
        assertThat(deleted.getStageByPipeline()).isEqualTo(Map.of("0", "LOSE"));
        assertThat(deleted.getDecidedOn().getDealId()).isEqualTo(812L);
    }

    @Test
    void anOrderDeletedBeforeItHadADealNeedsNothing() {
        shop.theStoreReports(org.dealbridge.schemas.OrderChanged.newBuilder(order(5001).build()).setDeleted(true).build());

        assertThat(shop.commands()).isEmpty();
        assertThat(single(shop.outcomes()).getOutcome()).isEqualTo(Outcome.ORDER_DELETED);
    }

    @Test
    void anOrderWhoseDealWasDeletedGetsNoNewDealUnderUnlinkAndTheOutcomeSaysWhy() {
        shop.theStoreReports(order(5001).build());
        DealCommand create = shop.onlyCommand();
        shop.clearOutput()
                .theConnectorPublishes(shop.linkOfTheCreatedDeal(create, 812, "N")
                        .setDealDeletedAt(java.time.Instant.parse("2026-11-29T10:00:00Z")).build())
                .theStoreReports(order(5001).status("P").build());

        assertThat(shop.commands()).isEmpty();
        SyncOutcome outcome = single(shop.outcomes());
        assertThat(outcome.getOutcome()).isEqualTo(Outcome.DEAL_DELETED);
        assertThat(outcome.getDealId()).isEqualTo(812L);
        assertThat(outcome.getReason()).contains("Deal 812", "s1:5001", "deleted", "unlink");
        assertThat(shop.deadLetters()).isEmpty();
    }

    @Test
    void anOrderWhoseDealWasDeletedGetsANewDealUnderRecreate() {
        shop.theAdminPublishes(MAPPING + "deals: { onDeleted: recreate }\n", 2)
                .theStoreReports(order(5001).build());
        DealCommand create = shop.onlyCommand();
        shop.clearOutput()
                .theConnectorPublishes(shop.linkOfTheCreatedDeal(create, 812, "N")
                        .setDealDeletedAt(java.time.Instant.parse("2026-11-29T10:00:00Z")).build())
                .theStoreReports(order(5001).status("P").build());

        DealCommand recreate = shop.onlyCommand();
        assertThat(recreate.getKind()).isEqualTo(DealCommandKind.CREATE);
        assertThat(recreate.getDealId()).isNull();
        assertThat(recreate.getDecidedOn().getDealDeletedAt()).as("decided knowing the old deal is gone").isNotNull();
        assertThat(recreate.getFields()).containsEntry("STAGE_ID", "EXECUTING").containsEntry("ORIGIN_ID", "5001");
        assertThat(recreate.getProductRows()).isNotEmpty();
    }

}
