package org.dealbridge.bitrix;

import java.util.Locale;

/**
 * Whether a call may be repeated after a failure whose outcome is unknown (timeout, 5xx, dropped connection). Bitrix
 * REST has no idempotency keys (reference §12): repeating {@code crm.deal.add} after a timeout creates a second deal.
 *
 * <p>Refusals the portal makes BEFORE running a call (503 {@code QUERY_LIMIT_EXCEEDED}, 429 {@code OPERATION_TIME_LIMIT})
 * are repeated whatever this says: the call did not run.
 */
public enum Idempotence {
    /** Reads, and writes the caller knows are safe to repeat (e.g. an update setting absolute values). Retried on transient failures. */
    IDEMPOTENT,
    /** Writes that must never be repeated blindly ({@code *.add}). Transient failures surface to the caller, who looks the entity up first. */
    NOT_IDEMPOTENT;

    /**
     * Reads by method name: {@code *.get}, {@code *.list}, {@code *.fields}/{@code getFields}, {@code user.get},
     * {@code crm.duplicate.findbycomm}, {@code crm.status.entity.items}. Everything else is treated as a write.
     */
    public static Idempotence ofMethod(String method) {
        String m = method.toLowerCase(Locale.ROOT);
        String last = m.substring(m.lastIndexOf('.') + 1);
        boolean read = m.equals("crm.status.entity.items") || switch (last) {
            case "get", "list", "fields", "getfields", "findbycomm" -> true;
            default -> false;
        };
        return read ? IDEMPOTENT : NOT_IDEMPOTENT;
    }
}
