package org.dealbridge.bitrix;

import java.time.Duration;
import java.util.Objects;

/**
 * A failed Bitrix REST call. The {@link #errorCode()} is always a string, even when the portal sent {@code ""} (classic
 * CRM validation) or a number (sale/catalog codes such as {@code 200540400001}); classification keys on that string,
 * never on the HTTP status alone (reference §1.5 CONFLICT on auth statuses).
 *
 * <p>Messages carry the method and the <em>masked</em> webhook URL; the webhook code never appears.
 */
public class BitrixException extends RuntimeException {
    /** What went wrong, as the metric tag {@code result} spells it. */
    public enum Kind {
        RATE_LIMITED("rate_limited", true),
        OPERATION_LIMITED("operation_limited", true),
        TRANSIENT("transient", true),
        AUTH("auth", false),
        NOT_FOUND("not_found", false),
        INVALID("invalid", false);

        private final String tag;
        private final boolean retryable;

        Kind(String tag, boolean retryable) {
            this.tag = tag;
            this.retryable = retryable;
        }

        public String tag() {
            return tag;
        }

        public boolean retryable() {
            return retryable;
        }
    }

    private final Kind kind;
    private final String errorCode;
    private final String description;
    private final int httpStatus;
    private final String method;
    private final String maskedUrl;

    BitrixException(Kind kind, String errorCode, String description, int httpStatus, String method, String maskedUrl, Throwable cause) {
        super(message(kind, errorCode, description, httpStatus, method, maskedUrl), cause);
        this.kind = Objects.requireNonNull(kind);
        this.errorCode = errorCode == null ? "" : errorCode;
        this.description = description == null ? "" : description;
        this.httpStatus = httpStatus;
        this.method = method;
        this.maskedUrl = maskedUrl;
    }

    private static String message(Kind kind, String code, String description, int status, String method, String maskedUrl) {
        return method + " failed (" + kind.tag() + "): error=\"" + (code == null ? "" : code) + "\" "
                + (description == null || description.isEmpty() ? "" : "description=\"" + description + "\" ")
                + "http=" + (status == 0 ? "none" : Integer.toString(status)) + " url=" + maskedUrl;
    }

    public Kind kind() {
        return kind;
    }

    /** The portal's {@code error} value as a string: {@code ""} for classic CRM method errors, digits for sale codes. */
    public String errorCode() {
        return errorCode;
    }

    public String description() {
        return description;
    }

    /** HTTP status, or 0 when no response arrived (timeout, connection reset). */
    public int httpStatus() {
        return httpStatus;
    }

    public String method() {
        return method;
    }

    public String maskedUrl() {
        return maskedUrl;
    }

    /** Whether repeating the same call later may succeed. Says nothing about whether repeating it is SAFE (see {@link TransientFailure#mayHaveBeenApplied()}). */
    public boolean retryable() {
        return kind.retryable();
    }

    /** 503 {@code QUERY_LIMIT_EXCEEDED}: the portal's request bucket is full. The request was refused before it ran, so repeating it is safe. */
    public static final class RateLimited extends BitrixException {
        RateLimited(String code, String description, int status, String method, String maskedUrl) {
            super(Kind.RATE_LIMITED, code, description, status, method, maskedUrl, null);
        }
    }

    /**
     * 429 {@code OPERATION_TIME_LIMIT}: this METHOD used too much server time in the last 10 minutes and is blocked for
     * {@link #retryAfter()} (until {@code operating_reset_at}); other methods keep working. The call did not run.
     */
    public static final class OperationTimeLimit extends BitrixException {
        private final Duration retryAfter;

        OperationTimeLimit(String code, String description, int status, String method, String maskedUrl, Duration retryAfter) {
            super(Kind.OPERATION_LIMITED, code, description + " (method blocked for " + retryAfter.toSeconds() + " s)", status, method, maskedUrl, null);
            this.retryAfter = retryAfter;
        }

        public Duration retryAfter() {
            return retryAfter;
        }
    }

    /**
     * 5xx, an HTML or otherwise unparseable body, a timeout, a reset or closed connection. The call MAY have run on the
     * portal ({@link #mayHaveBeenApplied()}): a write must not be repeated blindly (reference §12) — look it up first.
     */
    public static final class TransientFailure extends BitrixException {
        private final boolean mayHaveBeenApplied;

        TransientFailure(String code, String description, int status, String method, String maskedUrl, boolean mayHaveBeenApplied, Throwable cause) {
            super(Kind.TRANSIENT, code, description, status, method, maskedUrl, cause);
            this.mayHaveBeenApplied = mayHaveBeenApplied;
        }

        /** False only when the request certainly never reached the portal (connection refused). */
        public boolean mayHaveBeenApplied() {
            return mayHaveBeenApplied;
        }
    }

    /** Wrong/expired webhook, missing scope, wrong auth type, plan or portal-level denial: nothing will work until an operator acts. */
    public static final class AuthFailure extends BitrixException {
        AuthFailure(String code, String description, int status, String method, String maskedUrl) {
            super(Kind.AUTH, code, description, status, method, maskedUrl, null);
        }
    }

    /** The entity does not exist ({@code ""}/"Not found", {@code NOT_FOUND}, {@code ERROR_NOT_FOUND}, sale {@code 2xxx404xxxxx}). */
    public static final class NotFound extends BitrixException {
        NotFound(String code, String description, int status, String method, String maskedUrl) {
            super(Kind.NOT_FOUND, code, description, status, method, maskedUrl, null);
        }
    }

    /** The portal rejected the input ({@code ""} with a description, {@code ERROR_CORE}, {@code ERROR_ARGUMENT}, numeric sale codes…). Repeating it fails again. */
    public static final class ValidationFailure extends BitrixException {
        ValidationFailure(String code, String description, int status, String method, String maskedUrl) {
            super(Kind.INVALID, code, description, status, method, maskedUrl, null);
        }
    }
}
