package org.dealbridge.bitrix.events;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One outbound event as a portal's queue server posts it (reference §10.3): {@code application/x-www-form-urlencoded}
 * with PHP bracket names, e.g. {@code event=ONCRMDEALUPDATE&data[FIELDS][ID]=812&auth[application_token]=…}.
 *
 * <p>Only flat lookups by the full bracketed name are needed, so names are kept as they arrive after decoding
 * ({@code data[FIELDS][ID]}) instead of being nested. Unknown keys are kept and ignored (portals add
 * {@code auth[member_id]}, {@code auth[expires]}…). A repeated name keeps its last value, as PHP's {@code parse_str} does.
 */
public final class OutboundEvent {
    public static final String EVENT = "event";
    public static final String ID = "data[FIELDS][ID]";
    public static final String APPLICATION_TOKEN = "auth[application_token]";

    private final Map<String, String> fields;

    private OutboundEvent(Map<String, String> fields) {
        this.fields = Collections.unmodifiableMap(fields);
    }

    /** A form value, or null when the name is absent. */
    public String get(String name) {
        return fields.get(name);
    }

    /** The event code, upper-cased ({@code ONCRMDEALUPDATE}); the form field is checked to be present on parsing. */
    public String name() {
        return fields.get(EVENT).trim().toUpperCase(Locale.ROOT);
    }

    /**
     * {@code data[FIELDS][ID]} as a positive id.
     *
     * @param what what the id names, for the message ("order", "deal")
     * @throws MalformedEventException when it is missing or not a positive integer, naming the value
     */
    public long id(String what) {
        String raw = fields.get(ID);
        if (raw == null) {
            throw new MalformedEventException("form field " + ID + " is missing");
        }
        try {
            long id = Long.parseLong(raw.trim());
            if (id > 0) {
                return id;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new MalformedEventException(ID + " must be a positive " + what + " id but was '" + abbreviate(raw) + "'");
    }

    /**
     * Parses a form body.
     *
     * @throws MalformedEventException naming what is wrong; the message never quotes {@code auth[...]} values
     */
    public static OutboundEvent parse(byte[] body) {
        String text;
        try {
            text = utf8(body, 0, body.length);
        } catch (CharacterCodingException e) {
            throw new MalformedEventException("body is not UTF-8 text");
        }
        if (text.isBlank()) {
            throw new MalformedEventException("body is empty; expected form fields event, " + ID + " and " + APPLICATION_TOKEN);
        }
        Map<String, String> values = new LinkedHashMap<>();
        for (String pair : text.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = decode(eq < 0 ? pair : pair.substring(0, eq), "a field name", null);
            if (name.isEmpty()) {
                throw new MalformedEventException("a form field has an empty name");
            }
            values.put(name, eq < 0 ? "" : decode(pair.substring(eq + 1), "the value of field " + name, name));
        }
        String event = values.get(EVENT);
        if (event == null || event.isBlank()) {
            throw new MalformedEventException("form field 'event' is missing");
        }
        return new OutboundEvent(values);
    }

    private static String decode(String raw, String what, String fieldName) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(raw.length());
        int plainFrom = 0;
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c != '%' && c != '+') {
                continue;
            }
            // text between escapes is kept as it is (raw UTF-8 included)
            out.writeBytes(raw.substring(plainFrom, i).getBytes(StandardCharsets.UTF_8));
            if (c == '+') {
                out.write(' ');
            } else {
                int hi = i + 2 < raw.length() ? Character.digit(raw.charAt(i + 1), 16) : -1;
                int lo = hi >= 0 ? Character.digit(raw.charAt(i + 2), 16) : -1;
                if (lo < 0) {
                    throw new MalformedEventException("bad percent-escape in " + what + describe(raw, fieldName));
                }
                out.write((hi << 4) | lo);
                i += 2;
            }
            plainFrom = i + 1;
        }
        out.writeBytes(raw.substring(plainFrom).getBytes(StandardCharsets.UTF_8));
        byte[] bytes = out.toByteArray();
        try {
            return utf8(bytes, 0, bytes.length);
        } catch (CharacterCodingException e) {
            throw new MalformedEventException("percent-escapes in " + what + " are not UTF-8" + describe(raw, fieldName));
        }
    }

    private static String utf8(byte[] bytes, int offset, int length) throws CharacterCodingException {
        return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(bytes, offset, length)).toString();
    }

    // Values of auth[...] are secrets (application token, access tokens): never quoted back.
    private static String describe(String raw, String fieldName) {
        return fieldName != null && fieldName.startsWith("auth[") ? "" : ": '" + abbreviate(raw) + "'";
    }

    private static String abbreviate(String value) {
        return value.length() > 40 ? value.substring(0, 40) + "..." : value;
    }

    /** The body cannot be read as an event; the message is safe to return to the caller and to log. */
    public static final class MalformedEventException extends RuntimeException {
        public MalformedEventException(String message) {
            super(message);
        }
    }
}
