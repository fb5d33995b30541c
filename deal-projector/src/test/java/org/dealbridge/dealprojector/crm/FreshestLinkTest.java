package org.dealbridge.dealprojector.crm;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.dealbridge.dealprojector.topology.DealFields;
import org.dealbridge.schemas.Buyer;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.DealCommandKind;
import org.dealbridge.schemas.LinkOrigin;
import org.dealbridge.schemas.ProductRow;
import org.dealbridge.schemas.SyncLink;
import org.junit.jupiter.api.Test;

/**
 * A command decided against a link older than one the connector wrote itself since is checked against the connector's
 * own link: DealBridge's previous write is the agreed state, not a manager's change.
 */
class FreshestLinkTest {
    private static final Instant DECIDED_LINK_AT = Instant.parse("2026-11-29T08:00:00Z");

    /** The link the projector decided on: DealBridge wrote C2:NEW for status N. */
    private static SyncLink decidedLink() {
        return SyncLink.newBuilder().setSiteId("s1").setOrderId(5001).setDealId(7).setCategoryId(2).setStageId("C2:NEW")
                .setStatusId("N").setDealFields(Map.of("OPPORTUNITY", "1500.00")).setOrderValues(Map.of("OPPORTUNITY", "1500.00"))
                .setOrigin(LinkOrigin.ORDER).setUpdatedAt(DECIDED_LINK_AT).build();
    }

    private static DealCommand statusMovedToF() {
        return DealCommand.newBuilder().setCommandId("c1").setKind(DealCommandKind.UPDATE).setSiteId("s1").setOrderId(5001)
                .setDealId(7L).setOriginatorId("dealbridge:s1").setMappingVersion(1).setSourceTime(Instant.parse("2026-11-29T08:00:05Z"))
                .setFields(Map.of(DealFields.STAGE_ID, "C2:WON"))
                .setOrderStatusId("F").setStageByPipeline(Map.of("2", "C2:WON"))
                .setDecidedOn(decidedLink())
                .build();
    }

    /** What the connector itself wrote since: the deal at C2:EXECUTING for status P, 1800.00 written. */
    private static SyncLink ownLink(Instant at, long dealId) {
        return SyncLink.newBuilder().setSiteId("s1").setOrderId(5001).setDealId(dealId).setCategoryId(2).setStageId("C2:EXECUTING")
                .setStatusId("P").setDealFields(Map.of("OPPORTUNITY", "1800.00")).setOrderValues(Map.of("OPPORTUNITY", "1800.00"))
                .setOrigin(LinkOrigin.ORDER).setUpdatedAt(at).build();
    }

    @Test
    void theConnectorsOwnNewerWriteIsTheAgreedStateNotAManagersChange() {
        SyncLink own = ownLink(DECIDED_LINK_AT.plusSeconds(2), 7);

        DealCommand checked = FreshestLink.apply(statusMovedToF(), own);

        assertThat(checked.getDecidedOn()).isEqualTo(own);
        assertThat(checked.getDecidedOn().getStageId()).isEqualTo("C2:EXECUTING");
        assertThat(checked.getDecidedOn().getStatusId()).isEqualTo("P");
        assertThat(checked.getDecidedOn().getDealFields()).containsEntry("OPPORTUNITY", "1800.00");
        // what the order asks for is unchanged
        assertThat(checked.getFields()).containsEntry(DealFields.STAGE_ID, "C2:WON");
        assertThat(checked.getOrderStatusId()).isEqualTo("F");
        assertThat(checked.getKind()).isEqualTo(DealCommandKind.UPDATE);
    }

    @Test
    void anOlderOwnLinkOrAnotherDealLeavesTheCommandAsDecided() {
        assertThat(FreshestLink.apply(statusMovedToF(), ownLink(DECIDED_LINK_AT.minusSeconds(1), 7))).isEqualTo(statusMovedToF());
        assertThat(FreshestLink.apply(statusMovedToF(), ownLink(DECIDED_LINK_AT, 7))).isEqualTo(statusMovedToF());
        assertThat(FreshestLink.apply(statusMovedToF(), ownLink(DECIDED_LINK_AT.plusSeconds(2), 8))).isEqualTo(statusMovedToF());
        assertThat(FreshestLink.apply(statusMovedToF(), null)).isEqualTo(statusMovedToF());
    }

