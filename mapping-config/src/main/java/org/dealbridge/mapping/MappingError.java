package org.dealbridge.mapping;

/**
 * One thing wrong with a mapping document: where it is ({@code stages."2"[1].stage}), the offending value as written
 * (null when the entry is missing) and what is wrong with it.
 */
public record MappingError(String path, String value, String message) {

    @Override
    public String toString() {
        return value == null ? path + ": " + message : path + " = " + quoted(value) + ": " + message;
    }

    private static String quoted(String value) {
        return '"' + value.replace("\"", "\\\"") + '"';
    }
}
