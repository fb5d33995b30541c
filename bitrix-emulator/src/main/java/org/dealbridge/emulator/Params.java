package org.dealbridge.emulator;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The parameters of one REST call, already merged from query string and body. Classic CRM methods look names up
 * case-insensitively ({@code fields}/{@code FIELDS}); D7 methods ({@code sale.*}, {@code catalog.*}, {@code crm.item.*})
 * use the exact documented names.
 */
final class Params {
    final Map<String, Object> raw;

    Params(Map<String, Object> raw) {
        this.raw = raw;
    }

    Object exact(String name) {
        return raw.get(name);
    }

    Object anyCase(String name) {
        Object exact = raw.get(name);
        if (exact != null) {
            return exact;
        }
        for (Map.Entry<String, Object> e : raw.entrySet()) {
            if (e.getKey().equalsIgnoreCase(name)) {
                return e.getValue();
            }
        }
        return null;
    }

    // ---- loose conversions: PHP accepts numbers as strings and lists as maps with integer keys

    static Long asLong(Object value) {
        if (value instanceof Number) {
            Number n = (Number) value;
            return n.doubleValue() == Math.rint(n.doubleValue()) ? n.longValue() : null;
        }
        if (value instanceof String) {
            String s = ((String) value).trim();
            if (s.matches("-?\\d{1,18}")) {
                return Long.parseLong(s);
            }
        }
        return null;
    }

    static BigDecimal asDecimal(Object value) {
        if (value instanceof BigDecimal) {
            return (BigDecimal) value;
        }
        if (value instanceof Number) {
            return new BigDecimal(value.toString());
        }
        if (value instanceof String) {
            try {
                return new BigDecimal(((String) value).trim().replace(',', '.'));
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return null;
    }

    static String asString(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof Map || value instanceof Collection) {
            return null;
        }
        if (value instanceof Boolean) {
            return (Boolean) value ? "1" : "";
        }
        if (value instanceof Double || value instanceof Float) {
            BigDecimal d = new BigDecimal(value.toString()).stripTrailingZeros();
            return d.scale() < 0 ? d.setScale(0).toPlainString() : d.toPlainString();
        }
        return value.toString();
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> asMap(Object value) {
        if (value instanceof Map) {
            Map<String, Object> copy = new LinkedHashMap<>();
            ((Map<Object, Object>) value).forEach((k, v) -> copy.put(String.valueOf(k), v));
            return copy;
        }
        if (value instanceof List) {
            Map<String, Object> indexed = new LinkedHashMap<>();
            List<?> list = (List<?>) value;
            for (int i = 0; i < list.size(); i++) {
                indexed.put(Integer.toString(i), list.get(i));
            }
            return indexed;
        }
        return null;
    }

    static List<Object> asList(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof List) {
            return new ArrayList<>((List<?>) value);
        }
        if (value instanceof Map) {
            return new ArrayList<>(((Map<?, ?>) value).values());
        }
        List<Object> single = new ArrayList<>();
        single.add(value);
        return single;
    }

    static boolean isYes(Object value) {
        if (value instanceof Boolean) {
            return (Boolean) value;
        }
        String s = asString(value);
        return s != null && (s.equalsIgnoreCase("Y") || s.equals("1") || s.equalsIgnoreCase("true"));
    }

    static String upper(String s) {
        return s.toUpperCase(Locale.ROOT);
    }
}