    @Test
    void aLinkWrittenOnAMachineWhoseClockIsBehindStillReadsAsNewerThanTheOneItWasBasedOn() {
        // the connector wrote C2:EXECUTING (its 3rd write of the link); the store connector, on a machine whose clock
        // is two minutes behind, then wrote the link the command was decided on, on the basis of that one
        SyncLink own = SyncLink.newBuilder(ownLink(DECIDED_LINK_AT, 7)).setRevision(3).build();
        SyncLink basedOnOwn = SyncLink.newBuilder(decidedLink()).setRevision(4).setUpdatedAt(DECIDED_LINK_AT.minusSeconds(120)).build();
        DealCommand decided = DealCommand.newBuilder(statusMovedToF()).setDecidedOn(basedOnOwn).build();

        assertThat(FreshestLink.apply(decided, own)).as("the later write stands, whatever its clock said").isEqualTo(decided);

        // and the other way round: the connector's own later write, on a machine whose clock is behind the other's
        SyncLink ownLater = SyncLink.newBuilder(own).setRevision(5).setUpdatedAt(DECIDED_LINK_AT.minusSeconds(300)).build();
        assertThat(FreshestLink.apply(decided, ownLater).getDecidedOn()).isEqualTo(ownLater);
    }

    private static DealCommand create() {
        return DealCommand.newBuilder().setCommandId("c0").setKind(DealCommandKind.CREATE).setSiteId("s1").setOrderId(5001)
                .setOriginatorId("dealbridge:s1").setMappingVersion(1).setSourceTime(Instant.parse("2026-11-29T08:00:05Z"))
                .setFields(Map.of(DealFields.TITLE, "Order #A-5001", DealFields.CATEGORY_ID, "2", DealFields.STAGE_ID, "C2:NEW",
                        DealFields.ASSIGNED_BY_ID, "9", DealFields.OPPORTUNITY, "1500.00", DealFields.IS_MANUAL_OPPORTUNITY, "Y",
                        DealFields.ORIGINATOR_ID, "dealbridge:s1", DealFields.ORIGIN_ID, "5001"))
                .setProductRows(List.of(ProductRow.newBuilder().setProductId(77L).setName("Sofa").setPrice("1500.00").setQuantity("1").build()))
                .setBuyer(Buyer.newBuilder().setName("Anna").setEmail("anna@example.com").build())
                .setResolveResponsibleFromContact(true)
                .setOrderStatusId("N").setStageByPipeline(Map.of("2", "C2:NEW"))
                .build();
    }

    @Test
    void aCreateForAnOrderWhoseDealThisConnectorAlreadyMadeBecomesAnUpdateOfThatDealDecidedOnItsOwnLink() {
        SyncLink own = ownLink(DECIDED_LINK_AT, 7);

        DealCommand checked = FreshestLink.apply(create(), own);

        assertThat(checked.getKind()).isEqualTo(DealCommandKind.UPDATE);
        assertThat(checked.getDealId()).isEqualTo(7L);
        assertThat(checked.getDecidedOn()).isEqualTo(own);
        // a new deal's own fields are not the order's to write on an existing deal
        assertThat(checked.getFields()).doesNotContainKeys(DealFields.ORIGINATOR_ID, DealFields.ORIGIN_ID,
                DealFields.ASSIGNED_BY_ID, DealFields.IS_MANUAL_OPPORTUNITY);
        assertThat(checked.getFields()).containsEntry(DealFields.TITLE, "Order #A-5001").containsEntry(DealFields.OPPORTUNITY, "1500.00");
        assertThat(checked.getBuyer()).isNull();
        assertThat(checked.getResolveResponsibleFromContact()).isFalse();
        assertThat(checked.getProductRows()).hasSize(1);
    }

    @Test
    void aCreateDecidedBeforeTheDeletionWasKnownWritesNothingInsteadOfMakingASecondDeal() {
        SyncLink deleted = SyncLink.newBuilder(ownLink(DECIDED_LINK_AT, 7)).setDealDeletedAt(DECIDED_LINK_AT.plusSeconds(1)).build();

        DealCommand checked = FreshestLink.apply(create(), deleted);

        assertThat(checked.getKind()).isEqualTo(DealCommandKind.UPDATE);
        assertThat(checked.getDecidedOn()).isEqualTo(deleted);  // DealWriter answers DEAL_DELETED without a call
    }

    @Test
    void aCreateDecidedKnowingOfTheDeletionStaysACreate() {
        SyncLink deleted = SyncLink.newBuilder(ownLink(DECIDED_LINK_AT, 7)).setDealDeletedAt(DECIDED_LINK_AT.plusSeconds(1)).build();
        DealCommand recreate = DealCommand.newBuilder(create()).setDecidedOn(deleted).build();  // deals.onDeleted = recreate

        assertThat(FreshestLink.apply(recreate, deleted)).isEqualTo(recreate);
    }
}
