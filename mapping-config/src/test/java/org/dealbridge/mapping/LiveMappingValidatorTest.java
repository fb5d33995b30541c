package org.dealbridge.mapping;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Live validation against the emulated CRM and store, one test per live rule. */
class LiveMappingValidatorTest {

    static LivePortals portals;
    static LiveMappingValidator live;

    @BeforeAll
    static void start() {
        portals = new LivePortals();
        live = new LiveMappingValidator(portals.crm, portals.store);
    }

    @AfterAll
    static void stop() {
        portals.close();
    }

    private static List<MappingError> errorsOf(String yaml) {
        return live.check(MappingValidator.parseValid(yaml));
    }

    private static MappingError onlyError(String yaml) {
        List<MappingError> errors = errorsOf(yaml);
        assertThat(errors).as("live errors").hasSize(1);
        return errors.get(0);
    }

    private static String sample() throws Exception {
        return CompiledMappingTest.sample();
    }

    @Test
    void sampleIsValidAgainstTheSeededPortal() throws Exception {
        assertThat(errorsOf(sample())).isEmpty();
    }

    @Test
    void unknownPipelineIsNamedWithTheValidOnes() throws Exception {
        MappingError error = onlyError(sample().replace("responsible:", "  \"3\":\n    - { stage: \"C3:NEW\", status: N }\nresponsible:"));
        assertThat(error.path()).isEqualTo("stages.\"3\"");
        assertThat(error.value()).isEqualTo("3");
        assertThat(error.message()).contains("[0, 2]");
    }

    @Test
    void unknownStageIsNamedWithTheValidOnes() throws Exception {
        MappingError error = onlyError(sample().replace("\"C2:WON\"", "\"C2:PACKED\""));
        assertThat(error.path()).isEqualTo("stages.\"2\"[1].stage");
        assertThat(error.value()).isEqualTo("C2:PACKED");
        assertThat(error.message()).contains("C2:WON").contains("C2:NEW");
    }

    @Test
    void unknownStatusIsNamedWithTheOrderStatuses() throws Exception {
        MappingError error = onlyError(sample().replace("{ stage: EXECUTING, status: P }", "{ stage: EXECUTING, status: X }"));
        assertThat(error.path()).isEqualTo("stages.\"0\"[1].status");
        assertThat(error.message()).contains("[D, F, N, P, S]");
    }

    @Test
    void deliveryStatusIsNotAnOrderStatus() throws Exception {
        MappingError error = onlyError(sample().replace("{ stage: EXECUTING, status: P }", "{ stage: EXECUTING, status: DN }"));
        assertThat(error.path()).isEqualTo("stages.\"0\"[1].status");
        assertThat(error.value()).isEqualTo("DN");
    }

    @Test
    void unknownUserIsNamedWithTheActiveOnes() throws Exception {
        MappingError error = onlyError(sample().replace("  default: 1\n  byPipeline", "  default: 77\n  byPipeline"));
        assertThat(error.path()).isEqualTo("responsible.default");
        assertThat(error.message()).contains("[1, 2, 9]");  // the webhook's user, the shop manager, 9 (5 is inactive)
    }

    @Test
    void inactiveUserIsRejected() throws Exception {
        MappingError error = onlyError(sample().replace("byPipeline: { \"2\": 9 }", "byPipeline: { \"2\": 5 }"));
        assertThat(error.path()).isEqualTo("responsible.byPipeline.\"2\"");
        assertThat(error.message()).contains("not active");
    }

    @Test
    void unknownDealFieldIsNamedWithTheExistingOnes() throws Exception {
        MappingError error = onlyError(sample().replace("UF_CRM_PAY_SYSTEM", "UF_CRM_PAYMENT"));
        assertThat(error.path()).isEqualTo("dealFields.paySystemId");
        assertThat(error.message()).contains("UF_CRM_PAY_SYSTEM");
    }

    @Test
    void unknownPaySystemIsNamedWithTheValidOnes() throws Exception {
        MappingError error = onlyError(sample().replace("  default: 1            # pay system", "  default: 4  # pay system"));
        assertThat(error.path()).isEqualTo("payment.default");
        assertThat(error.message()).contains("[1]");
    }

    @Test
    void unknownSectionIsRejected() throws Exception {
        MappingError error = onlyError(sample().replace("section: 12", "section: 99"));
        assertThat(error.path()).isEqualTo("pipelines.bySection[0].section");
        assertThat(error.value()).isEqualTo("99");
    }

    @Test
    void unknownCancelledStageIsRejected() throws Exception {
        assertThat(errorsOf(sample() + "cancelled: { \"2\": \"C2:LOSE\" }\n")).isEmpty();
        MappingError error = onlyError(sample() + "cancelled: { \"2\": \"C2:GONE\" }\n");
        assertThat(error.path()).isEqualTo("cancelled.\"2\"");
    }

    @Test
    void unknownPipelineIsNamedWhereverItIsUsed() throws Exception {
        List<MappingError> errors = errorsOf(sample()
                .replace("responsible:", "  \"4\":\n    - { stage: \"C4:NEW\", status: N }\nresponsible:")
                + "dealToOrder: { pipelines: [4] }\n");
        assertThat(errors).extracting(MappingError::path).containsExactlyInAnyOrder("dealToOrder.pipelines[0]", "stages.\"4\"");
    }
}
