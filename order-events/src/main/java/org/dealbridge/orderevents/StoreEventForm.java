package org.dealbridge.orderevents;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;

/**
 * The body of an outbound REST event as the store's queue server posts it (reference §10.3):
 * {@code application/x-www-form-urlencoded} with PHP bracket names such as {@code data[FIELDS][ID]=300} and
 * {@code auth[application_token]=...}.
 *
 * <p>Only flat lookups by the full bracketed name are needed here, so names are kept as they arrive after decoding
 * ({@code data[FIELDS][ID]}) instead of being nested. Unknown keys are kept and ignored (third-party portals add
 * {@code auth[expires]}, {@code auth[user_id]}...).
 */
final class StoreEventForm {
    static final String EVENT = "event";
    static final String ORDER_ID = "data[FIELDS][ID]";
    static final String ACTION = "data[FIELDS][ACTION]";
    static final String XML_ID = "data[FIELDS][XML_ID]";
    static final String APPLICATION_TOKEN = "auth[application_token]";

    private final Map<String, String> values;

    private StoreEventForm(Map<String, String> values) {
        this.values = Collections.unmodifiableMap(values);
    }

    /** A form value, or null when the name is absent. */
    String get(String name) {
        return values.get(name);
    }

    /**
     * Parses a form body.
     *
     * @throws MalformedEventException naming what is wrong; the message never quotes {@code auth[...]} values
     */
    static StoreEventForm parse(byte[] body) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(body)).toString();
        } catch (CharacterCodingException e) {
            throw new MalformedEventException("body is not UTF-8 text");
        }
        if (text.isBlank()) {
            throw new MalformedEventException("body is empty; expected form fields event, data[FIELDS][ID] and auth[application_token]");
        }
        Map<String, String> values = new HashMap<>();
        for (String pair : text.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = decode(eq < 0 ? pair : pair.substring(0, eq), "a field name", null);
            String value = eq < 0 ? "" : decode(pair.substring(eq + 1), "the value of field " + name, name);
            if (name.isEmpty()) {
                throw new MalformedEventException("a form field has an empty name");
            }
            // PHP keeps the last of repeated scalar names; so do we.
            values.put(name, value);
        }
        return new StoreEventForm(values);
    }

    private static String decode(String raw, String what, String fieldName) {
        StringBuilder out = new StringBuilder(raw.length());
        byte[] pending = new byte[raw.length()];
        int pendingLength = 0;
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                if (i + 2 >= raw.length() || Character.digit(raw.charAt(i + 1), 16) < 0 || Character.digit(raw.charAt(i + 2), 16) < 0) {
                    throw new MalformedEventException("bad percent-escape in " + what + describe(raw, fieldName));
                }
                pending[pendingLength++] = (byte) ((Character.digit(raw.charAt(i + 1), 16) << 4) | Character.digit(raw.charAt(i + 2), 16));
                i += 2;
                continue;
            }
            if (pendingLength > 0) {
                out.append(utf8(pending, pendingLength, what, raw, fieldName));
                pendingLength = 0;
            }
            out.append(c == '+' ? ' ' : c);
        }
        if (pendingLength > 0) {
            out.append(utf8(pending, pendingLength, what, raw, fieldName));
        }
        return out.toString();
    }

    private static String utf8(byte[] bytes, int length, String what, String raw, String fieldName) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, 0, length)).toString();
        } catch (CharacterCodingException e) {
            throw new MalformedEventException("percent-escapes in " + what + " are not UTF-8" + describe(raw, fieldName));
        }
    }

    // Values of auth[...] are secrets (application token, access tokens): never quoted back.
    private static String describe(String raw, String fieldName) {
        if (fieldName != null && fieldName.startsWith("auth[")) {
            return "";
        }
        String shown = raw.length() > 40 ? raw.substring(0, 40) + "..." : raw;
        return ": '" + shown + "'";
    }

    /** The body cannot be read as an event; the message is safe to return to the caller and to log. */
    static final class MalformedEventException extends RuntimeException {
        MalformedEventException(String message) {
            super(message);
        }
    }
}
