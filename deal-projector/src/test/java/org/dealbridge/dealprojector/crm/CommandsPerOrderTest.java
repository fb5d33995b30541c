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
    void commandsOfOneOrderFoldIntoOneWhereTheLatestValueWinsAndTheLinkTheyWereDecidedOnStays() {
        CommandsPerOrder perOrder = new CommandsPerOrder();
        perOrder.add("s1:1", command(1, DealCommandKind.UPDATE, Map.of("STAGE_ID", "EXECUTING"), "P", 10));
        perOrder.add("s1:2", command(2, DealCommandKind.CREATE, Map.of("STAGE_ID", "NEW"), "N", 11));
        perOrder.add("s1:1", command(1, DealCommandKind.UPDATE, Map.of("STAGE_ID", "WON", "OPPORTUNITY", "10.00"), "F", 12));

        List<DealCommand> commands = perOrder.commands();
        assertThat(commands).extracting(DealCommand::getOrderId).containsExactly(1L, 2L);  // first arrival order
        DealCommand folded = commands.get(0);
        assertThat(folded.getKind()).isEqualTo(DealCommandKind.UPDATE);
        assertThat(folded.getFields()).containsEntry("STAGE_ID", "WON").containsEntry("OPPORTUNITY", "10.00");
        assertThat(folded.getOrderStatusId()).isEqualTo("F");  // the latest decision's status
        // the deal still has what the link says: the first write never happened (was: the first expectation stays)
        assertThat(folded.getDecidedOn()).isEqualTo(link(1, 1));
        assertThat(folded.getSourceTime()).isEqualTo(Instant.ofEpochSecond(10));
    }

    @Test
    void aValueChangedAndChangedBackWithinOnePollIsNotWrittenFromTheEarlierCommand() {
        // the price goes 5 → 18 → 5: the later UPDATE, decided on the same link, no longer carries OPPORTUNITY
        CommandsPerOrder perOrder = new CommandsPerOrder();
        perOrder.add("s1:1", command(1, DealCommandKind.UPDATE, Map.of("OPPORTUNITY", "18.00"), "N", 10));
        perOrder.add("s1:1", command(1, DealCommandKind.UPDATE, Map.of("STAGE_ID", "EXECUTING"), "P", 12));

        DealCommand folded = perOrder.commands().get(0);

        assertThat(folded.getFields()).containsExactly(Map.entry("STAGE_ID", "EXECUTING"));
    }

    @Test
    void anUpdateWithoutALinkKeepsTheLinkTheEarlierOneWasDecidedOn() {
        CommandsPerOrder perOrder = new CommandsPerOrder();
        perOrder.add("s1:1", command(1, DealCommandKind.UPDATE, Map.of("STAGE_ID", "EXECUTING"), "P", 10));
        perOrder.add("s1:1", DealCommand.newBuilder(command(1, DealCommandKind.UPDATE, Map.of("STAGE_ID", "WON"), "F", 11))
                .setDecidedOn(null).build());

        assertThat(perOrder.commands().get(0).getDecidedOn()).isEqualTo(link(1, 1));
    }

    @Test
    void aCreateFollowedByAnUpdateStaysACreateWithTheUpdatedFieldsAndNoLink() {
        CommandsPerOrder perOrder = new CommandsPerOrder();
        DealCommand create = DealCommand.newBuilder(command(1, DealCommandKind.CREATE, Map.of("STAGE_ID", "NEW", "TITLE", "Order #1"),
                "N", 10)).setProductRows(List.of(ProductRow.newBuilder().setName("x").setPrice("1.00").setQuantity("1").build())).build();
        perOrder.add("s1:1", create);
        perOrder.add("s1:1", command(1, DealCommandKind.UPDATE, Map.of("STAGE_ID", "EXECUTING"), "P", 11));

        DealCommand folded = perOrder.commands().get(0);
        assertThat(folded.getKind()).isEqualTo(DealCommandKind.CREATE);
        assertThat(folded.getFields()).containsEntry("STAGE_ID", "EXECUTING").containsEntry("TITLE", "Order #1");
        // nothing to check a deal not yet made against (was: only bookkeeping expectations stay)
        assertThat(folded.getDecidedOn()).isNull();
        assertThat(folded.getExpected()).isEmpty();
        assertThat(folded.getOrderStatusId()).isEqualTo("P");
        assertThat(folded.getProductRows()).hasSize(1);
    }
}
