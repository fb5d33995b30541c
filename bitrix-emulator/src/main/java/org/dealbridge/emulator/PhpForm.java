package org.dealbridge.emulator;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Request parameters in PHP bracket notation ({@code fields[TITLE]=x}, {@code a[]=1}), parsed the way PHP's
 * {@code parse_str} does, and the reverse encoding used for outbound event payloads.
 *
 * <p>Everything nests into ordered maps (PHP arrays); {@code []} appends the next integer key. Readers accept such a
 * map wherever a list is expected.
 */
final class PhpForm {
    private PhpForm() {
    }

    static void parseQuery(String query, Map<String, Object> target) {
        if (query == null || query.isEmpty()) {
            return;
        }
        for (String pair : query.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = decode(eq < 0 ? pair : pair.substring(0, eq));
            String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
            put(target, name, value);
        }
    }

    private static String decode(String text) {
        try {
            return URLDecoder.decode(text, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return text; // PHP keeps malformed escapes as they are
        }
    }

    /** Puts {@code value} under a bracketed name such as {@code fields[PHONE][0][VALUE]}. */
    @SuppressWarnings("unchecked")
    static void put(Map<String, Object> target, String name, Object value) {
        int open = name.indexOf('[');
        if (open <= 0 || name.indexOf(']', open) < 0) {
            target.put(topLevel(name), value);
            return;
        }
        List<String> keys = new ArrayList<>();
        keys.add(topLevel(name.substring(0, open)));
        int i = open;
        while (i < name.length() && name.charAt(i) == '[') {
            int close = name.indexOf(']', i);
            if (close < 0) {
                break;
            }
            keys.add(name.substring(i + 1, close));
            i = close + 1;
        }
        Map<String, Object> current = target;
        for (int k = 0; k < keys.size() - 1; k++) {
            String key = keys.get(k).isEmpty() ? nextIndex(current) : keys.get(k);
            Object child = current.get(key);
            if (!(child instanceof Map)) {
                child = new java.util.LinkedHashMap<String, Object>();
                current.put(key, child);
            }
            current = (Map<String, Object>) child;
        }
        String last = keys.get(keys.size() - 1);
        current.put(last.isEmpty() ? nextIndex(current) : last, value);
    }

    // PHP turns '.' and ' ' in the top-level name into '_'.
    private static String topLevel(String name) {
        return name.replace('.', '_').replace(' ', '_');
    }

    private static String nextIndex(Map<String, Object> map) {
        long max = -1;
        for (String key : map.keySet()) {
            try {
                max = Math.max(max, Long.parseLong(key));
            } catch (NumberFormatException ignored) {
                // non-numeric keys do not affect the next index
            }
        }
        return Long.toString(max + 1);
    }

    /** Parses a {@code multipart/form-data} body; file parts are kept as their text content. */
    static void parseMultipart(byte[] body, String contentType, Map<String, Object> target) {
        String boundary = null;
        for (String part : contentType.split(";")) {
            String p = part.trim();
            if (p.regionMatches(true, 0, "boundary=", 0, 9)) {
                boundary = p.substring(9).replace("\"", "");
            }
        }
        if (boundary == null) {
            throw new BitrixError(400, "INVALID_REQUEST", "multipart body without boundary");
        }
        // ISO-8859-1 maps bytes 1:1, so offsets stay valid and each value is re-decoded as UTF-8.
        String text = new String(body, StandardCharsets.ISO_8859_1);
        String delimiter = "--" + boundary;
        int pos = text.indexOf(delimiter);
        while (pos >= 0) {
            int start = pos + delimiter.length();
            if (text.startsWith("--", start)) {
                break;
            }
            int next = text.indexOf(delimiter, start);
            if (next < 0) {
                break;
            }
            String part = text.substring(start, next);
            int headerEnd = part.indexOf("\r\n\r\n");
            if (headerEnd >= 0) {
                String headers = part.substring(0, headerEnd);
                String content = part.substring(headerEnd + 4);
                if (content.endsWith("\r\n")) {
                    content = content.substring(0, content.length() - 2);
                }
                String name = dispositionName(headers);
                if (name != null) {
                    put(target, name, new String(content.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8));
                }
            }
            pos = next;
        }
    }

    private static String dispositionName(String headers) {
        for (String line : headers.split("\r\n")) {
            if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-disposition")) {
                int at = line.indexOf("name=\"");
                if (at >= 0) {
                    int end = line.indexOf('"', at + 6);
                    return line.substring(at + 6, end);
                }
            }
        }
        return null;
    }

    /** Encodes nested maps as {@code a[b][c]=v} pairs, URL-encoded, as the portal's event sender does. */
    static String encode(Map<String, ?> values) {
        StringBuilder out = new StringBuilder();
        for (Map.Entry<String, ?> e : values.entrySet()) {
            append(out, e.getKey(), e.getValue());
        }
        return out.toString();
    }

    private static void append(StringBuilder out, String name, Object value) {
        if (value instanceof Map) {
            for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
                append(out, name + "[" + e.getKey() + "]", e.getValue());
            }
        } else if (value instanceof List) {
            List<?> list = (List<?>) value;
            for (int i = 0; i < list.size(); i++) {
                append(out, name + "[" + i + "]", list.get(i));
            }
        } else {
            if (out.length() > 0) {
                out.append('&');
            }
            out.append(URLEncoder.encode(name, StandardCharsets.UTF_8)).append('=')
                    .append(URLEncoder.encode(value == null ? "" : String.valueOf(value), StandardCharsets.UTF_8));
        }
    }
}
