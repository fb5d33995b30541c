package org.dealbridge.dealevents;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An outbound event body: {@code application/x-www-form-urlencoded} with PHP bracket names kept flat, e.g.
 * {@code data[FIELDS][ID]=812}, {@code auth[application_token]=…}. The first value of a repeated name counts.
 */
final class HookForm {

    static final String EVENT = "event";
    static final String DEAL_ID = "data[FIELDS][ID]";
    static final String APPLICATION_TOKEN = "auth[application_token]";

    /** The body is not a form; the message names what is wrong (never the token). */
    static final class MalformedException extends Exception {
        MalformedException(String message) {
            super(message);
        }
    }

    private final Map<String, String> fields;

    private HookForm(Map<String, String> fields) {
        this.fields = fields;
    }

    String get(String name) {
        return fields.get(name);
    }

    static HookForm parse(byte[] body) throws MalformedException {
        if (body.length == 0) {
            throw new MalformedException("the body is empty");
        }
        String text;
        try {
            text = StandardCharsets.US_ASCII.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body)).toString();
        } catch (CharacterCodingException e) {
            throw new MalformedException("the body has raw non-ASCII bytes; a form escapes them as %XX");
        }
        Map<String, String> fields = new LinkedHashMap<>();
        for (String pair : text.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = decode(eq < 0 ? pair : pair.substring(0, eq), "a field name");
            String value = eq < 0 ? "" : decode(pair.substring(eq + 1), "the value of " + name);
            fields.putIfAbsent(name, value);
        }
        if (fields.isEmpty()) {
            throw new MalformedException("the body has no form fields");
        }
        return new HookForm(fields);
    }

    private static String decode(String raw, String what) throws MalformedException {
        byte[] out = new byte[raw.length()];
        int n = 0;
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '+') {
                out[n++] = ' ';
            } else if (c == '%') {
                if (i + 2 >= raw.length() || Character.digit(raw.charAt(i + 1), 16) < 0 || Character.digit(raw.charAt(i + 2), 16) < 0) {
                    throw new MalformedException(what + " has a bad percent-escape at position " + i);
                }
                out[n++] = (byte) (Character.digit(raw.charAt(i + 1), 16) * 16 + Character.digit(raw.charAt(i + 2), 16));
                i += 2;
            } else {
                out[n++] = (byte) c;
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(out, 0, n)).toString();
        } catch (CharacterCodingException e) {
            throw new MalformedException(what + " is not UTF-8 once unescaped");
        }
    }
}
