package org.dealbridge.ingestion;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a poller starts when no cursor was ever stored, asked once, when that cursor is stored ({@link ChangePoller#cursor()}).
 * The cursor is compared with the portal's modification dates, which are by the portal's own clock; so the first
 * cursor is too ({@link #portalTimeMinus}): taken from DealBridge's clock, a portal whose clock is behind
 * DealBridge's would have its changes of the first minutes dated before the cursor, and they would never be polled.
 */
@FunctionalInterface
public interface FirstCursor {
    /**
     * How far DealBridge's clock and a portal's may be apart when the portal cannot be asked (issue 13 item 3: each
     * up to 5 minutes off): the fallback starts that much earlier. Re-reading a few minutes is harmless (full-state
     * events); missing them is not.
     */
    Duration CLOCK_SKEW_MARGIN = Duration.ofMinutes(10);

    OffsetDateTime at();

    /**
     * This first cursor worked out now and kept: for a caller that must ask the portal before something stops it from
     * calling (the launcher asks before the pollers' leadership sets this instance's share of the rate budget, which
     * is 0 until it is elected, and a call at share 0 waits).
     */
    default FirstCursor askedNow() {
        return at(at());
    }

    /** A fixed first cursor (tests, and a cursor a user gives). */
    static FirstCursor at(OffsetDateTime cursor) {
        Objects.requireNonNull(cursor, "firstCursor");
        return new FirstCursor() {
            @Override
            public OffsetDateTime at() {
                return cursor;
            }

            @Override
            public String toString() {
                return cursor.toString();
            }
        };
    }

    /**
     * The portal's own time minus {@code lookBack} ({@code portalNow}: e.g. {@code StoreApi::portalNow}, the time of its
     * answers, reference §1.3). When the portal cannot tell (unreachable, or its answers carry no time), DealBridge's
     * clock minus {@code lookBack} and {@link #CLOCK_SKEW_MARGIN}, and the log says so.
     */
    static FirstCursor portalTimeMinus(String portal, Supplier<Optional<Instant>> portalNow, Duration lookBack, Clock dealBridgeClock) {
        Logger log = LoggerFactory.getLogger(FirstCursor.class);
        return new FirstCursor() {
            @Override
            public OffsetDateTime at() {
                Optional<Instant> now;
                String why;
                try {
                    now = portalNow.get();
                    why = "its answers carry no time";
                } catch (RuntimeException e) {
                    now = Optional.empty();
                    why = e.toString();
                }
                if (now.isPresent()) {
                    return now.get().minus(lookBack).atOffset(ZoneOffset.UTC);
                }
                OffsetDateTime fallback = dealBridgeClock.instant().minus(lookBack).minus(CLOCK_SKEW_MARGIN).atOffset(ZoneOffset.UTC);
                log.warn("The {} could not tell its time ({}); its poller's first cursor is DealBridge's time minus {} and a "
                        + "clock-skew margin of {}: {}", portal, why, lookBack, CLOCK_SKEW_MARGIN, fallback);
                return fallback;
            }

            @Override
            public String toString() {
                return "the " + portal + "'s time minus " + lookBack;
            }
        };
    }
}
