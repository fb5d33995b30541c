package org.dealbridge.mapping;

import static org.dealbridge.mapping.DocumentPath.field;
import static org.dealbridge.mapping.DocumentPath.index;
import static org.dealbridge.mapping.DocumentPath.key;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Offline checks of a mapping document: everything that can be decided without the CRM or the store.
 * Live checks (do these ids exist?) are in {@link LiveMappingValidator}.
 */
public final class MappingValidator {

    /** Order fields a deal custom field can be filled from ({@code dealFields} keys). */
    public static final List<String> ORDER_FIELDS = List.of("orderId", "accountNumber", "siteId", "statusId",
            "canceled", "paid", "currency", "price", "paySystemId", "xmlId");

    /** Placeholders a deal title template may use. */
    public static final List<String> TITLE_PLACEHOLDERS = List.of("accountNumber", "orderId", "siteId");

    private static final Pattern SITE_ID = Pattern.compile("[A-Za-z0-9_-]+");
    private static final Pattern PIPELINE_KEY = Pattern.compile("0|[1-9][0-9]{0,17}");
    private static final Pattern STAGE_PREFIX = Pattern.compile("C([0-9]+):(.*)");
    private static final Pattern DEAL_CUSTOM_FIELD = Pattern.compile("UF_CRM_[A-Z0-9_]+");
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{([^{}]*)}");

    private final List<MappingError> errors = new ArrayList<>();

    private MappingValidator() {
    }

    /** Every error of a parsed document (empty when it is valid). Tolerates the nulls the parser leaves. */
    public static List<MappingError> validate(MappingDocument document) {
        MappingValidator validator = new MappingValidator();
        validator.check(document);
        return List.copyOf(validator.errors);
    }

    /**
     * Required parts that are null. The parser reports these itself (with the offending value), so this matters
     * only for documents built in code; compiling such a document must fail with a path, not a NullPointerException.
     */
    static List<MappingError> missingParts(MappingDocument doc) {
        List<MappingError> missing = new ArrayList<>();
        java.util.function.BiConsumer<Object, String> require = (value, path) -> {
            if (value == null) {
                missing.add(new MappingError(path, null, "is required"));
            }
        };
        require.accept(doc.site(), "site");
        require.accept(doc.pipelines(), "pipelines");
        if (doc.pipelines() != null) {
            require.accept(doc.pipelines().defaultPipeline(), "pipelines.default");
            require.accept(doc.pipelines().bySection(), "pipelines.bySection");
            if (doc.pipelines().bySection() != null) {
                for (int i = 0; i < doc.pipelines().bySection().size(); i++) {
                    MappingDocument.SectionPipeline rule = doc.pipelines().bySection().get(i);
                    String path = index("pipelines.bySection", i);
                    require.accept(rule, path);
                    if (rule != null) {
                        require.accept(rule.section(), field(path, "section"));
                        require.accept(rule.pipeline(), field(path, "pipeline"));
                    }
                }
            }
        }
        require.accept(doc.stages(), "stages");
        if (doc.stages() != null) {
            doc.stages().forEach((pipeline, pairs) -> {
                String path = key("stages", pipeline);
                require.accept(pairs, path);
                if (pairs != null) {
                    for (int i = 0; i < pairs.size(); i++) {
                        MappingDocument.StagePair pair = pairs.get(i);
                        require.accept(pair, index(path, i));
                        if (pair != null) {
                            require.accept(pair.stage(), field(index(path, i), "stage"));
                            require.accept(pair.status(), field(index(path, i), "status"));
                        }
                    }
                }
            });
        }
        require.accept(doc.responsible(), "responsible");
        if (doc.responsible() != null) {
            require.accept(doc.responsible().defaultUser(), "responsible.default");
            require.accept(doc.responsible().byPipeline(), "responsible.byPipeline");
            require.accept(doc.responsible().contactOwner(), "responsible.contactOwner");
            if (doc.responsible().byPipeline() != null) {
                doc.responsible().byPipeline().forEach((k, v) -> require.accept(v, key("responsible.byPipeline", k)));
            }
        }
        require.accept(doc.dealFields(), "dealFields");
        if (doc.dealFields() != null) {
            doc.dealFields().forEach((k, v) -> require.accept(v, field("dealFields", k)));
        }
        require.accept(doc.payment(), "payment");
        if (doc.payment() != null) {
            require.accept(doc.payment().defaultPaySystem(), "payment.default");
        }
        require.accept(doc.deal(), "deal");
        require.accept(doc.dealToOrder(), "dealToOrder");
        if (doc.dealToOrder() != null) {
            require.accept(doc.dealToOrder().pipelines(), "dealToOrder.pipelines");
            if (doc.dealToOrder().pipelines() != null) {
                for (int i = 0; i < doc.dealToOrder().pipelines().size(); i++) {
                    require.accept(doc.dealToOrder().pipelines().get(i), index("dealToOrder.pipelines", i));
                }
            }
        }
        require.accept(doc.cancelled(), "cancelled");
        if (doc.cancelled() != null) {
            doc.cancelled().forEach((k, v) -> require.accept(v, key("cancelled", k)));
        }
        return missing;
    }

