package org.dealbridge.ingestion;

import org.dealbridge.bitrix.BitrixException;

/**
 * The one rule both sides read by: which failures to read a record wait (the record stays queued, the poller's cursor
 * stays before it, and it is read again) and which are the record's own for good (a dead letter naming it).
 *
 * <p>They wait when reading again later may work without anyone touching the record: the portal unreachable (connection
 * refused or dropped), a timeout, a 5xx or an HTML error page, a rate refusal (503 {@code QUERY_LIMIT_EXCEEDED}, 429
 * {@code OPERATION_TIME_LIMIT}) — {@link BitrixException#retryable()} — and also a refused webhook, scope or plan
 * ({@link BitrixException.AuthFailure}, reference §1.5): every read fails until an operator fixes it, the records are
 * fine, and dead letters for each of them would only need replaying afterwards ({@code /health} says DOWN meanwhile).
 * Everything else is the record's: the portal rejected the request for it ({@link BitrixException.ValidationFailure}) or
 * what it answered is malformed. A record that does not exist is neither: each side says what that means.
 */
public final class ReadFailures {
    private ReadFailures() {
    }

    /** True when the read should wait and be tried again; false when the record can never be read. */
    public static boolean waits(RuntimeException failure) {
        return failure instanceof BitrixException e && (e.retryable() || e.kind() == BitrixException.Kind.AUTH);
    }
}
