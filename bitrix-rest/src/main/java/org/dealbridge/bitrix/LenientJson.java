package org.dealbridge.bitrix;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads Bitrix JSON the way the portal actually writes it (reference §0, §13.8-§13.11): numbers that arrive as strings,
 * {@code null}/{@code ""} for empty references, {@code []} where an object is expected, {@code "Y"/"N"} next to JSON
 * booleans, ISO datetimes with an offset. A value that cannot be read fails with {@link MalformedValue} naming the
 * field and the value.
 */
public final class LenientJson {
    private LenientJson() {
    }

    /** A response value that does not have the documented shape. */
    public static final class MalformedValue extends RuntimeException {
        public MalformedValue(String field, JsonNode value, String expected) {
            super("field '" + field + "' has value " + abbreviate(value) + ", expected " + expected);
        }
    }

    private static String abbreviate(JsonNode value) {
        String s = String.valueOf(value);
        return s.length() > 120 ? s.substring(0, 120) + "…" : s;
    }

    static boolean absent(JsonNode v) {
        return v == null || v.isNull() || v.isMissingNode() || (v.isTextual() && v.asText().isEmpty());
    }

    /** A long from a number or a numeric string; empty when absent, {@code null} or {@code ""}. */
    public static Optional<Long> optLong(JsonNode node, String field) {
        JsonNode v = node == null ? null : node.get(field);
        if (absent(v)) {
            return Optional.empty();
        }
        if (v.isIntegralNumber() && v.canConvertToLong()) {
            return Optional.of(v.asLong());
        }
        if (v.isTextual()) {
            try {
                return Optional.of(Long.parseLong(v.asText().trim()));
            } catch (NumberFormatException e) {
                // fall through
            }
        }
        if (v.isNumber()) {
            BigDecimal d = v.decimalValue();
            if (d.stripTrailingZeros().scale() <= 0) {
                return Optional.of(d.longValueExact());
            }
        }
        throw new MalformedValue(field, v, "an integer (number or numeric string)");
    }

    /** A long that must be present. */
    public static long requiredLong(JsonNode node, String field) {
        return optLong(node, field).orElseThrow(() -> new MalformedValue(field, node == null ? null : node.get(field), "an integer"));
    }

    /** A decimal from a number or a numeric string ({@code "15400.50"}); empty when absent. */
    public static Optional<BigDecimal> optDecimal(JsonNode node, String field) {
        JsonNode v = node == null ? null : node.get(field);
        if (absent(v)) {
            return Optional.empty();
        }
        if (v.isNumber()) {
            return Optional.of(v.decimalValue());
        }
        if (v.isTextual()) {
            try {
                return Optional.of(new BigDecimal(v.asText().trim()));
            } catch (NumberFormatException e) {
                // fall through
            }
        }
        throw new MalformedValue(field, v, "a decimal (number or numeric string)");
    }

    /** Text, or empty when absent/null; numbers are rendered as text. Objects/arrays are rejected. */
    public static Optional<String> optText(JsonNode node, String field) {
        JsonNode v = node == null ? null : node.get(field);
        if (v == null || v.isNull() || v.isMissingNode()) {
            return Optional.empty();
        }
        if (v.isValueNode()) {
            return Optional.of(v.asText());
        }
        throw new MalformedValue(field, v, "a string");
    }

    public static String text(JsonNode node, String field) {
        return optText(node, field).orElse(null);
    }

    /**
     * A flag from {@code "Y"/"N"}, JSON booleans, {@code 1/0} or {@code "1"/"0"}, {@code "true"/"false"}; empty when absent.
     */
    public static Optional<Boolean> optFlag(JsonNode node, String field) {
        JsonNode v = node == null ? null : node.get(field);
        if (absent(v)) {
            return Optional.empty();
        }
        if (v.isBoolean()) {
            return Optional.of(v.asBoolean());
        }
        if (v.isIntegralNumber()) {
            long n = v.asLong();
            if (n == 0 || n == 1) {
                return Optional.of(n == 1);
            }
        }
        if (v.isTextual()) {
            switch (v.asText().trim()) {
                case "Y", "y", "1", "true", "TRUE" -> {
                    return Optional.of(true);
                }
                case "N", "n", "0", "false", "FALSE" -> {
                    return Optional.of(false);
                }
                default -> {
                }
            }
        }
        throw new MalformedValue(field, v, "a flag (Y/N, true/false or 1/0)");
    }

