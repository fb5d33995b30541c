package org.dealbridge.dealprojector.crm;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.DealCommandKind;
import org.dealbridge.schemas.LinkOrigin;
import org.dealbridge.schemas.ProductRow;
import org.dealbridge.schemas.SyncLink;
import org.junit.jupiter.api.Test;

class CommandsPerOrderTest {

    /** The link an UPDATE of order {@code orderId} was decided on (deal 812 at NEW for status N). */
    static SyncLink link(long orderId, long updatedSecond) {
        return SyncLink.newBuilder().setSiteId("s1").setOrderId(orderId).setDealId(812).setCategoryId(0).setStageId("NEW")
                .setStatusId("N").setDealFields(Map.of("OPPORTUNITY", "5.00")).setOrderValues(Map.of("OPPORTUNITY", "5.00"))
                .setOrigin(LinkOrigin.ORDER).setUpdatedAt(Instant.ofEpochSecond(updatedSecond)).build();
    }

    static DealCommand command(long orderId, DealCommandKind kind, Map<String, String> fields, String status, long sourceSecond) {
        return DealCommand.newBuilder().setCommandId(kind + "-" + sourceSecond).setKind(kind).setSiteId("s1").setOrderId(orderId)
                .setDealId(kind == DealCommandKind.UPDATE ? 812L : null).setOriginatorId("dealbridge:s1")
                .setFields(fields).setOrderStatusId(status).setOrderValues(fields)
                .setDecidedOn(kind == DealCommandKind.UPDATE ? link(orderId, 1) : null).setMappingVersion(1)
                .setSourceTime(Instant.ofEpochSecond(sourceSecond)).build();
    }

    @Test
    void updatesOfOneOrderAreWrittenOneAfterTheOtherInWavesAndOrdersKeepTheirArrivalOrder() {
        // an earlier UPDATE may replay a write made before a crash whose link was lost: run first, it records what it
        // finds, and the later one is judged against that (folded, the replayed values would read as a person's)
        CommandsPerOrder perOrder = new CommandsPerOrder();
        perOrder.add("s1:1", command(1, DealCommandKind.UPDATE, Map.of("STAGE_ID", "EXECUTING"), "P", 10), null);
        perOrder.add("s1:2", command(2, DealCommandKind.CREATE, Map.of("STAGE_ID", "NEW"), "N", 11), null);
        perOrder.add("s1:1", command(1, DealCommandKind.UPDATE, Map.of("STAGE_ID", "WON", "OPPORTUNITY", "10.00"), "F", 12), null);

        List<List<CommandsPerOrder.Pending>> waves = perOrder.waves();
        assertThat(waves).hasSize(2);
        assertThat(waves.get(0)).extracting(p -> p.command().getOrderId()).containsExactly(1L, 2L);  // first arrival order
        assertThat(waves.get(0)).extracting(CommandsPerOrder.Pending::last).containsExactly(0, 1);
        assertThat(waves.get(0).get(0).command().getOrderStatusId()).isEqualTo("P");
        assertThat(waves.get(1)).singleElement().satisfies(p -> {
            assertThat(p.command().getOrderStatusId()).isEqualTo("F");
            assertThat(p.last()).isEqualTo(2);
        });
    }

    @Test
    void aCreateFollowedByAnUpdateStaysACreateWithTheUpdatedFieldsAndNoLink() {
        CommandsPerOrder perOrder = new CommandsPerOrder();
        DealCommand create = DealCommand.newBuilder(command(1, DealCommandKind.CREATE, Map.of("STAGE_ID", "NEW", "TITLE", "Order #1"),
                "N", 10)).setProductRows(List.of(ProductRow.newBuilder().setName("x").setPrice("1.00").setQuantity("1").build())).build();
        perOrder.add("s1:1", create, null);
        perOrder.add("s1:1", command(1, DealCommandKind.UPDATE, Map.of("STAGE_ID", "EXECUTING"), "P", 11), null);

        assertThat(perOrder.waves()).hasSize(1);
        CommandsPerOrder.Pending pending = perOrder.waves().get(0).get(0);
        assertThat(pending.last()).isEqualTo(1);
        DealCommand folded = pending.command();
        assertThat(folded.getKind()).isEqualTo(DealCommandKind.CREATE);
        assertThat(folded.getFields()).containsEntry("STAGE_ID", "EXECUTING").containsEntry("TITLE", "Order #1");
        // nothing to check a deal not yet made against (was: only bookkeeping expectations stay)
        assertThat(folded.getDecidedOn()).isNull();
        assertThat(folded.getExpected()).isEmpty();
        assertThat(folded.getOrderStatusId()).isEqualTo("P");
        assertThat(folded.getProductRows()).hasSize(1);
    }

    @Test
    void createsForADealTheConnectorKnowsAreFoldedAsTheUpdatesTheyAreExecutedAsOneAfterTheOther() {
        // decided before the deal's link came back; the first may replay a write whose link a crash lost (seed 11)
        SyncLink own = link(1, 5);
        CommandsPerOrder perOrder = new CommandsPerOrder();
        perOrder.add("s1:1", command(1, DealCommandKind.CREATE, Map.of("OPPORTUNITY", "49990.00"), "P", 10), own);
        perOrder.add("s1:1", command(1, DealCommandKind.CREATE, Map.of("OPPORTUNITY", "3000.00"), "P", 11), own);
        perOrder.add("s1:1", command(1, DealCommandKind.UPDATE, Map.of("STAGE_ID", "WON"), "F", 12), own);

        List<List<CommandsPerOrder.Pending>> waves = perOrder.waves();
        assertThat(waves).hasSize(3);
        assertThat(waves).allSatisfy(wave -> assertThat(wave).singleElement().satisfies(p -> {
            assertThat(p.command().getKind()).isEqualTo(DealCommandKind.UPDATE);
            assertThat(p.command().getDealId()).isEqualTo(812L);
            assertThat(p.first()).isEqualTo(p.last());
        }));
        assertThat(waves.get(0).get(0).command().getOrderValues()).containsEntry("OPPORTUNITY", "49990.00");
        assertThat(waves.get(0).get(0).command().getDecidedOn()).isEqualTo(own);
        assertThat(waves.get(1).get(0).command().getOrderValues()).containsEntry("OPPORTUNITY", "3000.00");

        // no deal known: still one after the other, since the first may replay an add whose link a crash lost
        // (DealWriterTest.aCreateWhoseAddWasAppliedButWhoseLinkWasLostIsNotFoldedIntoTheNextCreateSoTheLatestBasketIsWritten)
        CommandsPerOrder unlinked = new CommandsPerOrder();
        unlinked.add("s1:1", command(1, DealCommandKind.CREATE, Map.of("OPPORTUNITY", "49990.00"), "P", 10), null);
        unlinked.add("s1:1", command(1, DealCommandKind.CREATE, Map.of("OPPORTUNITY", "3000.00"), "P", 11), null);
        assertThat(unlinked.waves()).extracting(wave -> wave.get(0).command().getOrderValues().get("OPPORTUNITY"))
                .containsExactly("49990.00", "3000.00");
    }
}
