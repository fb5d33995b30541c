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
        envelopeTime(envelope, "finish").ifPresent(at -> last = new Reading(at, receivedNanos));
    }

    /**
     * When the portal began to serve a request, by its own clock: the answer's {@code time.start} (else
     * {@code date_start}); what the request read was read no earlier. Empty when the envelope has neither.
     */
    static Optional<Instant> startOf(JsonNode envelope) {
        return envelopeTime(envelope, "start");
    }

    private static Optional<Instant> envelopeTime(JsonNode envelope, String which) {
        JsonNode t = envelope == null ? null : envelope.get("time");
        if (t == null || !t.isObject()) {
            return Optional.empty();
        }
        JsonNode seconds = t.get(which);
        if (seconds != null && seconds.isNumber()) {
            BigDecimal s = seconds.decimalValue();
            return Optional.of(Instant.ofEpochSecond(s.longValue(), s.remainder(BigDecimal.ONE).movePointRight(9).longValue()));
        }
        if (t.hasNonNull("date_" + which)) {
            try {
                return Optional.of(OffsetDateTime.parse(t.get("date_" + which).asText()).toInstant());
            } catch (DateTimeParseException e) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    /** The portal's time now; empty until an answer with a time has arrived. */
    public Optional<Instant> now() {
        Reading r = last;
        return r == null ? Optional.empty() : Optional.of(r.portalTime().plusNanos(System.nanoTime() - r.receivedNanos()));
    }
}