    public static boolean flag(JsonNode node, String field, boolean whenAbsent) {
        return optFlag(node, field).orElse(whenAbsent);
    }

    /** An ISO-8601 datetime with offset ({@code 2024-09-01T12:00:05+03:00}); empty when absent. */
    public static Optional<OffsetDateTime> optDateTime(JsonNode node, String field) {
        JsonNode v = node == null ? null : node.get(field);
        if (absent(v)) {
            return Optional.empty();
        }
        if (v.isTextual()) {
            try {
                return Optional.of(OffsetDateTime.parse(v.asText().trim()));
            } catch (DateTimeParseException e) {
                // fall through
            }
        }
        throw new MalformedValue(field, v, "an ISO-8601 datetime with offset");
    }

    /**
     * The calendar date of a CRM {@code date} field: the portal returns those as datetimes at a local non-midnight time
     * (pitfall §13.11), so the date is taken in the returned offset, never after converting zones.
     */
    public static Optional<LocalDate> optDate(JsonNode node, String field) {
        JsonNode v = node == null ? null : node.get(field);
        if (!absent(v) && v.isTextual() && v.asText().trim().length() == 10) {
            try {
                return Optional.of(LocalDate.parse(v.asText().trim()));
            } catch (DateTimeParseException e) {
                throw new MalformedValue(field, v, "a date");
            }
        }
        return optDateTime(node, field).map(OffsetDateTime::toLocalDate);
    }

    /** An object, treating PHP's empty array {@code []} (and absent/null) as an empty object. */
    public static ObjectNode object(JsonNode node, String field) {
        JsonNode v = node == null ? null : node.get(field);
        return asObject(field, v);
    }

    /** {@code v} as an object; {@code []}, null and missing become an empty object. */
    public static ObjectNode asObject(String field, JsonNode v) {
        if (v == null || v.isNull() || v.isMissingNode() || (v.isArray() && v.isEmpty())) {
            return JsonNodeFactory.instance.objectNode();
        }
        if (v.isObject()) {
            return (ObjectNode) v;
        }
        throw new MalformedValue(field, v, "an object (or [] for empty)");
    }

    /**
     * The elements of an array, or of an object's values (PHP arrays with numeric keys sometimes serialize as
     * {@code {"0": …}}); absent/null gives an empty list.
     */
    public static List<JsonNode> elements(JsonNode node, String field) {
        JsonNode v = node == null ? null : node.get(field);
        return asElements(field, v);
    }

    public static List<JsonNode> asElements(String field, JsonNode v) {
        if (v == null || v.isNull() || v.isMissingNode()) {
            return List.of();
        }
        if (v.isArray() || v.isObject()) {
            List<JsonNode> out = new ArrayList<>(v.size());
            v.elements().forEachRemaining(out::add);
            return Collections.unmodifiableList(out);
        }
        throw new MalformedValue(field, v, "an array");
    }

    /** Long elements of an array of numbers-or-strings. */
    public static List<Long> longs(JsonNode node, String field) {
        List<Long> out = new ArrayList<>();
        for (JsonNode e : elements(node, field)) {
            if (e.isIntegralNumber()) {
                out.add(e.asLong());
            } else if (e.isTextual() && e.asText().trim().matches("-?\\d+")) {
                out.add(Long.parseLong(e.asText().trim()));
            } else {
                throw new MalformedValue(field, e, "an array of integers");
            }
        }
        return List.copyOf(out);
    }

    /** The fields of an object whose name starts with {@code prefix} (e.g. {@code UF_CRM_}), in response order. */
    public static Map<String, JsonNode> fieldsWithPrefix(JsonNode node, String prefix) {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        if (node != null && node.isObject()) {
            node.fields().forEachRemaining(e -> {
                if (e.getKey().startsWith(prefix)) {
                    out.put(e.getKey(), e.getValue());
                }
            });
        }
        return Collections.unmodifiableMap(out);
    }
}
