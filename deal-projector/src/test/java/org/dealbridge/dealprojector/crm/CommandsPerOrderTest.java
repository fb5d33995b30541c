package org.dealbridge.dealprojector.crm;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.DealCommandKind;
import org.dealbridge.schemas.ProductRow;
import org.junit.jupiter.api.Test;

class CommandsPerOrderTest {

    static DealCommand command(long orderId, DealCommandKind kind, Map<String, String> fields, Map<String, String> expected,
                               long sourceSecond) {
        return DealCommand.newBuilder().setCommandId(kind + "-" + sourceSecond).setKind(kind).setSiteId("s1").setOrderId(orderId)
                .setDealId(kind == DealCommandKind.UPDATE ? 812L : null).setOriginatorId("dealbridge:s1")
                .setFields(fields).setExpected(expected).setMappingVersion(1)
                .setSourceTime(Instant.ofEpochSecond(sourceSecond)).build();
    }

    @Test
    void commandsOfOneOrderFoldIntoOneWhereTheLatestValueWinsAndTheFirstExpectationStays() {
        CommandsPerOrder perOrder = new CommandsPerOrder();
        perOrder.add("s1:1", command(1, DealCommandKind.UPDATE, Map.of("STAGE_ID", "EXECUTING"), Map.of("STAGE_ID", "NEW", "@STATUS_ID", "P"), 10));
        perOrder.add("s1:2", command(2, DealCommandKind.CREATE, Map.of("STAGE_ID", "NEW"), Map.of("@STATUS_ID", "N"), 11));
        perOrder.add("s1:1", command(1, DealCommandKind.UPDATE, Map.of("STAGE_ID", "WON", "OPPORTUNITY", "10.00"),
                Map.of("STAGE_ID", "EXECUTING", "OPPORTUNITY", "5.00", "@STATUS_ID", "F"), 12));

        List<DealCommand> commands = perOrder.commands();
        assertThat(commands).extracting(DealCommand::getOrderId).containsExactly(1L, 2L);  // first arrival order
        DealCommand folded = commands.get(0);
        assertThat(folded.getFields()).containsEntry("STAGE_ID", "WON").containsEntry("OPPORTUNITY", "10.00");
        // the deal still has NEW: the first write never happened
        assertThat(folded.getExpected()).containsEntry("STAGE_ID", "NEW").containsEntry("OPPORTUNITY", "5.00")
                .containsEntry("@STATUS_ID", "F");
        assertThat(folded.getSourceTime()).isEqualTo(Instant.ofEpochSecond(10));
    }

    @Test
    void aCreateFollowedByAnUpdateStaysACreateWithTheUpdatedFields() {
        CommandsPerOrder perOrder = new CommandsPerOrder();
        DealCommand create = DealCommand.newBuilder(command(1, DealCommandKind.CREATE, Map.of("STAGE_ID", "NEW", "TITLE", "Order #1"),
                Map.of("@STATUS_ID", "N"), 10)).setProductRows(List.of(ProductRow.newBuilder().setName("x").setPrice("1.00").setQuantity("1").build())).build();
        perOrder.add("s1:1", create);
        perOrder.add("s1:1", command(1, DealCommandKind.UPDATE, Map.of("STAGE_ID", "EXECUTING"), Map.of("STAGE_ID", "NEW", "@STATUS_ID", "P"), 11));

        DealCommand folded = perOrder.commands().get(0);
        assertThat(folded.getKind()).isEqualTo(DealCommandKind.CREATE);
        assertThat(folded.getFields()).containsEntry("STAGE_ID", "EXECUTING").containsEntry("TITLE", "Order #1");
        assertThat(folded.getExpected()).containsOnlyKeys("@STATUS_ID").containsEntry("@STATUS_ID", "P");
        assertThat(folded.getProductRows()).hasSize(1);
    }
}
