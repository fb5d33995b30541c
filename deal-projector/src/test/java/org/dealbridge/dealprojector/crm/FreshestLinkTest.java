package org.dealbridge.dealprojector.crm;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Map;
import org.dealbridge.dealprojector.topology.DealFields;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.DealCommandKind;
import org.dealbridge.schemas.LinkOrigin;
import org.dealbridge.schemas.SyncLink;
import org.junit.jupiter.api.Test;

/**
 * A command decided against a link older than one the connector wrote itself since is checked against the connector's
 * own link: DealBridge's previous write is the agreed state, not a manager's change.
 */
class FreshestLinkTest {
    private static final Instant DECIDED_LINK_AT = Instant.parse("2026-11-29T08:00:00Z");

    private static DealCommand statusMovedToF() {
        return DealCommand.newBuilder().setCommandId("c1").setKind(DealCommandKind.UPDATE).setSiteId("s1").setOrderId(5001)
                .setDealId(7L).setOriginatorId("dealbridge:s1").setMappingVersion(1).setSourceTime(Instant.parse("2026-11-29T08:00:05Z"))
                .setFields(Map.of(DealFields.STAGE_ID, "C2:WON"))
                .setExpected(Map.of(DealFields.STAGE_ID, "C2:NEW", DealFields.AGREED_STATUS, "N", DealFields.ORDER_STATUS, "F",
                        DealFields.LINK_UPDATED_AT, Long.toString(DECIDED_LINK_AT.toEpochMilli())))
                .build();
    }

    private static SyncLink ownLink(Instant at, long dealId) {
        return SyncLink.newBuilder().setSiteId("s1").setOrderId(5001).setDealId(dealId).setCategoryId(2).setStageId("C2:EXECUTING")
                .setStatusId("P").setOrigin(LinkOrigin.ORDER).setUpdatedAt(at).build();
    }

    @Test
    void theConnectorsOwnNewerWriteIsTheAgreedStateNotAManagersChange() {
        DealCommand checked = FreshestLink.apply(statusMovedToF(), ownLink(DECIDED_LINK_AT.plusSeconds(2), 7));
        assertThat(checked.getExpected()).containsEntry(DealFields.STAGE_ID, "C2:EXECUTING").containsEntry(DealFields.AGREED_STATUS, "P")
                .containsEntry(DealFields.ORDER_STATUS, "F");
        assertThat(checked.getFields()).containsEntry(DealFields.STAGE_ID, "C2:WON");
    }

    @Test
    void anOlderOwnLinkOrAnotherDealLeavesTheCommandAsDecided() {
        assertThat(FreshestLink.apply(statusMovedToF(), ownLink(DECIDED_LINK_AT.minusSeconds(1), 7))).isEqualTo(statusMovedToF());
        assertThat(FreshestLink.apply(statusMovedToF(), ownLink(DECIDED_LINK_AT.plusSeconds(2), 8))).isEqualTo(statusMovedToF());
        assertThat(FreshestLink.apply(statusMovedToF(), null)).isEqualTo(statusMovedToF());
    }
}
