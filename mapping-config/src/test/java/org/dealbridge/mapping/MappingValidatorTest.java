package org.dealbridge.mapping;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** One test per validation rule: each feeds a document broken in exactly one way and checks path and value. */
class MappingValidatorTest {

    private static final String VALID = """
            site: s1
            pipelines:
              default: 0
              bySection:
                - { section: 12, pipeline: 2 }
            stages:
              "0":
                - { stage: NEW, status: N }
                - { stage: WON, status: F }
              "2":
                - { stage: "C2:NEW", status: N }
                - { stage: "C2:WON", status: F }
            responsible:
              default: 1
              byPipeline: { "2": 9 }
              contactOwner: false
            dealFields:
              paySystemId: UF_CRM_PAY_SYSTEM
            payment:
              default: 1
            """;

    private static List<MappingError> errorsOf(String yaml) {
        return MappingValidator.validate(yaml);
    }

    private static MappingError onlyError(String yaml) {
        List<MappingError> errors = errorsOf(yaml);
        assertThat(errors).as("errors of\n" + yaml).hasSize(1);
        return errors.get(0);
    }

    @Test
    void theBaseDocumentAndTheSampleAreValid() throws Exception {
        assertThat(errorsOf(VALID)).isEmpty();
        assertThat(errorsOf(CompiledMappingTest.sample())).isEmpty();
    }

    // ---- structure -------------------------------------------------------------------------------------------

    @Test
    void unknownKeyIsRejectedWithItsPath() {
        MappingError error = onlyError(VALID.replace("  bySection:", "  bySecton:"));
        assertThat(error.path()).isEqualTo("pipelines.bySecton");
        assertThat(error.message()).contains("unknown key").contains("bySection");
    }

    @Test
    void unknownKeyInsideAPairIsRejectedWithItsPath() {
        MappingError error = onlyError(VALID.replace("{ stage: \"C2:WON\", status: F }",
                "{ stage: \"C2:WON\", status: F, colour: red }"));
        assertThat(error.path()).isEqualTo("stages.\"2\"[1].colour");
    }

    @Test
    void unknownTopLevelKeyIsRejected() {
        assertThat(onlyError(VALID + "stagess: {}\n").path()).isEqualTo("stagess");
    }

    @Test
    void requiredKeysAreNamed() {
        assertThat(onlyError(VALID.replace("site: s1\n", "")).path()).isEqualTo("site");
        assertThat(onlyError(VALID.replace("  default: 0\n", "")).path()).isEqualTo("pipelines.default");
        assertThat(onlyError(VALID.replace("payment:\n  default: 1\n", "")).path()).isEqualTo("payment");
        assertThat(onlyError(VALID.replace("  default: 1\n  byPipeline", "  byPipeline")).path())
                .isEqualTo("responsible.default");
        MappingError missingStatus = onlyError(VALID.replace("{ stage: \"C2:NEW\", status: N }", "{ stage: \"C2:NEW\" }"));
        assertThat(missingStatus.path()).isEqualTo("stages.\"2\"[0].status");
        assertThat(missingStatus.message()).isEqualTo("is required");
    }

    @Test
    void wrongTypesNameTheValue() {
        MappingError error = onlyError(VALID.replace("default: 0", "default: zero"));
        assertThat(error.path()).isEqualTo("pipelines.default");
        assertThat(error.value()).isEqualTo("zero");
        assertThat(onlyError(VALID.replace("contactOwner: false", "contactOwner: maybe")).path())
                .isEqualTo("responsible.contactOwner");
        assertThat(onlyError(VALID.replace("{ section: 12, pipeline: 2 }", "{ section: 12.5, pipeline: 2 }")).value())
                .isEqualTo("12.5");
    }

    @Test
    void booleanWhereTextIsExpectedSaysToQuoteIt() {
        MappingError error = onlyError(VALID.replace("{ stage: WON, status: F }", "{ stage: WON, status: false }"));
        assertThat(error.path()).isEqualTo("stages.\"0\"[1].status");
        assertThat(error.message()).contains("quote it");
    }