    /** Every error of a document text: its shape first, then its meaning as far as it could be read. */
    public static List<MappingError> validate(String yaml) {
        MappingDocumentReader.Result read = MappingDocumentReader.readLeniently(yaml);
        List<MappingError> all = new ArrayList<>(read.errors());
        if (read.document() != null) {
            all.addAll(validate(read.document()));
        }
        return List.copyOf(all);
    }

    /** Parses and validates, throwing every error at once. */
    public static MappingDocument parseValid(String yaml) {
        MappingDocumentReader.Result read = MappingDocumentReader.readLeniently(yaml);  // parsed once
        List<MappingError> all = new ArrayList<>(read.errors());
        if (read.document() != null) {
            all.addAll(validate(read.document()));
        }
        if (!all.isEmpty()) {
            throw new MappingInvalidException(all);
        }
        return read.document();
    }

    private void check(MappingDocument doc) {
        checkSite(doc.site());
        Set<Long> reachable = new LinkedHashSet<>();
        Map<Long, String> referencedAt = new HashMap<>();
        checkPipelines(doc.pipelines(), reachable, referencedAt);
        Map<Long, List<MappingDocument.StagePair>> tables = checkStages(doc.stages());
        checkResponsible(doc.responsible(), reachable, referencedAt);
        checkDealFields(doc.dealFields());
        checkPayment(doc.payment());
        checkDealTitle(doc.deal());
        checkDealToOrder(doc.dealToOrder(), reachable, referencedAt);
        checkCancelled(doc.cancelled(), reachable, referencedAt);
        // The seed requires a mapping for every pipeline an order can land in or a rule names.
        for (Long pipeline : reachable) {
            if (!tables.containsKey(pipeline)) {
                errors.add(new MappingError(key("stages", pipeline.toString()), null,
                        "pipeline " + pipeline + " is used by " + referencedAt.get(pipeline)
                                + " but has no stage table"));
            }
        }
    }

    private void checkSite(String site) {
        if (site != null && !SITE_ID.matcher(site).matches()) {
            errors.add(new MappingError("site", site, "a site id is letters, digits, '_' or '-' (e.g. s1)"));
        }
    }

    private void checkPipelines(MappingDocument.Pipelines pipelines, Set<Long> reachable, Map<Long, String> at) {
        if (pipelines == null) {
            return;
        }
        String path = "pipelines";
        reference(pipelines.defaultPipeline(), field(path, "default"), reachable, at);
        Map<Long, String> sections = new HashMap<>();
        List<MappingDocument.SectionPipeline> bySection = pipelines.bySection();
        for (int i = 0; i < bySection.size(); i++) {
            MappingDocument.SectionPipeline rule = bySection.get(i);
            if (rule == null) {
                continue;
            }
            String rulePath = index(field(path, "bySection"), i);
            Long section = rule.section();
            if (section != null) {
                String sectionPath = field(rulePath, "section");
                if (section <= 0) {
                    errors.add(new MappingError(sectionPath, section.toString(), "a section id is positive"));
                } else {
                    String first = sections.putIfAbsent(section, sectionPath);
                    if (first != null) {
                        errors.add(new MappingError(sectionPath, section.toString(),
                                "section listed twice; first at " + first));
                    }
                }
            }
            reference(rule.pipeline(), field(rulePath, "pipeline"), reachable, at);
        }
    }

