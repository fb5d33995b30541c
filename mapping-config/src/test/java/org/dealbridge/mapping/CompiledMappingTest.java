package org.dealbridge.mapping;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.dealbridge.schemas.BasketItem;
import org.junit.jupiter.api.Test;

class CompiledMappingTest {

    static String sample() throws Exception {
        return Files.readString(Path.of("examples/s1.yaml"));
    }

    private static final String SECTIONS = """
            site: s1
            pipelines:
              default: 0
              bySection:
                - { section: 10, pipeline: 1 }
                - { section: 12, pipeline: 2 }
                - { section: 30, pipeline: 3 }
            stages:
              "0": [ { stage: NEW, status: N } ]
              "1": [ { stage: "C1:NEW", status: N } ]
              "2": [ { stage: "C2:NEW", status: N } ]
              "3": [ { stage: "C3:NEW", status: N } ]
            responsible: { default: 1 }
            payment: { default: 1 }
            """;

    static BasketItem item(long productId, String price, String quantity, Long... sectionPath) {
        return BasketItem.newBuilder().setProductId(productId).setName("p" + productId)
                .setPrice(price).setQuantity(quantity).setSectionPath(List.of(sectionPath)).build();
    }

    @Test
    void sampleDocumentCompilesWithItsLookups() throws Exception {
        CompiledMapping m = CompiledMapping.compile(MappingDocument.parse(sample()), 7);
        assertThat(m.siteId()).isEqualTo("s1");
        assertThat(m.version()).isEqualTo(7);
        assertThat(m.stageFor(0, "P")).contains("EXECUTING");
        assertThat(m.stageFor(2, "F")).contains("C2:WON");
        assertThat(m.stageFor(2, "P")).isEmpty();
        assertThat(m.statusFor(2, "C2:NEW")).contains("N");
        assertThat(m.responsibleFor(2)).isEqualTo(9);
        assertThat(m.responsibleFor(0)).isEqualTo(1);
        assertThat(m.contactOwner()).isFalse();
        assertThat(m.dealFields()).isEqualTo(Map.of("paySystemId", "UF_CRM_PAY_SYSTEM"));
        assertThat(m.defaultPaySystem()).isEqualTo(1);
        assertThat(m.orderCreatingPipelines()).isEmpty();
        assertThat(m.cancelledStage(0)).isEmpty();
        assertThat(m.dealTitle("A-17", 17)).isEqualTo("Order #A-17");
    }

    @Test
    void nearestMappedAncestorDecidesLeafFirst() {
        CompiledMapping m = CompiledMapping.compile(SECTIONS, 1);
        // 10 -> 12 -> 40: 12 is nearer than 10
        assertThat(m.pipelineFor(List.of(item(1, "5", "1", 10L, 12L, 40L)))).isEqualTo(2);
        // 10 -> 11: only the root is mapped, the subsection inherits it
        assertThat(m.pipelineFor(List.of(item(1, "5", "1", 10L, 11L)))).isEqualTo(1);
        // the leaf itself is mapped
        assertThat(m.pipelineFor(List.of(item(1, "5", "1", 12L, 30L)))).isEqualTo(3);
    }

    @Test
    void variationUsesTheSectionPathEnrichmentGaveIt() {
        CompiledMapping m = CompiledMapping.compile(SECTIONS, 1);
        BasketItem variation = BasketItem.newBuilder(item(501, "5", "1", 10L, 12L)).setParentProductId(500L).build();
        assertThat(m.pipelineFor(List.of(variation))).isEqualTo(2);
    }

    @Test
    void largestLineTotalDecidesBetweenPipelines() {
        CompiledMapping m = CompiledMapping.compile(SECTIONS, 1);
        // 3 x 10.00 = 30 in pipeline 1 beats 1 x 25.50 in pipeline 2, although the unit price is lower
        assertThat(m.pipelineFor(List.of(item(1, "25.50", "1", 12L), item(2, "10.00", "3", 10L)))).isEqualTo(1);
        assertThat(m.pipelineFor(List.of(item(1, "25.50", "2", 12L), item(2, "10.00", "3", 10L)))).isEqualTo(2);
        // decimal, not floating point: 0.1 x 3 = 0.3 exactly equals 0.3 x 1 -> tie -> first line
        assertThat(m.pipelineFor(List.of(item(1, "0.1", "3", 12L), item(2, "0.3", "1", 10L)))).isEqualTo(2);
    }

    @Test
    void tiesGoToTheEarlierLineAndUnmappedLinesDoNotCount() {
        CompiledMapping m = CompiledMapping.compile(SECTIONS, 1);
        assertThat(m.pipelineFor(List.of(item(1, "10", "2", 30L), item(2, "20", "1", 12L)))).isEqualTo(3);
        assertThat(m.pipelineFor(List.of(item(2, "20", "1", 12L), item(1, "10", "2", 30L)))).isEqualTo(2);
        // a big unmapped line does not pull the order to the default pipeline
        assertThat(m.pipelineFor(List.of(item(1, "1000", "1", 99L), item(2, "1", "1", 30L)))).isEqualTo(3);
    }

