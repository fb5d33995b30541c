package org.dealbridge.mapping;

import static org.dealbridge.mapping.DocumentPath.field;
import static org.dealbridge.mapping.DocumentPath.index;
import static org.dealbridge.mapping.DocumentPath.key;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * Turns YAML text into a {@link MappingDocument}, walking the tree by hand so that every unknown key and every
 * wrongly typed value is reported with its path, all at once, instead of failing on the first like data binding does.
 */
final class MappingDocumentReader {

    /** Where errors about the document as a whole point. */
    static final String WHOLE_DOCUMENT = "(document)";

    // Duplicate keys would otherwise silently keep the last one: a stage table written twice must be an error.
    private static final YAMLMapper YAML = YAMLMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private static final Set<String> ROOT_KEYS = Set.of("site", "pipelines", "stages", "responsible", "dealFields",
            "payment", "deal", "deals", "dealToOrder", "cancelled");

    /** The document as far as it could be read, and what was wrong with its shape. */
    record Result(MappingDocument document, List<MappingError> errors) {
    }

    private final List<MappingError> errors = new ArrayList<>();

    private MappingDocumentReader() {
    }

    static MappingDocument read(String yaml) {
        Result result = readLeniently(yaml);
        if (!result.errors().isEmpty()) {
            throw new MappingInvalidException(result.errors());
        }
        return result.document();
    }

    /** Reads what can be read; the document is null only when the text is not a YAML mapping at all. */
    static Result readLeniently(String yaml) {
        JsonNode root;
        try {
            root = YAML.readTree(yaml == null ? "" : yaml);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
            return new Result(null, List.of(new MappingError(WHOLE_DOCUMENT, null,
                    "not valid YAML: " + e.getOriginalMessage() + where)));
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            return new Result(null, List.of(new MappingError(WHOLE_DOCUMENT, null, "the document is empty")));
        }
        if (!root.isObject()) {
            return new Result(null, List.of(new MappingError(WHOLE_DOCUMENT, shown(root),
                    "must be a mapping with the keys " + sorted(ROOT_KEYS))));
        }
        MappingDocumentReader reader = new MappingDocumentReader();
        MappingDocument document = reader.document(root);
        return new Result(document, List.copyOf(reader.errors));
    }

    private MappingDocument document(JsonNode root) {
        checkKeys(root, "", ROOT_KEYS);
        String site = requiredText(root.get("site"), "site");
        return new MappingDocument(
                site,
                pipelines(root.get("pipelines")),
                stages(root.get("stages")),
                responsible(root.get("responsible")),
                dealFields(root.get("dealFields")),
                payment(root.get("payment")),
                deal(root.get("deal")),
                dealToOrder(root.get("dealToOrder")),
                idMap(root.get("cancelled"), "cancelled", this::text),
                deals(root.get("deals")));
    }

    private MappingDocument.Pipelines pipelines(JsonNode node) {
        String path = "pipelines";
        if (!requiredObject(node, path, Set.of("default", "bySection"))) {
            return null;
        }
        Long defaultPipeline = requiredInteger(node.get("default"), field(path, "default"));
        List<MappingDocument.SectionPipeline> bySection = list(node.get("bySection"), field(path, "bySection"),
                (item, itemPath) -> {
                    if (!object(item, itemPath, Set.of("section", "pipeline"))) {
                        return new MappingDocument.SectionPipeline(null, null);
                    }
                    return new MappingDocument.SectionPipeline(
                            requiredInteger(item.get("section"), field(itemPath, "section")),
                            requiredInteger(item.get("pipeline"), field(itemPath, "pipeline")));
                });
        return new MappingDocument.Pipelines(defaultPipeline, bySection);
    }

    private Map<String, List<MappingDocument.StagePair>> stages(JsonNode node) {
        String path = "stages";
        if (absent(node)) {
            errors.add(new MappingError(path, null, "is required: a table of stage/status pairs per pipeline"));
            return Map.of();
        }
        return idMap(node, path, (table, tablePath) -> list(table, tablePath, (pair, pairPath) -> {
            if (!object(pair, pairPath, Set.of("stage", "status"))) {
                return new MappingDocument.StagePair(null, null);
            }
            return new MappingDocument.StagePair(
                    requiredText(pair.get("stage"), field(pairPath, "stage")),
                    requiredText(pair.get("status"), field(pairPath, "status")));
        }));
    }

    private MappingDocument.Responsible responsible(JsonNode node) {
        String path = "responsible";
        if (!requiredObject(node, path, Set.of("default", "byPipeline", "contactOwner"))) {
            return null;
        }
        Long defaultUser = requiredInteger(node.get("default"), field(path, "default"));
        Map<String, Long> byPipeline = idMap(node.get("byPipeline"), field(path, "byPipeline"), this::integer);
        JsonNode owner = node.get("contactOwner");
        Boolean contactOwner = Boolean.FALSE;
        if (!absent(owner)) {
            if (owner.isBoolean()) {
                contactOwner = owner.booleanValue();
            } else {
                errors.add(new MappingError(field(path, "contactOwner"), shown(owner), "expected true or false"));
                contactOwner = null;
            }
        }
        return new MappingDocument.Responsible(defaultUser, byPipeline, contactOwner);
    }