    private void reference(Long pipeline, String path, Set<Long> reachable, Map<Long, String> at) {
        if (pipeline == null) {
            return;
        }
        if (pipeline < 0) {
            errors.add(new MappingError(path, pipeline.toString(), "a pipeline id is 0 (the default pipeline) or positive"));
            return;
        }
        reachable.add(pipeline);
        at.putIfAbsent(pipeline, path);
    }

    /** Parses a pipeline key ("2"), reporting a key that is not a pipeline id; null when it is not one. */
    private Long pipelineKey(String key, String parent) {
        if (!PIPELINE_KEY.matcher(key).matches()) {
            errors.add(new MappingError(key(parent, key), key,
                    "a pipeline id is a whole number written without sign or leading zeros (0 is the default pipeline)"));
            return null;
        }
        return Long.parseLong(key);
    }

    private Map<Long, List<MappingDocument.StagePair>> checkStages(Map<String, List<MappingDocument.StagePair>> stages) {
        Map<Long, List<MappingDocument.StagePair>> tables = new LinkedHashMap<>();
        for (Map.Entry<String, List<MappingDocument.StagePair>> table : stages.entrySet()) {
            String tablePath = key("stages", table.getKey());
            Long pipeline = pipelineKey(table.getKey(), "stages");
            List<MappingDocument.StagePair> pairs = table.getValue();
            if (pipeline == null || pairs == null) {
                continue;
            }
            tables.put(pipeline, pairs);
            if (pairs.isEmpty()) {
                errors.add(new MappingError(tablePath, null,
                        "a stage table needs at least one stage/status pair; without one nothing in pipeline "
                                + pipeline + " would sync"));
            }
            Map<String, String> statusSeenAt = new HashMap<>();
            for (int i = 0; i < pairs.size(); i++) {
                MappingDocument.StagePair pair = pairs.get(i);
                if (pair == null) {
                    continue;
                }
                String pairPath = index(tablePath, i);
                if (pair.stage() != null) {
                    checkStageId(pipeline, pair.stage(), field(pairPath, "stage"));
                }
                String status = pair.status();
                if (status != null) {
                    String statusPath = field(pairPath, "status");
                    if (status.isBlank()) {
                        errors.add(new MappingError(statusPath, status, "a status id is not blank"));
                        continue;
                    }
                    // Within a pipeline a status maps to at most one stage, else order -> deal is ambiguous.
                    String first = statusSeenAt.putIfAbsent(status, pairPath);
                    if (first != null) {
                        errors.add(new MappingError(statusPath, status, "status mapped twice in pipeline " + pipeline
                                + "; first at " + first + " (a status maps to one stage per pipeline)"));
                    }
                }
            }
        }
        return tables;
    }

    /** Stage ids of pipeline n are "C{n}:..."; those of the default pipeline 0 carry no prefix. */
    private void checkStageId(long pipeline, String stage, String path) {
        if (stage.isBlank()) {
            errors.add(new MappingError(path, stage, "a stage id is not blank"));
            return;
        }
        Matcher prefixed = STAGE_PREFIX.matcher(stage);
        if (pipeline == 0) {
            if (prefixed.matches()) {
                errors.add(new MappingError(path, stage, "stages of the default pipeline 0 have no C{n}: prefix; "
                        + "this one belongs to pipeline " + prefixed.group(1)));
            }
        } else if (!prefixed.matches() || !prefixed.group(1).equals(Long.toString(pipeline))) {
            errors.add(new MappingError(path, stage, "stages of pipeline " + pipeline + " are written C" + pipeline
                    + ":<id>" + (prefixed.matches() ? "; this one belongs to pipeline " + prefixed.group(1) : "")));
        } else if (prefixed.group(2).isEmpty()) {
            errors.add(new MappingError(path, stage, "the stage id after C" + pipeline + ": is missing"));
        }
    }

