package org.dealbridge.emulator;

/** What an injected fault does to a REST call. */
public enum Fault {
    /** HTTP 500 {@code INTERNAL_SERVER_ERROR}; the call is not applied. */
    HTTP_500,
    /** HTTP 503 {@code QUERY_LIMIT_EXCEEDED}; the call is not applied. */
    HTTP_503,
    /** HTTP 502 with an HTML body, as a gateway in front of the portal answers; the call is not applied. */
    HTTP_502_HTML,
    /** The request is held without an answer (longer than any sane client timeout) and then dropped; not applied. */
    TIMEOUT,
    /** The call is applied (a write is stored, events fire), then the connection is closed without any HTTP response. */
    APPLY_THEN_DROP,
    /** The connection is closed without any HTTP response and the call is not applied. */
    DROP
}