    @Test
    void noMappedLineGoesToTheDefaultPipeline() {
        CompiledMapping m = CompiledMapping.compile(SECTIONS.replace("default: 0", "default: 3"), 1);
        assertThat(m.pipelineFor(List.of(item(1, "10", "1", 99L), item(2, "10", "1")))).isEqualTo(3);
        assertThat(m.pipelineFor(List.of())).isEqualTo(3);
    }

    @Test
    void badPriceOfAPlacedLineNamesTheProduct() {
        CompiledMapping m = CompiledMapping.compile(SECTIONS, 1);
        assertThatThrownBy(() -> m.pipelineFor(List.of(item(77, "ten", "1", 12L))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("77").hasMessageContaining("ten");
    }

    @Test
    void stageMappedFromSeveralStatusesUsesItsFirstPairBackwards() {
        CompiledMapping m = CompiledMapping.compile("""
                site: s1
                pipelines: { default: 0 }
                stages:
                  "0":
                    - { stage: EXECUTING, status: P }
                    - { stage: WON, status: F }
                    - { stage: EXECUTING, status: S }
                responsible: { default: 1 }
                payment: { default: 1 }
                """, 1);
        assertThat(m.stageFor(0, "P")).contains("EXECUTING");
        assertThat(m.stageFor(0, "S")).contains("EXECUTING");
        assertThat(m.statusFor(0, "EXECUTING")).contains("P");
        assertThat(m.isConsistent(0, "EXECUTING", "S")).isTrue();
        assertThat(m.isConsistent(0, "EXECUTING", "P")).isTrue();
        assertThat(m.isConsistent(0, "WON", "S")).isFalse();
        assertThat(m.isConsistent(0, "EXECUTING", "N")).isFalse();
        assertThat(m.isConsistent(1, "EXECUTING", "P")).isFalse();
        assertThat(m.statusFor(0, "LOSE")).isEmpty();
        assertThat(m.stageFor(5, "P")).isEmpty();
    }

    @Test
    void extensionsCompile() {
        CompiledMapping m = CompiledMapping.compile("""
                site: s2
                pipelines: { default: 1 }
                stages:
                  "1": [ { stage: "C1:NEW", status: N } ]
                responsible: { default: 3, contactOwner: true }
                payment: { default: 4 }
                deal: { title: "Shop {siteId} order {accountNumber} (id {orderId})" }
                dealToOrder: { pipelines: [1] }
                cancelled: { "1": "C1:LOSE" }
                """, 2);
        assertThat(m.dealTitle("A-5", 5)).isEqualTo("Shop s2 order A-5 (id 5)");
        assertThat(m.dealTitle(null, 6)).isEqualTo("Shop s2 order 6 (id 6)");
        assertThat(m.orderCreatingPipelines()).containsExactly(1L);
        assertThat(m.cancelledStage(1)).contains("C1:LOSE");
        assertThat(m.contactOwner()).isTrue();
        assertThat(m.defaultPaySystem()).isEqualTo(4);
    }

    @Test
    void defaultTitleFallsBackToTheOrderId() throws Exception {
        CompiledMapping m = CompiledMapping.compile(sample(), 1);
        assertThat(m.dealTitle(null, 42)).isEqualTo("Order #42");
        assertThat(m.dealTitle(" ", 42)).isEqualTo("Order #42");
    }

    @Test
    void compilingAnIncompleteHandBuiltDocumentNamesTheMissingPart() {
        MappingDocument doc = new MappingDocument("s1", null, Map.of(), null, Map.of(), null,
                new MappingDocument.Deal(null), new MappingDocument.DealToOrder(List.of()), Map.of(), new MappingDocument.Deals(null));
        assertThatThrownBy(() -> CompiledMapping.compile(doc, 1))
                .isInstanceOf(MappingInvalidException.class)
                .hasMessageContaining("pipelines: is required")
                .hasMessageContaining("payment: is required");
    }

    @Test
    void yamlBooleansAreNotTakenForStatusIds() {
        // YAML 1.1 reads unquoted Y/N/yes/no as booleans in some parsers; N must stay the status "N"
        CompiledMapping m = CompiledMapping.compile("""
                site: s1
                pipelines: { default: 0 }
                stages:
                  "0": [ { stage: NEW, status: N }, { stage: WON, status: Y }, { stage: LOSE, status: 1 } ]
                responsible: { default: 1 }
                payment: { default: 1 }
                """, 1);
        assertThat(m.stageFor(0, "N")).contains("NEW");
        assertThat(m.stageFor(0, "Y")).contains("WON");
        assertThat(m.stageFor(0, "1")).contains("LOSE");
    }
}