    private void checkResponsible(MappingDocument.Responsible responsible, Set<Long> reachable, Map<Long, String> at) {
        if (responsible == null) {
            return;
        }
        checkUser(responsible.defaultUser(), "responsible.default");
        String byPipeline = "responsible.byPipeline";
        for (Map.Entry<String, Long> entry : responsible.byPipeline().entrySet()) {
            Long pipeline = pipelineKey(entry.getKey(), byPipeline);
            if (pipeline != null) {
                reference(pipeline, key(byPipeline, entry.getKey()), reachable, at);
            }
            checkUser(entry.getValue(), key(byPipeline, entry.getKey()));
        }
    }

    private void checkUser(Long user, String path) {
        if (user != null && user <= 0) {
            errors.add(new MappingError(path, user.toString(), "a user id is positive"));
        }
    }

    private void checkDealFields(Map<String, String> dealFields) {
        Map<String, String> fieldSeenAt = new HashMap<>();
        for (Map.Entry<String, String> entry : dealFields.entrySet()) {
            String path = field("dealFields", entry.getKey());
            if (!ORDER_FIELDS.contains(entry.getKey())) {
                errors.add(new MappingError(path, null, "unknown order field; known: " + ORDER_FIELDS));
            }
            String customField = entry.getValue();
            if (customField == null) {
                continue;
            }
            if (!DEAL_CUSTOM_FIELD.matcher(customField).matches()) {
                errors.add(new MappingError(path, customField,
                        "a deal custom field name is UF_CRM_ followed by capital letters, digits or '_'"));
                continue;
            }
            String first = fieldSeenAt.putIfAbsent(customField, path);
            if (first != null) {
                errors.add(new MappingError(path, customField, "deal field already filled by " + first));
            }
        }
    }

    private void checkPayment(MappingDocument.Payment payment) {
        if (payment != null && payment.defaultPaySystem() != null && payment.defaultPaySystem() <= 0) {
            errors.add(new MappingError("payment.default", payment.defaultPaySystem().toString(),
                    "a pay system id is positive"));
        }
    }

    private void checkDealTitle(MappingDocument.Deal deal) {
        String title = deal.title();
        if (title == null) {
            return;
        }
        if (title.isBlank()) {
            errors.add(new MappingError("deal.title", title, "a deal title is not blank"));
            return;
        }
        Matcher placeholder = PLACEHOLDER.matcher(title);
        while (placeholder.find()) {
            if (!TITLE_PLACEHOLDERS.contains(placeholder.group(1))) {
                errors.add(new MappingError("deal.title", title, "unknown placeholder {" + placeholder.group(1)
                        + "}; known: " + TITLE_PLACEHOLDERS.stream().map(p -> "{" + p + "}").toList()));
            }
        }
    }

    private void checkDealToOrder(MappingDocument.DealToOrder dealToOrder, Set<Long> reachable, Map<Long, String> at) {
        Set<Long> seen = new HashSet<>();
        List<Long> pipelines = dealToOrder.pipelines();
        for (int i = 0; i < pipelines.size(); i++) {
            Long pipeline = pipelines.get(i);
            String path = index("dealToOrder.pipelines", i);
            if (pipeline != null && !seen.add(pipeline)) {
                errors.add(new MappingError(path, pipeline.toString(), "pipeline listed twice"));
            }
            reference(pipeline, path, reachable, at);
        }
    }

    private void checkCancelled(Map<String, String> cancelled, Set<Long> reachable, Map<Long, String> at) {
        for (Map.Entry<String, String> entry : cancelled.entrySet()) {
            String path = key("cancelled", entry.getKey());
            Long pipeline = pipelineKey(entry.getKey(), "cancelled");
            if (pipeline == null) {
                continue;
            }
            reference(pipeline, path, reachable, at);
            if (entry.getValue() != null) {
                checkStageId(pipeline, entry.getValue(), path);
            }
        }
    }
}
