package org.dealbridge.bitrix;

import java.time.Instant;

/**
 * What a client knows about its portal, for health checks.
 *
 * @param portal    the portal name ({@code crm}, {@code store})
 * @param status    {@link Status}
 * @param lastError the last error message (masked), or null
 * @param lastErrorAt when it happened, or null
 */
public record PortalHealth(String portal, Status status, String lastError, Instant lastErrorAt) {
    public enum Status {
        /** The last calls worked. */
        UP,
        /** Retryable failures (limits, 5xx, timeouts) happened recently; calls may be slow or fail. */
        DEGRADED,
        /** The webhook, its scopes or the plan were rejected; stays until a call succeeds. An operator must act. */
        AUTH_FAILED
    }
}
