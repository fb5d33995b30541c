package org.dealbridge.bitrix;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A successful envelope (reference §1.3): {@code result}, and for list methods {@code total} and {@code next} next to it.
 *
 * @param result           the method payload (scalar, object or array)
 * @param total            count of all matches for list methods; absent with {@code start=-1}
 * @param next             the {@code start} of the next page; absent on the last page
 * @param operatingResetAt {@code time.operating_reset_at} (cloud only) — when this method's oldest operating-time bucket expires
 * @param operatingSeconds {@code time.operating} (cloud only) — this method's accumulated execution time over 10 minutes
 * @param portalStart      {@code time.start} — when the portal began to serve the request, by its own clock (a lower
 *                         bound of when it read what it answers); empty when the envelope has no time
 */
public record BitrixResponse(JsonNode result, OptionalLong total, OptionalLong next, Optional<Instant> operatingResetAt,
                             Optional<Double> operatingSeconds, Optional<Instant> portalStart) {
}
