package org.dealbridge.emulator;

import java.time.Instant;
import java.util.Map;

/**
 * One REST call the emulator served (or refused): a top-level HTTP call or a command inside a {@code batch}.
 * {@code httpStatus} is 0 when no answer was sent (TIMEOUT, DROP, APPLY_THEN_DROP); for a batch command it is the
 * status the method would have answered on its own. {@code params} are the parsed parameters (webhook code excluded).
 */
public record Call(Portal portal, String method, int httpStatus, Instant time, Map<String, Object> params,
                   boolean inBatch, String error) {

    /** A parameter by path, e.g. {@code param("id")} or {@code param("fields", "STAGE_ID")}; names case-insensitive. */
    public String param(String... path) {
        Object current = params;
        for (String name : path) {
            if (!(current instanceof Map)) {
                return null;
            }
            Object next = null;
            for (Map.Entry<?, ?> e : ((Map<?, ?>) current).entrySet()) {
                if (String.valueOf(e.getKey()).equalsIgnoreCase(name)) {
                    next = e.getValue();
                    break;
                }
            }
            current = next;
        }
        return current == null ? null : Params.asString(current);
    }

    public boolean succeeded() {
        return httpStatus == 200 && error == null;
    }

    @Override
    public String toString() {
        return portal + " " + method + " -> " + httpStatus + (error != null ? " " + error : "") + (inBatch ? " (in batch)" : "")
                + " " + params;
    }
}
