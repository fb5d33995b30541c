package org.dealbridge.mapping;

import static org.assertj.core.api.Assertions.assertThat;

import org.dealbridge.emulator.StageSemantics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class MappingScaffoldTest {

    static LivePortals portals;
    static String scaffold;

    @BeforeAll
    static void start() {
        portals = new LivePortals();
        portals.addCustomPipeline(7);
        portals.emulator.crm().addStage(7, "PK", "Packing", StageSemantics.PROCESS);
        portals.emulator.store().addStatus("PK", "Packing");  // mirrored status: the seed's advice
        scaffold = MappingScaffold.generate("s1", portals.crm, portals.store);
    }

    @AfterAll
    static void stop() {
        portals.close();
    }

    @Test
    void scaffoldIsValidOfflineAndLive() {
        assertThat(MappingValidator.validate(scaffold)).as(scaffold).isEmpty();
        assertThat(new LiveMappingValidator(portals.crm, portals.store).check(MappingDocument.parse(scaffold)))
                .as(scaffold).isEmpty();
    }

    @Test
    void everyPipelineAndStageIsWrittenAndOnlyCertainPairsAreLive() {
        CompiledMapping m = CompiledMapping.compile(scaffold, 1);
        assertThat(m.pipelines()).containsExactlyInAnyOrder(0L, 2L, 7L);
        // system statuses: N to the first stage, F to the first success stage
        assertThat(m.stageFor(0, "N")).contains("NEW");
        assertThat(m.stageFor(0, "F")).contains("WON");
        assertThat(m.stageFor(2, "N")).contains("C2:NEW");
        assertThat(m.stageFor(7, "N")).contains("C7:INTAKE");
        assertThat(m.stageFor(7, "F")).contains("C7:SHIPPED");
        // a mirrored status pairs with its stage
        assertThat(m.stageFor(7, "PK")).contains("C7:PK");
        // no guessing: P is not paired anywhere, its stages are left commented for the admin
        assertThat(m.stageFor(0, "P")).isEmpty();
        assertThat(scaffold).contains("# - { stage: \"EXECUTING\", status: ? }")
                .contains("# - { stage: \"C2:PREPARATION\", status: ? }");
        // failure stages become the cancelled stage
        assertThat(m.cancelledStage(0)).contains("LOSE");
        assertThat(m.cancelledStage(7)).contains("C7:DROPPED");
        // every order status is listed, delivery statuses are not (sale.status.list carries no names)
        assertThat(scaffold).contains("Store order statuses: N, P, S, D, F, PK\n").doesNotContain("DN");
        assertThat(m.responsibleFor(0)).isEqualTo(1);
        assertThat(m.defaultPaySystem()).isEqualTo(1);
        assertThat(scaffold).contains("UF_CRM_PAY_SYSTEM");
    }
}