    private Map<String, String> dealFields(JsonNode node) {
        String path = "dealFields";
        if (absent(node)) {
            return Map.of();
        }
        if (!node.isObject()) {
            errors.add(new MappingError(path, shown(node), "expected a mapping of order field to UF_CRM_ field"));
            return Map.of();
        }
        Map<String, String> fields = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            fields.put(entry.getKey(), requiredText(entry.getValue(), field(path, entry.getKey())));
        }
        return fields;
    }

    private MappingDocument.Payment payment(JsonNode node) {
        String path = "payment";
        if (!requiredObject(node, path, Set.of("default"))) {
            return null;
        }
        return new MappingDocument.Payment(requiredInteger(node.get("default"), field(path, "default")));
    }

    private MappingDocument.Deal deal(JsonNode node) {
        String path = "deal";
        if (absent(node) || !object(node, path, Set.of("title"))) {
            return new MappingDocument.Deal(null);
        }
        JsonNode title = node.get("title");
        return new MappingDocument.Deal(absent(title) ? null : text(title, field(path, "title")));
    }

    private MappingDocument.Deals deals(JsonNode node) {
        String path = "deals";
        if (absent(node) || !object(node, path, Set.of("onDeleted"))) {
            return new MappingDocument.Deals(null);
        }
        JsonNode onDeleted = node.get("onDeleted");
        if (absent(onDeleted)) {
            return new MappingDocument.Deals(null);
        }
        String value = text(onDeleted, field(path, "onDeleted"));
        if (value == null) {
            return new MappingDocument.Deals(null);
        }
        switch (value) {
            case "unlink":
                return new MappingDocument.Deals(MappingDocument.OnDeleted.UNLINK);
            case "recreate":
                return new MappingDocument.Deals(MappingDocument.OnDeleted.RECREATE);
            default:
                errors.add(new MappingError(field(path, "onDeleted"), value, "must be unlink or recreate"));
                return new MappingDocument.Deals(null);
        }
    }

    private MappingDocument.DealToOrder dealToOrder(JsonNode node) {
        String path = "dealToOrder";
        if (absent(node) || !object(node, path, Set.of("pipelines"))) {
            return new MappingDocument.DealToOrder(List.of());
        }
        return new MappingDocument.DealToOrder(list(node.get("pipelines"), field(path, "pipelines"), this::integer));
    }

    // ---- generic pieces -------------------------------------------------------------------------------------

    private static boolean absent(JsonNode node) {
        return node == null || node.isMissingNode() || node.isNull();
    }

    private boolean requiredObject(JsonNode node, String path, Set<String> keys) {
        if (absent(node)) {
            errors.add(new MappingError(path, null, "is required"));
            return false;
        }
        return object(node, path, keys);
    }

    private boolean object(JsonNode node, String path, Set<String> keys) {
        if (!node.isObject()) {
            errors.add(new MappingError(path, shown(node), "expected a mapping with the keys " + sorted(keys)));
            return false;
        }
        checkKeys(node, path, keys);
        return true;
    }

    private void checkKeys(JsonNode node, String path, Set<String> keys) {
        node.fieldNames().forEachRemaining(name -> {
            if (!keys.contains(name)) {
                errors.add(new MappingError(field(path, name), null, "unknown key; expected one of " + sorted(keys)));
            }
        });
    }

    /** A map keyed by pipeline id; keys are kept as written and checked by the validator. */
    private <T> Map<String, T> idMap(JsonNode node, String path, BiFunction<JsonNode, String, T> value) {
        if (absent(node)) {
            return Map.of();
        }
        if (!node.isObject()) {
            errors.add(new MappingError(path, shown(node), "expected a mapping keyed by pipeline id"));
            return Map.of();
        }
        Map<String, T> result = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            String entryPath = key(path, entry.getKey());
            if (absent(entry.getValue())) {
                errors.add(new MappingError(entryPath, null, "has no value"));
            }
            result.put(entry.getKey(), absent(entry.getValue()) ? null : value.apply(entry.getValue(), entryPath));
        }
        return result;
    }

    private <T> List<T> list(JsonNode node, String path, BiFunction<JsonNode, String, T> item) {
        if (absent(node)) {
            return List.of();
        }
        if (!node.isArray()) {
            errors.add(new MappingError(path, shown(node), "expected a list"));
            return List.of();
        }
        List<T> result = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            String itemPath = index(path, i);
            JsonNode element = node.get(i);
            if (absent(element)) {
                errors.add(new MappingError(itemPath, null, "is empty"));
                result.add(null);
            } else {
                result.add(item.apply(element, itemPath));
            }
        }
        return result;
    }

    private Long requiredInteger(JsonNode node, String path) {
        if (absent(node)) {
            errors.add(new MappingError(path, null, "is required"));
            return null;
        }
        return integer(node, path);
    }

    private Long integer(JsonNode node, String path) {
        if (node.isIntegralNumber() && node.canConvertToLong()) {
            return node.longValue();
        }
        errors.add(new MappingError(path, shown(node), "expected a whole number (an id)"));
        return null;
    }

    private String requiredText(JsonNode node, String path) {
        if (absent(node)) {
            errors.add(new MappingError(path, null, "is required"));
            return null;
        }
        return text(node, path);
    }

    /** Ids such as status "1" may be read by YAML as numbers; take those as text, but nothing else. */
    private String text(JsonNode node, String path) {
        if (node.isTextual()) {
            return node.textValue();
        }
        if (node.isIntegralNumber()) {
            return node.asText();
        }
        String hint = node.isBoolean() ? "; YAML read this as a boolean, quote it" : "";
        errors.add(new MappingError(path, shown(node), "expected text" + hint));
        return null;
    }

    private static String shown(JsonNode node) {
        return node.isValueNode() ? node.asText() : node.toString();
    }

    private static String sorted(Set<String> keys) {
        return keys.stream().sorted().toList().toString();
    }
}
