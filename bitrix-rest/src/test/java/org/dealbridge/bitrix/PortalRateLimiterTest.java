package org.dealbridge.bitrix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class PortalRateLimiterTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);

    private PortalRateLimiter limiter(PortalRateLimiter.Options options) {
        return new PortalRateLimiter("test", options, now::get);
    }

    private void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    @Test
    void emptyBucketAllowsBurstMinusHeadroomWithoutWaiting() {
        PortalRateLimiter l = limiter(PortalRateLimiter.Options.of(2, 50).withInitialFill(0).withHeadroom(2));
        for (int i = 0; i < 48; i++) {
            assertThat(l.reserve()).as("request %d", i).isZero();
        }
        // the 49th must wait for half a unit to drain at 2/s
        assertThat(l.reserve()).isEqualTo(Duration.ofMillis(500));
        // and the one after that queues behind it
        assertThat(l.reserve()).isEqualTo(Duration.ofMillis(1000));
    }

    @Test
    void untilRoomSaysHowLongTheNextRequestWouldWaitAndReservesNothing() {
        PortalRateLimiter l = limiter(PortalRateLimiter.Options.of(2, 50).withInitialFill(0).withHeadroom(2));
        assertThat(l.untilRoom()).isZero();
        for (int i = 0; i < 48; i++) {
            l.reserve();
        }
        assertThat(l.untilRoom()).isEqualTo(Duration.ofMillis(500));
        assertThat(l.untilRoom()).as("asking again reserved nothing").isEqualTo(Duration.ofMillis(500));
        assertThat(l.reserve()).isEqualTo(Duration.ofMillis(500));
        advance(Duration.ofMillis(1000));
        assertThat(l.untilRoom()).as("the reserved request's unit drained, the next has room").isZero();
        l.share(0.5);
        assertThat(l.untilRoom()).as("at half a share a request of ours counts twice").isEqualTo(Duration.ofMillis(500));
    }

    @Test
    void twoInstancesWithHalfAShareEachNeverOverfillThePortalsBucketAndTheSurvivorTakesOverTheDeadOnesPart() {
        PortalRateLimiter.Options options = PortalRateLimiter.Options.of(2, 50).withInitialFill(0).withHeadroom(2);
        PortalRateLimiter[] instances = {limiter(options), limiter(options)};
        instances[0].share(0.5);
        instances[1].share(0.5);
        // each instance asks again as soon as its previous request went out; instance 0 "dies" after 150 s
        long start = now.get();
        long[] nextAsk = {start, start};
        java.util.List<Long> arrivals = new java.util.ArrayList<>();
        while (now.get() - start < Duration.ofSeconds(300).toNanos()) {
            boolean firstAlive = now.get() - start < Duration.ofSeconds(150).toNanos();
            int i = firstAlive && nextAsk[0] <= nextAsk[1] ? 0 : 1;
            if (!firstAlive && instances[1].share() < 1) {
                instances[1].share(1);  // the rebalance hands it the dead instance's partitions
            }
            now.set(Math.max(now.get(), nextAsk[i]));
            long sendAt = now.get() + instances[i].reserve().toNanos();
            arrivals.add(sendAt);
            nextAsk[i] = sendAt;
        }
        // the portal's bucket as the emulator keeps it: every request of both instances, draining at 2/s
        java.util.Collections.sort(arrivals);
        double bucket = 0;
        long last = arrivals.get(0);
        for (long arrival : arrivals) {
            bucket = Math.max(0, bucket - (arrival - last) / 1e9 * 2) + 1;
            last = arrival;
            assertThat(bucket).as("the portal's bucket").isLessThanOrEqualTo(50.0);
        }
        double seconds = (last - start) / 1e9;
        assertThat(arrivals.size() / seconds).as("both together use the whole rate").isBetween(1.9, 2.3);
        instances[0].share(0);
        assertThatThrownBy(instances[0]::reserve).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void sustainedRateEqualsDrainRate() {
        PortalRateLimiter l = limiter(PortalRateLimiter.Options.of(2, 50).withInitialFill(1));
        // full bucket: each request waits for one unit to drain; simulate callers that sleep what they are told
        long start = now.get();
        for (int i = 0; i < 100; i++) {
            advance(l.reserve());
        }
        double seconds = (now.get() - start) / 1e9;
        assertThat(100 / seconds).isBetween(1.99, 2.01);
    }

    @Test
    void bucketDrainsWhileIdle() {
        PortalRateLimiter l = limiter(PortalRateLimiter.Options.of(2, 50).withInitialFill(1).withHeadroom(0));
        assertThat(l.currentLevel()).isEqualTo(50.0);
        advance(Duration.ofSeconds(10));
        assertThat(l.currentLevel()).isEqualTo(30.0);
        advance(Duration.ofSeconds(100));
        assertThat(l.currentLevel()).isZero();
    }

    @Test
    void initialFillIsHalfByDefault() {
        PortalRateLimiter l = limiter(PortalRateLimiter.Options.standard());
        assertThat(l.currentLevel()).isEqualTo(24.0);   // half of burst 50 minus headroom 2
    }

    @Test
    void rateLimitedAssumesFullBucketAndLowersRateThenRecoversToConfiguredRate() {
        PortalRateLimiter l = limiter(PortalRateLimiter.Options.of(2, 50).withInitialFill(0).withCalmPeriod(Duration.ofSeconds(30)));
        assertThat(l.reserve()).isZero();
        l.onQueryLimitExceeded();
        assertThat(l.currentRate()).isEqualTo(1.6);
        assertThat(l.currentLevel()).isGreaterThanOrEqualTo(50.0);
        // next request must wait until the bucket has drained below capacity at the lowered rate
        assertThat(l.reserve()).isEqualTo(Duration.ofNanos((long) Math.ceil(3 / 1.6 * 1e9)));

        l.onQueryLimitExceeded();
        assertThat(l.currentRate()).isCloseTo(1.28, org.assertj.core.data.Offset.offset(1e-9));

        advance(Duration.ofSeconds(29));
        assertThat(l.currentRate()).isCloseTo(1.28, org.assertj.core.data.Offset.offset(1e-9));
        advance(Duration.ofSeconds(1));
        assertThat(l.currentRate()).isCloseTo(1.48, org.assertj.core.data.Offset.offset(1e-9));
        advance(Duration.ofMinutes(10));
        assertThat(l.currentRate()).isEqualTo(2.0);   // never above configured
    }

    @Test
    void rateNeverDropsBelowFloor() {
        PortalRateLimiter l = limiter(PortalRateLimiter.Options.of(2, 50));
        for (int i = 0; i < 50; i++) {
            l.onQueryLimitExceeded();
        }
        assertThat(l.currentRate()).isEqualTo(0.5);
    }

    @Test
    void optionsAreValidated() {
        assertThatThrownBy(() -> PortalRateLimiter.Options.of(0, 50)).hasMessageContaining("ratePerSecond");
        assertThatThrownBy(() -> PortalRateLimiter.Options.of(2, 0)).hasMessageContaining("burst");
        assertThatThrownBy(() -> PortalRateLimiter.Options.of(2, 50).withInitialFill(1.5)).hasMessageContaining("initialFill");
    }

    @Test
    void enterpriseDefaults() {
        assertThat(PortalRateLimiter.Options.enterprise().ratePerSecond()).isEqualTo(5.0);
        assertThat(PortalRateLimiter.Options.enterprise().burst()).isEqualTo(250);
    }
}
