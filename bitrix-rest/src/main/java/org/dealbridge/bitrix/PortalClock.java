package org.dealbridge.bitrix;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * The portal's own time, as its answers report it (the envelope's {@code time}, reference §1.3): the latest
 * {@code time.finish} (else {@code date_finish}), advanced by the time that passed here since that answer arrived,
 * measured with {@link System#nanoTime()}. DealBridge's own clock setting plays no part, so a portal's dates
 * ({@code DATE_MODIFY}, {@code dateUpdate}) are compared only with this, never with DealBridge's or the other portal's
 * clock (issue 13 item 3: each may be minutes off). Off by at most the answer's travel time.
 */
public final class PortalClock {
    private record Reading(Instant portalTime, long receivedNanos) {
    }

    private volatile Reading last;

    /** Records the time an answer's envelope reports, if any; the {@code time} keys are optional (§1.3). */
    void observe(JsonNode envelope, long receivedNanos) {
        JsonNode t = envelope == null ? null : envelope.get("time");
        if (t == null || !t.isObject()) {
            return;
        }
        Instant at = null;
        JsonNode finish = t.get("finish");
        if (finish != null && finish.isNumber()) {
            BigDecimal seconds = finish.decimalValue();
            at = Instant.ofEpochSecond(seconds.longValue(), seconds.remainder(BigDecimal.ONE).movePointRight(9).longValue());
        } else if (t.hasNonNull("date_finish")) {
            try {
                at = OffsetDateTime.parse(t.get("date_finish").asText()).toInstant();
            } catch (DateTimeParseException e) {
                return;
            }
        }
        if (at != null) {
            last = new Reading(at, receivedNanos);
        }
    }

    /** The portal's time now; empty until an answer with a time has arrived. */
    public Optional<Instant> now() {
        Reading r = last;
        return r == null ? Optional.empty() : Optional.of(r.portalTime().plusNanos(System.nanoTime() - r.receivedNanos()));
    }
}
