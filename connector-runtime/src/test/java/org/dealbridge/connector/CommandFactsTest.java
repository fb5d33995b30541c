package org.dealbridge.connector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.Map;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.DealCommandKind;
import org.dealbridge.schemas.SyncLink;
import org.junit.jupiter.api.Test;

class CommandFactsTest {

    @Test
    void aDealCommandsFactsAreReadFromItsFields() {
        Instant at = Instant.parse("2026-12-06T10:00:00Z");
        DealCommand command = DealCommand.newBuilder().setCommandId("c1").setKind(DealCommandKind.CREATE).setSiteId("s1")
                .setOrderId(5001).setDealId(null).setOriginatorId("dealbridge:s1").setFields(Map.of()).setExpected(Map.of())
                .setResolveResponsibleFromContact(false).setStageByPipeline(Map.of()).setOrderValues(Map.of())
                .setOrderDeleted(false).setMappingVersion(3).setSourceTime(at).build();

        assertThat(CommandFacts.of(command)).isEqualTo(new CommandFacts("s1", 5001L, null, "c1", "CREATE", 3, at));
    }

    @Test
    void aRecordThatIsNoCommandIsRefusedNamingTheMissingField() {
        SyncLink link = SyncLink.newBuilder().setSiteId("s1").setOrderId(1).setDealId(2).setCategoryId(0).setStageId("NEW")
                .setStatusId("N").setUpdatedAt(Instant.now()).build();

        assertThatThrownBy(() -> CommandFacts.of(link)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("SyncLink has no field 'commandId'");
    }
}
