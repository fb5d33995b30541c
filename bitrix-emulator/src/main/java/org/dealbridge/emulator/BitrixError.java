package org.dealbridge.emulator;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An error answer of a REST method: HTTP status plus the {@code error} value, which is a string code, an empty string
 * (classic CRM validation) or a JSON number (sale/catalog D7 codes).
 */
final class BitrixError extends RuntimeException {
    final int httpStatus;
    final Object error;
    final String description;

    BitrixError(int httpStatus, Object error, String description) {
        super(description, null, false, false);
        this.httpStatus = httpStatus;
        this.error = error;
        this.description = description;
    }

    /** Classic CRM method-level error: HTTP 400 with {@code "error": ""}. */
    static BitrixError classic(String description) {
        return new BitrixError(400, "", description);
    }

    /** Sale/catalog error with a numeric code. */
    static BitrixError sale(long code, String description) {
        return new BitrixError(400, code, description);
    }

    static BitrixError methodNotFound() {
        return new BitrixError(404, "ERROR_METHOD_NOT_FOUND", "Method not found!");
    }

    Map<String, Object> body() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", error);
        body.put("error_description", description);
        return body;
    }
}
