package org.dealbridge.bitrix;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Our model of the portal's request bucket (reference §2.1): every HTTP request (a batch is one) adds one unit, the
 * bucket drains at {@code rate} per second, and a request that would push it past {@code burst} is refused with 503
 * {@code QUERY_LIMIT_EXCEEDED}. A caller {@link #acquire()}s before each request and waits as long as the portal's
 * bucket would need to make room, so the portal never has to refuse.
 *
 * <p>Written by hand because resilience4j's RateLimiter hands out a fixed number of permits per refresh period: it
 * cannot express "50 at once, then 2 per second as the bucket drains", and its window boundaries do not line up with the
 * portal's continuous drain, so it either wastes the burst or overruns the bucket at window edges.
 *
 * <p>Adaptive: a 503 means the portal's bucket is full whatever we believed (another process on the same IP, a restart,
 * clock drift), so the model is set to full and the drain rate is lowered ({@link Options#backoffFactor()}); after each
 * {@link Options#calmPeriod()} without a 503 it is raised by {@link Options#recoveryStep()} of the configured rate, never
 * above it.
 *
 * <p>Sharing: the portal counts per portal and source IP, so every caller of one portal in this process must share one
 * instance. {@link #shared} keeps a process-wide registry keyed by {@link WebhookUrl#portalKey()} (scheme, host, port);
 * {@link BitrixClient.Builder} uses it unless a limiter is handed in explicitly (tests that start many emulators do that).
 *
 * <p>Several instances of one installation call one portal from several processes: each is given its {@link #share}
 * of the budget (the launcher's rule: its share of the work, see the README's "How many instances"). The model stays
 * one of the whole portal bucket, on the assumption that the other instances fill it in proportion to their shares: a
 * request of ours adds {@code 1/share} to the modelled level, which drains at the full rate. So an instance spends
 * {@code share} of the rate and of the burst, and a change of share keeps the modelled level: when a dead instance's
 * share passes to this one, its part of the bucket is assumed as full as ours (both are, while work waits), so the
 * survivor does not refill what the dead one left queued at the portal.
 *
 * <p>At start nothing is known about the portal's bucket: a previous run of this process may have left it partly full.
 * {@link Options#initialFill()} (default half) is the assumed level; a wrong guess costs a few 503s at start, after
 * which the model is exact.
 */
public final class PortalRateLimiter {
    private static final Logger log = LoggerFactory.getLogger(PortalRateLimiter.class);
    private static final Map<String, PortalRateLimiter> SHARED = new ConcurrentHashMap<>();
    private static final double NANOS = 1_000_000_000d;

    /**
     * @param ratePerSecond drain rate of the portal bucket (2 by default, 5 on Enterprise)
     * @param burst         bucket capacity (50 by default, 250 on Enterprise)
     * @param headroom      units kept free below {@code burst}, absorbing network jitter between our clock and the
     *                      portal's (a request reserved earlier may arrive later than the next one)
     * @param initialFill   assumed fill level at start, 0..1 of {@code burst}
     * @param backoffFactor rate multiplier on each 503 (0..1)
     * @param minRateFraction the rate never drops below this fraction of {@code ratePerSecond}
     * @param calmPeriod    how long without a 503 before the rate is raised one step
     * @param recoveryStep  fraction of {@code ratePerSecond} added per calm period
     */
    public record Options(double ratePerSecond, int burst, int headroom, double initialFill, double backoffFactor,
                          double minRateFraction, Duration calmPeriod, double recoveryStep) {
        public Options {
            if (!(ratePerSecond > 0)) {
                throw new IllegalArgumentException("ratePerSecond must be > 0, got " + ratePerSecond);
            }
            if (burst < 1) {
                throw new IllegalArgumentException("burst must be >= 1, got " + burst);
            }
            if (headroom < 0 || headroom >= burst) {
                throw new IllegalArgumentException("headroom must be in [0, burst), got " + headroom);
            }
            if (initialFill < 0 || initialFill > 1) {
                throw new IllegalArgumentException("initialFill must be in [0, 1], got " + initialFill);
            }
            if (!(backoffFactor > 0 && backoffFactor <= 1)) {
                throw new IllegalArgumentException("backoffFactor must be in (0, 1], got " + backoffFactor);
            }
            if (!(minRateFraction > 0 && minRateFraction <= 1)) {
                throw new IllegalArgumentException("minRateFraction must be in (0, 1], got " + minRateFraction);
            }
            Objects.requireNonNull(calmPeriod, "calmPeriod");
            if (!(recoveryStep > 0)) {
                throw new IllegalArgumentException("recoveryStep must be > 0, got " + recoveryStep);
            }
        }

        /** The cloud default plan: 2/s, burst 50. */
        public static Options standard() {
            return of(2, 50);
        }

        /** Enterprise plans: 5/s, burst 250. */
        public static Options enterprise() {
            return of(5, 250);
        }

        public static Options of(double ratePerSecond, int burst) {
            return new Options(ratePerSecond, burst, Math.min(2, burst - 1), 0.5, 0.8, 0.25, Duration.ofSeconds(30), 0.1);
        }

        public Options withInitialFill(double fill) {
            return new Options(ratePerSecond, burst, headroom, fill, backoffFactor, minRateFraction, calmPeriod, recoveryStep);
        }

        public Options withHeadroom(int units) {
            return new Options(ratePerSecond, burst, units, initialFill, backoffFactor, minRateFraction, calmPeriod, recoveryStep);
        }

        public Options withCalmPeriod(Duration period) {
            return new Options(ratePerSecond, burst, headroom, initialFill, backoffFactor, minRateFraction, period, recoveryStep);
        }
    }

    private final Options options;
    private final LongSupplier nanoClock;
    private final String portal;
    private final double capacity;   // burst - headroom
    // guarded by this
    private double level;            // requests in the modelled bucket (may exceed capacity: queued reservations)
    private long levelAt;
    private double rate;
    private long lastRateChangeAt;
    private double share = 1;

    private Timer waitTimer;
    private Counter queryLimitCounter;
    private Counter operationLimitCounter;

    public PortalRateLimiter(String portal, Options options, LongSupplier nanoClock) {
        this.portal = Objects.requireNonNull(portal, "portal");
        this.options = Objects.requireNonNull(options, "options");
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
        this.capacity = options.burst() - options.headroom();
        long now = nanoClock.getAsLong();
        this.level = options.initialFill() * capacity;
        this.levelAt = now;
        this.rate = options.ratePerSecond();
        this.lastRateChangeAt = now;
    }

    public PortalRateLimiter(String portal, Options options) {
        this(portal, options, System::nanoTime);
    }

    /**
     * The process-wide limiter of one portal. The first caller's options win; a later caller asking for different
     * options gets the existing instance and a warning (two budgets for one bucket would overrun it).
     */
    public static PortalRateLimiter shared(String portalKey, String portalTag, Options options, MeterRegistry registry) {
        PortalRateLimiter limiter = SHARED.computeIfAbsent(portalKey, k -> new PortalRateLimiter(portalTag, options).bindTo(registry));
        if (!limiter.options.equals(options)) {
            log.warn("rate limiter for {} already exists with {}; ignoring {}", portalKey, limiter.options, options);
        }
        return limiter;
    }

    /** Registers this limiter's meters (wait timer, 503/429 counters, current-rate gauge) tagged with its portal. */
    public synchronized PortalRateLimiter bindTo(MeterRegistry registry) {
        if (waitTimer == null) {
            waitTimer = Timer.builder("dealbridge.rest.ratelimit.wait")
                    .description("time callers waited for room in the portal's request bucket")
                    .tag("portal", portal).register(registry);
            queryLimitCounter = Counter.builder("dealbridge.rest.ratelimit.rejections")
                    .description("requests the portal refused for its limits")
                    .tag("portal", portal).tag("limit", "query_limit_exceeded").register(registry);
            operationLimitCounter = Counter.builder("dealbridge.rest.ratelimit.rejections")
                    .description("requests the portal refused for its limits")
                    .tag("portal", portal).tag("limit", "operation_time_limit").register(registry);
            Gauge.builder("dealbridge.rest.ratelimit.rate", this, PortalRateLimiter::currentRate)
                    .description("current assumed drain rate of the portal's request bucket, requests/s")
                    .tag("portal", portal).register(registry);
            Gauge.builder("dealbridge.rest.ratelimit.share", this, PortalRateLimiter::share)
                    .description("share of the portal's rate budget this instance spends (its share of the work)")
                    .tag("portal", portal).register(registry);
        }
        return this;
    }

    /**
     * Reserves room for one request and returns how long the caller must wait before sending it. Pure bookkeeping, no
     * sleeping: {@link #acquire()} sleeps.
     */
    public synchronized Duration reserve() {
        if (share == 0) {
            throw new IllegalStateException("portal " + portal + ": this instance has no share of the rate budget now");
        }
        Duration wait = untilRoom();
        level += 1 / share;
        return wait;
    }

    /**
     * How long a request reserved now would wait for room in the portal's bucket; zero when it could go at once.
     * Reserves nothing: a caller spends the wait on something useful (a connector gathers more commands into its call)
     * and then {@link #acquire()}s. At share 0 (this instance owns no work now) it is the wait at share 1.
     */
    public synchronized Duration untilRoom() {
        long now = nanoClock.getAsLong();
        recover(now);
        drainTo(now);
        double cost = share == 0 ? 1 : 1 / share;  // the others' requests in proportion to ours
        double waitSeconds = level + cost > capacity ? (level + cost - capacity) / rate : 0;
        return Duration.ofNanos((long) Math.ceil(waitSeconds * NANOS));
    }

    /**
     * The share of the portal's budget (rate and burst) this limiter spends, 0..1; 1 (all of it) until set. At 0 callers
     * of {@link #acquire()} wait until a share is given.
     */
    public synchronized void share(double share) {
        if (!(share >= 0 && share <= 1)) {
            throw new IllegalArgumentException("portal " + portal + ": a share of the rate budget must be in [0, 1], got " + share);
        }
        if (share != this.share) {
            log.info("portal {}: this instance now spends {} of the rate budget ({} req/s)", portal, String.format("%.3f", share),
                    String.format("%.2f", options.ratePerSecond() * share));
        }
        this.share = share;
        notifyAll();
    }

    public synchronized double share() {
        return share;
    }

    /** Waits until the portal's bucket has room for one more request (and, at share 0, until there is a share). */
    public void acquire() throws InterruptedException {
        Duration wait;
        synchronized (this) {
            while (share == 0) {
                wait();
            }
            wait = reserve();
        }
        if (!wait.isZero()) {
            TimeUnit.NANOSECONDS.sleep(wait.toNanos());
        }
        if (waitTimer != null) {
            waitTimer.record(wait);
        }
    }

    /** The portal refused with 503: its bucket is full regardless of our model, and our rate was too high. */
    public synchronized void onQueryLimitExceeded() {
        long now = nanoClock.getAsLong();
        drainTo(now);
        level = Math.max(level, capacity + options.headroom());
        double lowered = Math.max(options.ratePerSecond() * options.minRateFraction(), rate * options.backoffFactor());
        if (lowered < rate) {
            log.warn("portal {} refused a request (QUERY_LIMIT_EXCEEDED); lowering assumed drain rate {} -> {} req/s", portal,
                    String.format("%.2f", rate), String.format("%.2f", lowered));
        }
        rate = lowered;
        lastRateChangeAt = now;
        if (queryLimitCounter != null) {
            queryLimitCounter.increment();
        }
    }

    /** The portal refused with 429 for one method; the bucket model is unaffected (that limit is per method). */
    public void onOperationTimeLimit() {
        if (operationLimitCounter != null) {
            operationLimitCounter.increment();
        }
    }

    public synchronized double currentRate() {
        recover(nanoClock.getAsLong());
        return rate;
    }

    /**
     * The modelled number of requests in the portal's bucket now (including reservations not yet sent), the other
     * instances' assumed in proportion to their shares.
     */
    public synchronized double currentLevel() {
        drainTo(nanoClock.getAsLong());
        return level;
    }

    public Options options() {
        return options;
    }

    private void drainTo(long now) {
        if (now > levelAt) {
            level = Math.max(0, level - (now - levelAt) / NANOS * rate);
            levelAt = now;
        }
    }

    private void recover(long now) {
        long calm = options.calmPeriod().toNanos();
        while (rate < options.ratePerSecond() && now - lastRateChangeAt >= calm) {
            // drain at the old rate up to the moment the rate changes, so the level stays exact
            drainTo(lastRateChangeAt + calm);
            rate = Math.min(options.ratePerSecond(), rate + options.ratePerSecond() * options.recoveryStep());
            lastRateChangeAt += calm;
        }
    }

    @Override
    public String toString() {
        return "PortalRateLimiter{portal=" + portal + ", options=" + options + "}";
    }
}