    @Test
    void duplicateKeysAreNotSilentlyMerged() {
        MappingError error = onlyError(VALID.replace("payment:\n  default: 1\n", "payment:\n  default: 1\n  default: 2\n"));
        assertThat(error.path()).isEqualTo("(document)");
        assertThat(error.message()).contains("default");
    }

    @Test
    void emptyAndNonMappingDocumentsAreRejected() {
        assertThat(onlyError("").message()).contains("empty");
        assertThat(onlyError("- a\n- b\n").message()).contains("mapping");
        assertThat(onlyError("site: [unclosed\n").message()).contains("not valid YAML");
    }

    @Test
    void siteIdIsASimpleId() {
        MappingError error = onlyError(VALID.replace("site: s1", "site: \"s1:x\""));
        assertThat(error.path()).isEqualTo("site");
        assertThat(error.value()).isEqualTo("s1:x");
    }

    // ---- stage ids carry their pipeline's prefix -------------------------------------------------------------

    @Test
    void stageOfPipelineNNeedsTheCnPrefix() {
        MappingError error = onlyError(VALID.replace("{ stage: \"C2:WON\", status: F }", "{ stage: WON, status: F }"));
        assertThat(error.path()).isEqualTo("stages.\"2\"[1].stage");
        assertThat(error.value()).isEqualTo("WON");
        assertThat(error.message()).contains("C2:");
    }

    @Test
    void stageWithAnotherPipelinesPrefixIsRejected() {
        MappingError error = onlyError(VALID.replace("{ stage: \"C2:WON\", status: F }", "{ stage: \"C3:WON\", status: F }"));
        assertThat(error.path()).isEqualTo("stages.\"2\"[1].stage");
        assertThat(error.message()).contains("belongs to pipeline 3");
    }

    @Test
    void stageOfTheDefaultPipelineHasNoPrefix() {
        MappingError error = onlyError(VALID.replace("{ stage: WON, status: F }", "{ stage: \"C2:WON\", status: F }"));
        assertThat(error.path()).isEqualTo("stages.\"0\"[1].stage");
        assertThat(error.value()).isEqualTo("C2:WON");
    }

    @Test
    void prefixAloneIsNotAStage() {
        assertThat(onlyError(VALID.replace("\"C2:WON\"", "\"C2:\"")).path()).isEqualTo("stages.\"2\"[1].stage");
    }

    // ---- a status maps to at most one stage per pipeline -----------------------------------------------------

    @Test
    void statusMappedTwiceInOnePipelineIsRejected() {
        MappingError error = onlyError(VALID.replace("{ stage: \"C2:WON\", status: F }", "{ stage: \"C2:WON\", status: N }"));
        assertThat(error.path()).isEqualTo("stages.\"2\"[1].status");
        assertThat(error.value()).isEqualTo("N");
        assertThat(error.message()).contains("stages.\"2\"[0]");
    }

    @Test
    void sameStatusInDifferentPipelinesAndOneStageFromSeveralStatusesAreFine() {
        assertThat(errorsOf(VALID.replace("    - { stage: WON, status: F }\n",
                "    - { stage: WON, status: F }\n    - { stage: WON, status: S }\n"))).isEmpty();
    }

    // ---- every reachable pipeline has a stage table ----------------------------------------------------------

    @Test
    void defaultPipelineNeedsAStageTable() {
        MappingError error = onlyError(VALID.replace("default: 0", "default: 5"));
        assertThat(error.path()).isEqualTo("stages.\"5\"");
        assertThat(error.message()).contains("pipelines.default");
    }

    @Test
    void sectionPipelineNeedsAStageTable() {
        MappingError error = onlyError(VALID.replace("{ section: 12, pipeline: 2 }", "{ section: 12, pipeline: 4 }"));
        assertThat(error.path()).isEqualTo("stages.\"4\"");
        assertThat(error.message()).contains("pipelines.bySection[0].pipeline");
    }

