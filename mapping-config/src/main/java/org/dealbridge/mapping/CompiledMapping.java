package org.dealbridge.mapping;

import java.math.BigDecimal;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.dealbridge.schemas.BasketItem;

/**
 * One valid version of a site's mapping, compiled into the lookups the projectors use on every record.
 * Immutable and thread-safe; build it with {@link #compile(MappingDocument, long)}.
 *
 * <p>Semantics (see MAPPING.md): within a pipeline a status maps to at most one stage; a stage may be mapped from
 * several statuses and the first pair listed for it gives its status for deal -> order; a status or stage without a
 * pair means "do not sync".
 */
public final class CompiledMapping implements PairDecision.Translation {

    private final String siteId;
    private final long version;
    private final long defaultPipeline;
    private final Map<Long, Long> pipelineBySection;
    private final Map<Long, Map<String, String>> stageByStatus;
    private final Map<Long, Map<String, String>> statusByStage;
    private final long defaultResponsible;
    private final Map<Long, Long> responsibleByPipeline;
    private final boolean contactOwner;
    private final Map<String, String> dealFields;
    private final String dealTitleTemplate;
    private final MappingDocument.OnDeleted onDeleted;
    private final Set<Long> orderCreatingPipelines;
    private final Map<Long, String> cancelledStages;
    private final long defaultPaySystem;

