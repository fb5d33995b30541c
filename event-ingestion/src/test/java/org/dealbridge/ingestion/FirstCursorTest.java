package org.dealbridge.ingestion;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class FirstCursorTest {

    private static final Instant DEALBRIDGE_NOW = Instant.parse("2026-12-06T12:03:00Z");
    private static final Clock DEALBRIDGE = Clock.fixed(DEALBRIDGE_NOW, ZoneOffset.UTC);
    private static final Duration LOOK_BACK = Duration.ofSeconds(60);

    @Test
    void theFirstCursorIsThePortalsOwnTimeNotDealBridges() {
        Instant storeNow = Instant.parse("2026-12-06T11:55:00Z");  // the store's clock 8 minutes behind DealBridge's
        FirstCursor first = FirstCursor.portalTimeMinus("store", () -> Optional.of(storeNow), LOOK_BACK, DEALBRIDGE);

        assertThat(first.at().toInstant()).isEqualTo(storeNow.minus(LOOK_BACK));
    }

    @Test
    void aPortalThatCannotTellItsTimeGetsDealBridgesTimeMinusTheSkewMargin() {
        FirstCursor unreachable = FirstCursor.portalTimeMinus("store", () -> {
            throw new IllegalStateException("connection refused");
        }, LOOK_BACK, DEALBRIDGE);
        FirstCursor silent = FirstCursor.portalTimeMinus("CRM", Optional::empty, LOOK_BACK, DEALBRIDGE);

        Instant expected = DEALBRIDGE_NOW.minus(LOOK_BACK).minus(FirstCursor.CLOCK_SKEW_MARGIN);
        assertThat(unreachable.at().toInstant()).isEqualTo(expected);
        assertThat(silent.at().toInstant()).isEqualTo(expected);
    }
}