    @Test
    void responsiblePipelineNeedsAStageTable() {
        MappingError error = onlyError(VALID.replace("byPipeline: { \"2\": 9 }", "byPipeline: { \"2\": 9, \"7\": 3 }"));
        assertThat(error.path()).isEqualTo("stages.\"7\"");
        assertThat(error.message()).contains("responsible.byPipeline.\"7\"");
    }

    @Test
    void emptyStageTableIsRejected() {
        MappingError error = onlyError(VALID.replace("""
                  "2":
                    - { stage: "C2:NEW", status: N }
                    - { stage: "C2:WON", status: F }
                """, "  \"2\": []\n"));
        assertThat(error.path()).isEqualTo("stages.\"2\"");
    }

    @Test
    void pipelineKeysAreIds() {
        MappingError error = onlyError(VALID.replace("byPipeline: { \"2\": 9 }", "byPipeline: { \"two\": 9 }"));
        assertThat(error.path()).isEqualTo("responsible.byPipeline.\"two\"");
        assertThat(error.value()).isEqualTo("two");
        assertThat(onlyError(VALID.replace("{ section: 12, pipeline: 2 }", "{ section: 12, pipeline: -2 }")).path())
                .isEqualTo("pipelines.bySection[0].pipeline");
    }

    // ---- user ids positive -----------------------------------------------------------------------------------

    @Test
    void defaultResponsibleMustBePositive() {
        MappingError error = onlyError(VALID.replace("  default: 1\n  byPipeline", "  default: 0\n  byPipeline"));
        assertThat(error.path()).isEqualTo("responsible.default");
        assertThat(error.value()).isEqualTo("0");
    }

    @Test
    void responsibleByPipelineMustBePositive() {
        MappingError error = onlyError(VALID.replace("\"2\": 9", "\"2\": -9"));
        assertThat(error.path()).isEqualTo("responsible.byPipeline.\"2\"");
        assertThat(error.value()).isEqualTo("-9");
    }

    // ---- custom fields ---------------------------------------------------------------------------------------

    @Test
    void dealFieldMustBeAUfCrmField() {
        MappingError error = onlyError(VALID.replace("UF_CRM_PAY_SYSTEM", "PAY_SYSTEM"));
        assertThat(error.path()).isEqualTo("dealFields.paySystemId");
        assertThat(error.value()).isEqualTo("PAY_SYSTEM");
        assertThat(onlyError(VALID.replace("UF_CRM_PAY_SYSTEM", "UF_CRM_pay")).value()).isEqualTo("UF_CRM_pay");
        assertThat(onlyError(VALID.replace("UF_CRM_PAY_SYSTEM", "UF_CRM_")).value()).isEqualTo("UF_CRM_");
    }

    @Test
    void dealFieldSourceMustBeAKnownOrderField() {
        MappingError error = onlyError(VALID.replace("paySystemId: UF_CRM_PAY_SYSTEM", "paySystem: UF_CRM_PAY_SYSTEM"));
        assertThat(error.path()).isEqualTo("dealFields.paySystem");
        assertThat(error.message()).contains("paySystemId");
    }

    @Test
    void oneDealFieldIsFilledFromOneOrderField() {
        MappingError error = onlyError(VALID.replace("paySystemId: UF_CRM_PAY_SYSTEM",
                "paySystemId: UF_CRM_PAY_SYSTEM\n  accountNumber: UF_CRM_PAY_SYSTEM"));
        assertThat(error.path()).isEqualTo("dealFields.accountNumber");
    }

    // ---- sections --------------------------------------------------------------------------------------------

