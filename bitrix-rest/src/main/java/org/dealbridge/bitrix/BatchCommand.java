package org.dealbridge.bitrix;

import java.math.BigDecimal;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One command of a {@code batch} request (reference §4): {@code key → "method?query"}. Parameters are encoded as a PHP
 * bracket query string ({@code fields[TITLE]=…&select[0]=ID}); a {@link ResultRef} value is written verbatim as
 * {@code $result[key][0][ID]} so the portal substitutes the result of an earlier command.
 *
 * @param key    unique within the batch; letters, digits, '_' and '-' (it appears inside {@code $result[...]})
 * @param method REST method, e.g. {@code crm.deal.add}
 * @param params parameters as for {@link BitrixClient#call}; values may be maps, lists, scalars or {@link ResultRef}
 */
public record BatchCommand(String key, String method, Map<String, ?> params) {
    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9_\\-]{1,64}");
    private static final Pattern METHOD = Pattern.compile("[A-Za-z0-9_.]+");

    public BatchCommand {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(method, "method");
        if (!KEY.matcher(key).matches()) {
            throw new IllegalArgumentException("batch command key must match [A-Za-z0-9_-]{1,64}, got '" + key + "'");
        }
        if (!METHOD.matcher(method).matches() || method.equalsIgnoreCase("batch")) {
            throw new IllegalArgumentException("batch command '" + key + "': invalid method '" + method + "' (nested batch is not allowed)");
        }
        params = params == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(params));
    }

    public static BatchCommand of(String key, String method, Map<String, ?> params) {
        return new BatchCommand(key, method, params);
    }

    /** A reference to (a part of) the result of an earlier command of the same batch: {@code $result[key][path…]}. */
    public record ResultRef(String key, List<String> path) {
        public ResultRef {
            Objects.requireNonNull(key, "key");
            if (!KEY.matcher(key).matches()) {
                throw new IllegalArgumentException("referenced key must match [A-Za-z0-9_-]{1,64}, got '" + key + "'");
            }
            path = List.copyOf(path);
            for (String p : path) {
                if (p.isEmpty() || p.contains("[") || p.contains("]") || p.contains("&") || p.contains("=")) {
                    throw new IllegalArgumentException("invalid path element '" + p + "' in reference to '" + key + "'");
                }
            }
        }

        public String expression() {
            StringBuilder sb = new StringBuilder("$result[").append(key).append(']');
            path.forEach(p -> sb.append('[').append(p).append(']'));
            return sb.toString();
        }

        @Override
        public String toString() {
            return expression();
        }
    }

    /** {@code $result[key][path0][path1]…}, e.g. {@code ref("find", "0", "ID")} for the first row's ID of a list command. */
    public static ResultRef ref(String key, String... path) {
        return new ResultRef(key, List.of(path));
    }

    /**
     * This command with {@code prefix} before its key and before the key of every {@link ResultRef} in its parameters: so
     * a group of commands planned on its own (its keys and references among themselves) can travel in one batch with
     * another group whose keys may be the same; {@link BatchResult#part} reads its answers back under the old keys.
     */
    public BatchCommand withKeyPrefix(String prefix) {
        return new BatchCommand(prefix + key, method, prefixed(params, prefix));
    }

    @SuppressWarnings("unchecked")
    private static <V> V prefixed(V value, String prefix) {
        if (value instanceof ResultRef ref) {
            return (V) new ResultRef(prefix + ref.key(), ref.path());
        }
        if (value instanceof Map<?, ?> map) {
            Map<Object, Object> copy = new LinkedHashMap<>();
            map.forEach((k, v) -> copy.put(k, prefixed(v, prefix)));
            return (V) copy;
        }
        if (value instanceof Collection<?> list) {
            return (V) list.stream().map(v -> prefixed(v, prefix)).toList();
        }
        if (value instanceof Object[] array) {
            return (V) prefixed(List.of(array), prefix);
        }
        return value;
    }

    /** The command string sent in {@code cmd[key]}: {@code method?query}. */
    public String encoded() {
        String query = encodeQuery(params);
        return query.isEmpty() ? method : method + "?" + query;
    }

    /** PHP {@code http_build_query}-compatible encoding with explicit list indexes. Null values are skipped as PHP does. */
    static String encodeQuery(Map<String, ?> params) {
        StringBuilder sb = new StringBuilder();
        params.forEach((k, v) -> append(sb, encode(k), v));
        return sb.toString();
    }

    private static void append(StringBuilder sb, String name, Object value) {
        if (value == null) {
            return;
        }
        if (value instanceof Map<?, ?> map) {
            map.forEach((k, v) -> append(sb, name + "[" + encode(String.valueOf(k)) + "]", v));
            return;
        }
        if (value instanceof Collection<?> list) {
            int i = 0;
            for (Object v : list) {
                append(sb, name + "[" + i++ + "]", v);
            }
            return;
        }
        if (value instanceof Object[] array) {
            append(sb, name, List.of(array));
            return;
        }
        if (sb.length() > 0) {
            sb.append('&');
        }
        sb.append(name).append('=').append(scalar(value));
    }

    private static String scalar(Object value) {
        if (value instanceof ResultRef ref) {
            return ref.expression();    // verbatim: the portal matches $result[...] in the raw value
        }
        if (value instanceof Boolean b) {
            return b ? "1" : "0";       // as PHP's http_build_query writes booleans
        }
        if (value instanceof BigDecimal d) {
            return d.toPlainString();
        }
        String temporal = BitrixDateTimes.formatIfTemporal(value);
        if (temporal != null) {
            return encode(temporal);
        }
        return encode(String.valueOf(value));
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
