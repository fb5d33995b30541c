package org.dealbridge.mapping;

import java.util.List;
import java.util.Map;

/**
 * A site's mapping document as written by the admin (see MAPPING.md for every key).
 *
 * <p>This is the document <em>as parsed</em>: a value that had the wrong type is null here (the parser has already
 * reported it), map keys are kept exactly as written so errors can name them, and lists keep their order and
 * indices. Use {@link #parse(String)} to read one and {@link MappingValidator} to check its meaning;
 * {@link CompiledMapping#compile} does both and gives the lookups the projectors use.
 */
public record MappingDocument(
        String site,
        Pipelines pipelines,
        Map<String, List<StagePair>> stages,
        Responsible responsible,
        Map<String, String> dealFields,
        Payment payment,
        Deal deal,
        DealToOrder dealToOrder,
        Map<String, String> cancelled,
        Deals deals) {

    /** Default deal title when the document has no {@code deal.title}. */
    public static final String DEFAULT_DEAL_TITLE = "Order #{accountNumber}";

    /** {@code pipelines}: the default pipeline and catalog section rules. */
    public record Pipelines(Long defaultPipeline, List<SectionPipeline> bySection) {
    }

    /** {@code pipelines.bySection[i]}: orders with products in this section (or below it) go to this pipeline. */
    public record SectionPipeline(Long section, Long pipeline) {
    }

    /** {@code stages."n"[i]}: a deal stage and a store status that stand for each other. */
    public record StagePair(String stage, String status) {
    }

    /** {@code responsible}: who is assigned new deals. */
    public record Responsible(Long defaultUser, Map<String, Long> byPipeline, Boolean contactOwner) {
    }

    /** {@code payment}: settings for orders created from deals. */
    public record Payment(Long defaultPaySystem) {
    }

    /** {@code deal}: how new deals look. {@code title} null means {@link #DEFAULT_DEAL_TITLE}. */
    public record Deal(String title) {
    }

    /** What a deal deleted in the CRM means for its order's later changes. */
    public enum OnDeleted {
        /** The order stays without a deal (the default): a manager who deletes a deal means it. */
        UNLINK,
        /** The order's next change creates a new deal. */
        RECREATE
    }

    /** {@code deals}: the life of linked deals. {@code onDeleted} null means {@link OnDeleted#UNLINK}. */
    public record Deals(OnDeleted onDeleted) {
    }

    /** {@code dealToOrder}: pipelines whose deals may create store orders; empty means none. */
    public record DealToOrder(List<Long> pipelines) {
    }

    /** Reads a YAML document, rejecting unknown keys and wrongly typed values with their paths. */
    public static MappingDocument parse(String yaml) {
        return MappingDocumentReader.read(yaml);
    }
}
