package org.dealbridge.bitrix;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import org.dealbridge.retry.RetryPolicy;

/**
 * Settings of one {@link BitrixClient}. Build with {@link BitrixClient#builder(String)}.
 *
 * @param webhook              the parsed webhook base URL (its {@code toString()} is masked)
 * @param portal               short portal name used as the metric tag {@code portal} and in health ({@code crm}, {@code store})
 * @param rateLimit            the portal's bucket (2/s burst 50 by default; {@link PortalRateLimiter.Options#enterprise()} for 5/250)
 * @param rateLimiter          an explicit limiter to share, or null to use the process-wide one for this portal
 * @param connectTimeout       TCP/TLS connect timeout
 * @param callTimeout          timeout of one HTTP request including the response body (the cloud cuts requests at 60 s)
 * @param maxAttempts          attempts per call including the first (1 disables retries): the bound of this layer
 * @param initialBackoff       first retry delay; doubled each attempt with ±50 % jitter ({@link #retryPolicy()})
 * @param maxBackoff           cap on every retry delay but a 429's wait for the method's reset
 * @param maxOperationLimitWait a method blocked by 429 for longer than this fails at once instead of waiting
 * @param operationLimitFallback how long a method is blocked after 429 when no {@code operating_reset_at} is known (reference §2.3: ≥ 60 s)
 * @param degradedWindow       how long a retryable failure keeps {@link PortalHealth.Status#DEGRADED}
 * @param meterRegistry        where meters go; default {@link Metrics#globalRegistry}: a no-op until the application adds
 *                             its Prometheus registry to it, and one place for every client's meters without extra wiring
 * @param clock                wall clock for {@code operating_reset_at} and health
 */
public record BitrixClientConfig(WebhookUrl webhook, String portal, PortalRateLimiter.Options rateLimit, PortalRateLimiter rateLimiter,
                                 Duration connectTimeout, Duration callTimeout, int maxAttempts, Duration initialBackoff,
                                 Duration maxBackoff, Duration maxOperationLimitWait, Duration operationLimitFallback,
                                 Duration degradedWindow, MeterRegistry meterRegistry, Clock clock) {
    public BitrixClientConfig {
        Objects.requireNonNull(webhook, "webhook");
        Objects.requireNonNull(portal, "portal");
        if (!portal.matches("[a-z0-9_\\-]{1,32}")) {
            throw new IllegalArgumentException("portal name must match [a-z0-9_-]{1,32}, got '" + portal + "'");
        }
        Objects.requireNonNull(rateLimit, "rateLimit");
        positive("connectTimeout", connectTimeout);
        positive("callTimeout", callTimeout);
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be >= 1, got " + maxAttempts);
        }
        positive("initialBackoff", initialBackoff);
        positive("maxBackoff", maxBackoff);
        Objects.requireNonNull(maxOperationLimitWait, "maxOperationLimitWait");
        positive("operationLimitFallback", operationLimitFallback);
        positive("degradedWindow", degradedWindow);
        Objects.requireNonNull(meterRegistry, "meterRegistry");
        Objects.requireNonNull(clock, "clock");
        new RetryPolicy(maxAttempts, initialBackoff, maxBackoff);  // validated as the policy the calls follow
    }

    /** How a call is retried: the HTTP layer's policy (see {@link BitrixClient}'s "Retries"). */
    public RetryPolicy retryPolicy() {
        return new RetryPolicy(maxAttempts, initialBackoff, maxBackoff);
    }

    private static void positive(String name, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be a positive duration, got " + d);
        }
    }

    /** Mutable builder; defaults documented on each setter. */
    public static final class Builder {
        private final String webhookUrl;
        private boolean allowInsecureHttp;
        private String portal = "crm";
        private PortalRateLimiter.Options rateLimit = PortalRateLimiter.Options.standard();
        private PortalRateLimiter rateLimiter;
        private Duration connectTimeout = Duration.ofSeconds(10);
        private Duration callTimeout = Duration.ofSeconds(65);
        private int maxAttempts = 5;
        private Duration initialBackoff = Duration.ofMillis(500);
        private Duration maxBackoff = Duration.ofSeconds(30);
        private Duration maxOperationLimitWait = Duration.ofMinutes(2);
        private Duration operationLimitFallback = Duration.ofSeconds(60);
        private Duration degradedWindow = Duration.ofMinutes(1);
        private MeterRegistry meterRegistry = Metrics.globalRegistry;
        private Clock clock = Clock.systemUTC();

        Builder(String webhookUrl) {
            this.webhookUrl = Objects.requireNonNull(webhookUrl, "webhookUrl");
        }

        /** Allow plain http:// to a non-loopback host (default false: refused, the code would travel in clear text). */
        public Builder allowInsecureHttp(boolean allow) {
            this.allowInsecureHttp = allow;
            return this;
        }

        /** Metric tag and health name; default {@code crm}. */
        public Builder portal(String portal) {
            this.portal = portal;
            return this;
        }

        /** The portal's bucket; default 2/s, burst 50. */
        public Builder rateLimit(PortalRateLimiter.Options options) {
            this.rateLimit = options;
            return this;
        }

        /** Convenience for {@code rateLimit(Options.of(perSecond, burst))}. */
        public Builder rateLimit(double perSecond, int burst) {
            return rateLimit(PortalRateLimiter.Options.of(perSecond, burst));
        }

        /** Share this limiter instead of the process-wide one for the portal. */
        public Builder rateLimiter(PortalRateLimiter limiter) {
            this.rateLimiter = limiter;
            return this;
        }

        /** Default 10 s. */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = timeout;
            return this;
        }

        /** Default 65 s (the cloud cuts a request at 60 s). */
        public Builder callTimeout(Duration timeout) {
            this.callTimeout = timeout;
            return this;
        }

        /** Default 5 attempts, first backoff 500 ms, cap 30 s. */
        public Builder retry(int maxAttempts, Duration initialBackoff, Duration maxBackoff) {
            this.maxAttempts = maxAttempts;
            this.initialBackoff = initialBackoff;
            this.maxBackoff = maxBackoff;
            return this;
        }

        /** Default: wait up to 2 min for a 429-blocked method, block 60 s when no reset time is known. */
        public Builder operationLimit(Duration maxWait, Duration fallbackBlock) {
            this.maxOperationLimitWait = maxWait;
            this.operationLimitFallback = fallbackBlock;
            return this;
        }

        /** Default 1 min. */
        public Builder degradedWindow(Duration window) {
            this.degradedWindow = window;
            return this;
        }

        /** Default {@link Metrics#globalRegistry}. */
        public Builder meterRegistry(MeterRegistry registry) {
            this.meterRegistry = registry;
            return this;
        }

        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        public BitrixClientConfig config() {
            return new BitrixClientConfig(WebhookUrl.parse(webhookUrl, allowInsecureHttp), portal, rateLimit, rateLimiter,
                    connectTimeout, callTimeout, maxAttempts, initialBackoff, maxBackoff, maxOperationLimitWait,
                    operationLimitFallback, degradedWindow, meterRegistry, clock);
        }

        public BitrixClient build() {
            return new BitrixClient(config());
        }
    }
}