    @Test
    void sectionsAreUnique() {
        MappingError error = onlyError(VALID.replace("    - { section: 12, pipeline: 2 }\n",
                "    - { section: 12, pipeline: 2 }\n    - { section: 12, pipeline: 0 }\n"));
        assertThat(error.path()).isEqualTo("pipelines.bySection[1].section");
        assertThat(error.value()).isEqualTo("12");
        assertThat(error.message()).contains("pipelines.bySection[0].section");
    }

    @Test
    void sectionIdsArePositive() {
        assertThat(onlyError(VALID.replace("section: 12", "section: 0")).path()).isEqualTo("pipelines.bySection[0].section");
    }

    // ---- extensions ------------------------------------------------------------------------------------------

    @Test
    void unknownTitlePlaceholderIsRejected() {
        MappingError error = onlyError(VALID + "deal: { title: \"Order {number}\" }\n");
        assertThat(error.path()).isEqualTo("deal.title");
        assertThat(error.value()).isEqualTo("Order {number}");
        assertThat(error.message()).contains("{number}").contains("{accountNumber}");
    }

    @Test
    void knownTitlePlaceholdersAreAccepted() {
        assertThat(errorsOf(VALID + "deal: { title: \"{siteId}/{accountNumber}/{orderId}\" }\n")).isEmpty();
    }

    @Test
    void orderCreatingPipelineNeedsAStageTable() {
        MappingError error = onlyError(VALID + "dealToOrder: { pipelines: [2, 6] }\n");
        assertThat(error.path()).isEqualTo("stages.\"6\"");
        assertThat(error.message()).contains("dealToOrder.pipelines[1]");
    }

    @Test
    void orderCreatingPipelineIsListedOnce() {
        MappingError error = onlyError(VALID + "dealToOrder: { pipelines: [2, 0, 2] }\n");
        assertThat(error.path()).isEqualTo("dealToOrder.pipelines[2]");
        assertThat(error.value()).isEqualTo("2");
    }

    @Test
    void cancelledStageCarriesItsPipelinesPrefix() {
        assertThat(errorsOf(VALID + "cancelled: { \"0\": LOSE, \"2\": \"C2:LOSE\" }\n")).isEmpty();
        MappingError error = onlyError(VALID + "cancelled: { \"2\": LOSE }\n");
        assertThat(error.path()).isEqualTo("cancelled.\"2\"");
        assertThat(error.value()).isEqualTo("LOSE");
    }

    @Test
    void onDeletedIsUnlinkOrRecreate() {
        assertThat(CompiledMapping.compile(VALID, 1).onDeleted()).isEqualTo(MappingDocument.OnDeleted.UNLINK);
        assertThat(CompiledMapping.compile(VALID + "deals: { onDeleted: recreate }\n", 1).onDeleted())
                .isEqualTo(MappingDocument.OnDeleted.RECREATE);
        MappingError error = onlyError(VALID + "deals: { onDeleted: forget }\n");
        assertThat(error.path()).isEqualTo("deals.onDeleted");
        assertThat(error.value()).isEqualTo("forget");
    }

    @Test
    void paySystemIsPositive() {
        assertThat(onlyError(VALID.replace("payment:\n  default: 1", "payment:\n  default: 0")).path())
                .isEqualTo("payment.default");
    }

    // ---- all errors at once ----------------------------------------------------------------------------------

    @Test
    void everyErrorIsReportedAtOnce() {
        String broken = VALID.replace("bySection:", "bySecton:")
                .replace("{ stage: \"C2:WON\", status: F }", "{ stage: WON, status: N }")
                .replace("UF_CRM_PAY_SYSTEM", "PAY");
        assertThatThrownBy(() -> CompiledMapping.compile(broken, 1))
                .isInstanceOfSatisfying(MappingInvalidException.class, e -> assertThat(e.errors())
                        .extracting(MappingError::path)
                        .containsExactlyInAnyOrder("pipelines.bySecton", "stages.\"2\"[1].stage",
                                "stages.\"2\"[1].status", "dealFields.paySystemId"))
                .hasMessageContaining("stages.\"2\"[1].stage = \"WON\"");
    }
}
