package org.dealbridge.emulator;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The list-method machinery shared by CRM and store: {@code filter} with Bitrix prefixes, {@code order},
 * {@code select} and pages of 50 with {@code start}/{@code total}/{@code next}.
 */
final class ListQuery {
    static final int PAGE_SIZE = 50;
    private static final String[] PREFIXES = {"!=%", "!%=", "=%", "%=", "!@", "!=", "!%", ">=", "<=", "@", "!", "=", "%", ">", "<"};
    private static final DateTimeFormatter SITE_FORMAT = DateTimeFormatter.ofPattern("dd.MM.yyyy HH:mm:ss");

    private ListQuery() {
    }

    /**
     * Whether {@code row} passes every condition of {@code filter}. Field names resolve through {@code field}, which
     * returns null for a name the entity does not know (such a condition is handled by the caller via {@code unknown}).
     */
    static boolean matches(Map<String, Object> row, Map<String, Object> filter, Function<String, String> field,
                           ZoneOffset zone, java.util.function.Consumer<String> unknown) {
        if (filter == null) {
            return true;
        }
        for (Map.Entry<String, Object> condition : filter.entrySet()) {
            String key = condition.getKey();
            String prefix = "";
            for (String p : PREFIXES) {
                if (key.startsWith(p)) {
                    prefix = p;
                    break;
                }
            }
            String name = field.apply(key.substring(prefix.length()));
            if (name == null) {
                unknown.accept(key.substring(prefix.length()));
                continue;
            }
            if (!test(row.get(name), prefix, condition.getValue(), zone)) {
                return false;
            }
        }
        return true;
    }

    private static boolean test(Object actual, String prefix, Object expected, ZoneOffset zone) {
        switch (prefix) {
            case "":
            case "=":
                if (expected instanceof Map || expected instanceof List) {
                    return in(actual, expected, zone);
                }
                return equal(actual, expected, zone);
            case "!":
            case "!=":
                if (expected instanceof Map || expected instanceof List) {
                    return !in(actual, expected, zone);
                }
                return !equal(actual, expected, zone);
            case "@":
                return in(actual, expected, zone);
            case "!@":
                return !in(actual, expected, zone);
            case ">":
            case ">=":
            case "<":
            case "<=":
                int c = compare(actual, expected, zone);
                if (c == Integer.MIN_VALUE) {
                    return false; // incomparable (e.g. an unparseable date): the condition matches nothing
                }
                return prefix.equals(">") ? c > 0 : prefix.equals(">=") ? c >= 0 : prefix.equals("<") ? c < 0 : c <= 0;
            case "%":
                return like(actual, "%" + Params.asString(expected) + "%");
            case "!%":
                return !like(actual, "%" + Params.asString(expected) + "%");
            case "=%":
            case "%=":
                return like(actual, Params.asString(expected));
            default: // "!=%", "!%="
                return !like(actual, Params.asString(expected));
        }
    }

    private static boolean in(Object actual, Object expected, ZoneOffset zone) {
        List<Object> values = Params.asList(expected);
        for (Object v : values) {
            if (equal(actual, v, zone)) {
                return true;
            }
        }
        return false;
    }

    // MySQL's default collation compares strings case-insensitively; numbers compare by value ("5" = 5 = "5.00").
    static boolean equal(Object actual, Object expected, ZoneOffset zone) {
        if (actual instanceof List) {
            for (Object item : (List<?>) actual) {
                if (equal(item, expected, zone)) {
                    return true;
                }
            }
            return false;
        }
        String a = Params.asString(actual);
        String e = Params.asString(expected);
        if (a == null || a.isEmpty()) {
            return e == null || e.isEmpty();
        }
        if (e == null) {
            return false;
        }
        BigDecimal an = Params.asDecimal(a);
        BigDecimal en = Params.asDecimal(e);
        if (an != null && en != null) {
            return an.compareTo(en) == 0;
        }
        if (a.length() >= 10 && e.length() >= 10 && Character.isDigit(a.charAt(0)) && Character.isDigit(e.charAt(0))) {
            Instant ad = parseInstant(a, zone);
            Instant ed = parseInstant(e, zone);
            if (ad != null && ed != null) {
                return ad.equals(ed); // the same moment written with another offset
            }
        }
        return a.equalsIgnoreCase(e);
    }