    private CompiledMapping(MappingDocument doc, long version) {
        this.siteId = doc.site();
        this.version = version;
        this.defaultPipeline = doc.pipelines().defaultPipeline();
        Map<Long, Long> bySection = new HashMap<>();
        doc.pipelines().bySection().forEach(rule -> bySection.put(rule.section(), rule.pipeline()));
        this.pipelineBySection = Map.copyOf(bySection);

        Map<Long, Map<String, String>> stages = new HashMap<>();
        Map<Long, Map<String, String>> statuses = new HashMap<>();
        doc.stages().forEach((key, pairs) -> {
            Map<String, String> stageOf = new HashMap<>();
            Map<String, String> statusOf = new HashMap<>();
            for (MappingDocument.StagePair pair : pairs) {
                stageOf.put(pair.status(), pair.stage());
                statusOf.putIfAbsent(pair.stage(), pair.status());  // the first pair listed for a stage wins
            }
            stages.put(Long.parseLong(key), Map.copyOf(stageOf));
            statuses.put(Long.parseLong(key), Map.copyOf(statusOf));
        });
        this.stageByStatus = Map.copyOf(stages);
        this.statusByStage = Map.copyOf(statuses);

        this.defaultResponsible = doc.responsible().defaultUser();
        Map<Long, Long> byPipeline = new HashMap<>();
        doc.responsible().byPipeline().forEach((key, user) -> byPipeline.put(Long.parseLong(key), user));
        this.responsibleByPipeline = Map.copyOf(byPipeline);
        this.contactOwner = doc.responsible().contactOwner();
        this.dealFields = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(doc.dealFields()));
        this.dealTitleTemplate = doc.deal().title() == null ? MappingDocument.DEFAULT_DEAL_TITLE : doc.deal().title();
        this.orderCreatingPipelines = java.util.Collections.unmodifiableSet(
                new LinkedHashSet<>(doc.dealToOrder().pipelines()));
        Map<Long, String> cancelled = new HashMap<>();
        doc.cancelled().forEach((key, stage) -> cancelled.put(Long.parseLong(key), stage));
        this.cancelledStages = Map.copyOf(cancelled);
        this.defaultPaySystem = doc.payment().defaultPaySystem();
        this.onDeleted = doc.deals() == null || doc.deals().onDeleted() == null
                ? MappingDocument.OnDeleted.UNLINK : doc.deals().onDeleted();
    }

    /**
     * Validates and compiles a parsed document.
     *
     * @throws MappingInvalidException with every error, when the document is not valid
     */
    public static CompiledMapping compile(MappingDocument doc, long version) {
        Objects.requireNonNull(doc, "doc");
        List<MappingError> missing = MappingValidator.missingParts(doc);
        if (!missing.isEmpty()) {
            throw new MappingInvalidException(missing);
        }
        List<MappingError> errors = MappingValidator.validate(doc);
        if (!errors.isEmpty()) {
            throw new MappingInvalidException(errors);
        }
        return new CompiledMapping(doc, version);
    }

    /** Parses, validates and compiles a document text. */
    public static CompiledMapping compile(String yaml, long version) {
        return compile(MappingValidator.parseValid(yaml), version);
    }

    public String siteId() {
        return siteId;
    }

    public long version() {
        return version;
    }

    /**
     * The pipeline an order with these basket lines goes to. Each line is placed by the nearest mapped section on its
     * path (leaf first); when lines land in different pipelines the line with the largest total (price x quantity)
     * decides, ties going to the earlier line; when no line is placed, {@code pipelines.default}.
     *
     * @throws IllegalArgumentException when a placed line has a price or quantity that is not a decimal number
     */
    public long pipelineFor(List<BasketItem> items) {
        Long chosen = null;
        BigDecimal largestTotal = null;
        for (BasketItem item : items) {
            Long pipeline = pipelineOfSectionPath(item.getSectionPath());
            if (pipeline == null) {
                continue;
            }
            BigDecimal total = decimal(item, "price", item.getPrice()).multiply(decimal(item, "quantity", item.getQuantity()));
            if (largestTotal == null || total.compareTo(largestTotal) > 0) {  // strictly larger: ties keep basket order
                chosen = pipeline;
                largestTotal = total;
            }
        }
        return chosen == null ? defaultPipeline : chosen;
    }

    /** The pipeline of the nearest mapped section on a root-to-leaf section path; null when none is mapped. */
    public Long pipelineOfSectionPath(List<Long> sectionPath) {
        for (int i = sectionPath.size() - 1; i >= 0; i--) {
            Long pipeline = pipelineBySection.get(sectionPath.get(i));
            if (pipeline != null) {
                return pipeline;
            }
        }
        return null;
    }

    private static BigDecimal decimal(BasketItem item, String field, CharSequence value) {
        try {
            return new BigDecimal(value.toString().trim());
        } catch (NumberFormatException | NullPointerException e) {
            throw new IllegalArgumentException("basket line of product " + item.getProductId() + " has " + field
                    + " = \"" + value + "\", not a decimal number", e);
        }
    }

    /** The stage for an order status in a pipeline; empty when the status is not mapped there ("do not sync"). */
    @Override
    public Optional<String> stageFor(long pipeline, String statusId) {
        return Optional.ofNullable(stageByStatus.getOrDefault(pipeline, Map.of()).get(statusId));
    }

    /** The status for a deal stage: the first pair listed for that stage; empty when the stage is not mapped. */
    @Override
    public Optional<String> statusFor(long pipeline, String stageId) {
        return Optional.ofNullable(statusByStage.getOrDefault(pipeline, Map.of()).get(stageId));
    }

    /** True when the status maps to this stage in this pipeline (any of a stage's statuses is consistent with it). */
    @Override
    public boolean isConsistent(long pipeline, String stageId, String statusId) {
        return stageId != null && stageId.equals(stageByStatus.getOrDefault(pipeline, Map.of()).get(statusId));
    }

    /** True when the document has a stage table for the pipeline. */
    public boolean hasPipeline(long pipeline) {
        return stageByStatus.containsKey(pipeline);
    }

    /** Pipelines with a stage table. */
    public Set<Long> pipelines() {
        return stageByStatus.keySet();
    }

    /** The user new deals of this pipeline are assigned to: {@code responsible.byPipeline}, else the default. */
    public long responsibleFor(long pipeline) {
        return responsibleByPipeline.getOrDefault(pipeline, defaultResponsible);
    }

    /** When true, a deal whose contact already has an owner is assigned to that owner instead. */
    public boolean contactOwner() {
        return contactOwner;
    }

    /** Order field name (see {@link MappingValidator#ORDER_FIELDS}) -> deal custom field {@code UF_CRM_*}, in document order. */
    public Map<String, String> dealFields() {
        return dealFields;
    }

    /** The title template as configured (or the default). */
    public String dealTitleTemplate() {
        return dealTitleTemplate;
    }

    /**
     * The title of a new deal. {@code {accountNumber}} falls back to the order id when the order has no account
     * number, so a title is never left with a hole.
     */
    public String dealTitle(String accountNumber, long orderId) {
        String number = accountNumber == null || accountNumber.isBlank() ? Long.toString(orderId) : accountNumber;
        return dealTitleTemplate
                .replace("{accountNumber}", number)
                .replace("{orderId}", Long.toString(orderId))
                .replace("{siteId}", siteId);
    }

    /** Pipelines whose deals may create store orders ({@code dealToOrder.pipelines}); empty when none may. */
    public Set<Long> orderCreatingPipelines() {
        return orderCreatingPipelines;
    }

    /**
     * The stage a cancelled order's deal is moved to in this pipeline ({@code cancelled}); empty when cancelling is
     * not mapped there, and the deal then follows the order's status like any other.
     */
    public Optional<String> cancelledStage(long pipeline) {
        return Optional.ofNullable(cancelledStages.get(pipeline));
    }

    /** What a deal deleted in the CRM means for its order's later changes ({@code deals.onDeleted}, default unlink). */
    public MappingDocument.OnDeleted onDeleted() {
        return onDeleted;
    }

    /** The pay system of orders created from deals ({@code payment.default}). */
    public long defaultPaySystem() {
        return defaultPaySystem;
    }

    @Override
    public String toString() {
        return "CompiledMapping{site=" + siteId + ", version=" + version + "}";
    }
}
