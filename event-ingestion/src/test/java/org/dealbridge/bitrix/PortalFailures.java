package org.dealbridge.bitrix;

/** Failures as the REST client classifies them, for tests of what waits ({@code ReadFailures}). */
public final class PortalFailures {
    private PortalFailures() {
    }

    /** 503 {@code QUERY_LIMIT_EXCEEDED}: the portal's rate refusal, which waits. */
    public static BitrixException rateLimited(String method) {
        return BitrixErrors.classify(503, "QUERY_LIMIT_EXCEEDED", "Too many requests", method, "https://portal/rest/1/***/", null);
    }
}