    /** Returns Integer.MIN_VALUE when the values cannot be compared (such a condition matches nothing). */
    private static int compare(Object actual, Object expected, ZoneOffset zone) {
        String a = Params.asString(actual);
        String e = Params.asString(expected);
        if (a == null || e == null || a.isEmpty()) {
            return Integer.MIN_VALUE;
        }
        Instant ad = parseInstant(a, zone);
        if (ad != null) {
            Instant ed = parseInstant(e, zone);
            return ed == null ? Integer.MIN_VALUE : Integer.signum(ad.compareTo(ed));
        }
        BigDecimal an = Params.asDecimal(a);
        BigDecimal en = Params.asDecimal(e);
        if (an != null && en != null) {
            return an.compareTo(en);
        }
        return Integer.signum(a.compareToIgnoreCase(e));
    }

    private static boolean like(Object actual, String pattern) {
        String a = Params.asString(actual);
        if (a == null || pattern == null) {
            return false;
        }
        StringBuilder regex = new StringBuilder("(?is)");
        for (String piece : pattern.split("%", -1)) {
            if (regex.length() > 5) {
                regex.append(".*");
            }
            regex.append(java.util.regex.Pattern.quote(piece));
        }
        return a.matches(regex.toString());
    }

    /** Parses the date forms Bitrix accepts: ISO with offset, {@code YYYY-MM-DD}, the site format. Null otherwise. */
    static Instant parseInstant(String text, ZoneOffset zone) {
        if (text == null) {
            return null;
        }
        String s = text.trim();
        try {
            return OffsetDateTime.parse(s).toInstant();
        } catch (DateTimeParseException ignored) {
            // try the next form
        }
        try {
            return LocalDateTime.parse(s).toInstant(zone);
        } catch (DateTimeParseException ignored) {
            // try the next form
        }
        try {
            if (s.length() == 10) {
                return LocalDate.parse(s).atStartOfDay().toInstant(zone);
            }
        } catch (DateTimeParseException ignored) {
            // try the next form
        }
        try {
            return LocalDateTime.parse(s, SITE_FORMAT).toInstant(zone);
        } catch (DateTimeParseException ignored) {
            return null;
        }
    }

    /** Orders rows by {@code {FIELD: ASC|DESC, ...}}; {@code rank} may map a field's value to a sort key. */
    static Comparator<Map<String, Object>> order(Map<String, Object> order, Function<String, String> field,
                                                 java.util.function.BiFunction<String, Object, Object> rank,
                                                 String idField, ZoneOffset zone) {
        Comparator<Map<String, Object>> result = null;
        if (order != null) {
            for (Map.Entry<String, Object> e : order.entrySet()) {
                String name = field.apply(e.getKey());
                if (name == null) {
                    continue;
                }
                boolean desc = "DESC".equalsIgnoreCase(String.valueOf(e.getValue()));
                Comparator<Map<String, Object>> c = (x, y) -> compareForSort(rank.apply(name, x.get(name)), rank.apply(name, y.get(name)), zone);
                if (desc) {
                    c = c.reversed();
                }
                result = result == null ? c : result.thenComparing(c);
            }
        }
        Comparator<Map<String, Object>> byId = (x, y) -> compareForSort(x.get(idField), y.get(idField), zone);
        return result == null ? byId : result.thenComparing(byId);
    }

    private static int compareForSort(Object a, Object b, ZoneOffset zone) {
        if (a == null || b == null) {
            return a == null ? (b == null ? 0 : -1) : 1;
        }
        int c = compare(a, b, zone);
        return c == Integer.MIN_VALUE ? String.valueOf(a).compareTo(String.valueOf(b)) : c;
    }

    /**
     * Cuts one page. Classic CRM rounds {@code start} down to a page boundary; {@code start=-1} skips the count, so
     * neither {@code total} nor {@code next} is returned.
     */
    static <T> ListPage page(List<T> all, Object startParam, boolean roundToPage, Function<List<T>, Object> wrap) {
        Long start = Params.asLong(startParam);
        if (start != null && start == -1) {
            return new ListPage(wrap.apply(new ArrayList<>(all.subList(0, Math.min(PAGE_SIZE, all.size())))), null, null);
        }
        long offset = start == null || start < 0 ? 0 : start;
        if (roundToPage) {
            offset = (offset / PAGE_SIZE) * PAGE_SIZE;
        }
        int from = (int) Math.min(offset, all.size());
        int to = Math.min(from + PAGE_SIZE, all.size());
        Integer next = to < all.size() ? to : null;
        return new ListPage(wrap.apply(new ArrayList<>(all.subList(from, to))), all.size(), next);
    }

    /** Keeps the selected keys of a row, in select order; unknown names are skipped. */
    static Map<String, Object> select(Map<String, Object> row, List<String> names) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (String name : names) {
            if (row.containsKey(name)) {
                out.put(name, row.get(name));
            }
        }
        return out;
    }
}
