package org.dealbridge.bitrix;

import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Maps a portal error ({@code error}, {@code error_description}, HTTP status) to the exception class that says what a
 * caller can do about it (reference §1.5, §2.3). Keyed on the {@code error} string first; the HTTP status only breaks
 * ties for codes that are not known, because the docs and the server disagree on statuses (§1.5 CONFLICT).
 */
final class BitrixErrors {
    private BitrixErrors() {
    }

    /** Codes after which nothing will work until an operator fixes the webhook, its scopes or the plan. */
    private static final Set<String> AUTH_CODES = Set.of(
            "NO_AUTH_FOUND", "INVALID_CREDENTIALS", "INSUFFICIENT_SCOPE", "EXPIRED_TOKEN", "INVALID_TOKEN",
            "WRONG_AUTH_TYPE", "USER_ACCESS_ERROR", "PORTAL_DELETED",
            // system-level ACCESS_DENIED ("REST API is available only on commercial plans"); the same code is used for
            // method-level "Access denied!" and the two cannot be told apart reliably, so both are surfaced loudly.
            "ACCESS_DENIED",
            // "Https required." — the webhook was called over http; a configuration error, not input validation
            "INVALID_REQUEST");

    private static final Set<String> TRANSIENT_CODES = Set.of("INTERNAL_SERVER_ERROR", "ERROR_UNEXPECTED_ANSWER", "OVERLOAD_LIMIT");

    private static final Set<String> NOT_FOUND_CODES = Set.of("NOT_FOUND", "ERROR_NOT_FOUND", "OWNER_NOT_FOUND");

    /** Classic CRM uses error "" and the description to say "not found" (reference §1.5 table). */
    private static final Pattern NOT_FOUND_TEXT = Pattern.compile("(?i)^(not found\\.?|.* is not found\\.?|element not found\\.?)$");

    /**
     * Sale/catalog D7 codes are 12 digits {@code MMMM SSS NNNNN} whose middle three digits read like an HTTP status:
     * {@code 200540400001} order does not exist, {@code 200040300010} no permission (§1.5 table).
     */
    private static final Pattern D7_CODE = Pattern.compile("^(\\d{4})(\\d{3})(\\d{5})$");

    static BitrixException classify(int httpStatus, String code, String description, String method, String maskedUrl,
                                     Duration operationBlock) {
        String c = code == null ? "" : code;
        String d = description == null ? "" : description;
        String upper = c.toUpperCase(Locale.ROOT);
        // CONFLICT (reference §2.1): older docs said QUERY_LIMIT_EXCEEDED comes with 429, current docs say 503; the code decides.
        if (upper.equals("QUERY_LIMIT_EXCEEDED")) {
            return new BitrixException.RateLimited(c, d, httpStatus, method, maskedUrl);
        }
        if (upper.equals("OPERATION_TIME_LIMIT")) {
            return new BitrixException.OperationTimeLimit(c, d, httpStatus, method, maskedUrl, operationBlock);
        }
        if (AUTH_CODES.contains(upper)) {
            return new BitrixException.AuthFailure(c, d, httpStatus, method, maskedUrl);
        }
        if (TRANSIENT_CODES.contains(upper)) {
            return new BitrixException.TransientFailure(c, d, httpStatus, method, maskedUrl, true, null);
        }
        if (NOT_FOUND_CODES.contains(upper)) {
            return new BitrixException.NotFound(c, d, httpStatus, method, maskedUrl);
        }
        if (upper.equals("ERROR_CORE") && httpStatus >= 500) {
            // "SQL query error!" comes back as ERROR_CORE with 500 — a server fault, not bad input
            return new BitrixException.TransientFailure(c, d, httpStatus, method, maskedUrl, true, null);
        }
        Matcher d7 = D7_CODE.matcher(c);
        if (d7.matches()) {
            switch (d7.group(2)) {
                case "404" -> {
                    return new BitrixException.NotFound(c, d, httpStatus, method, maskedUrl);
                }
                case "403" -> {
                    // the webhook user lacks store/catalog rights for the whole entity type: an operator must act
                    return new BitrixException.AuthFailure(c, d, httpStatus, method, maskedUrl);
                }
                default -> {
                    return new BitrixException.ValidationFailure(c, d, httpStatus, method, maskedUrl);
                }
            }
        }
        if (c.isEmpty() && NOT_FOUND_TEXT.matcher(d.trim()).matches()) {
            return new BitrixException.NotFound(c, d, httpStatus, method, maskedUrl);
        }
        if (c.equals("0") && d.toLowerCase(Locale.ROOT).contains("does not exist")) {
            // catalog.product.get of a missing product answers code 0 (§11.8)
            return new BitrixException.NotFound(c, d, httpStatus, method, maskedUrl);
        }
        if (httpStatus >= 500) {
            return new BitrixException.TransientFailure(c, d, httpStatus, method, maskedUrl, true, null);
        }
        return new BitrixException.ValidationFailure(c, d, httpStatus, method, maskedUrl);
    }
}
