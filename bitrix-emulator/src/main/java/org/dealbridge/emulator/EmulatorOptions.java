package org.dealbridge.emulator;

import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.Objects;

/**
 * How a {@link BitrixEmulator} starts. Defaults: 127.0.0.1 on a free port, webhook user 1, random-looking fixed codes,
 * the cloud's default leaky bucket (2 requests/s drain, burst 50) on each portal, no operating-time limit, portal time
 * zone +03:00, system clock, held TIMEOUT calls 30 s, up to 64 server threads (created on demand).
 */
public final class EmulatorOptions {
    int port = 0;
    String host = "127.0.0.1";
    int webhookUserId = 1;
    String crmCode = "crm7f3k9q2x8w1m5b";
    String storeCode = "shop4h8d2n6v0c3z";
    double crmDrainPerSecond = 2;
    int crmBurst = 50;
    boolean crmRateLimited = true;
    double storeDrainPerSecond = 2;
    int storeBurst = 50;
    boolean storeRateLimited = true;
    Duration operatingTimeLimit = null;
    Clock clock = Clock.systemUTC();
    Duration crmClockOffset = Duration.ZERO;
    Duration storeClockOffset = Duration.ZERO;
    ZoneOffset zone = ZoneOffset.ofHours(3);
    Duration timeoutHold = Duration.ofSeconds(30);
    Duration eventDeliveryTimeout = Duration.ofSeconds(5);
    int threads = 64;
    String crmAppToken = "crmapp5k2j8h4g6f1d";
    String storeAppToken = "shopapp9s3a7q1w5e";
    String applicationToken = "apptoken0m4n8b2v6c";
    java.util.Set<String> crmScopes = null; // null: every scope
    java.util.Set<String> storeScopes = null;
    String currency = "RUB";

    public static EmulatorOptions defaults() {
        return new EmulatorOptions();
    }

    /** Port to listen on; 0 picks a free one. */
    public EmulatorOptions port(int port) {
        this.port = port;
        return this;
    }

    /** Address to bind; loopback by default. */
    public EmulatorOptions host(String host) {
        this.host = Objects.requireNonNull(host, "host");
        return this;
    }

    /** Id of the employee who "created" both inbound webhooks ({@code /rest/{userId}/...}). */
    public EmulatorOptions webhookUserId(int userId) {
        this.webhookUserId = userId;
        return this;
    }

    public EmulatorOptions crmWebhookCode(String code) {
        this.crmCode = requireCode(code, "crmWebhookCode");
        return this;
    }

    public EmulatorOptions storeWebhookCode(String code) {
        this.storeCode = requireCode(code, "storeWebhookCode");
        return this;
    }

    private static String requireCode(String code, String what) {
        if (code == null || !code.matches("[A-Za-z0-9]{4,64}")) {
            throw new IllegalArgumentException(what + ": must be 4-64 letters or digits");
        }
        return code;
    }

    /** Leaky bucket of one portal: drains {@code requestsPerSecond}, refuses once {@code burst} requests are queued. */
    public EmulatorOptions rateLimit(Portal portal, double requestsPerSecond, int burst) {
        if (requestsPerSecond <= 0 || burst <= 0) {
            throw new IllegalArgumentException("rateLimit: requestsPerSecond and burst must be positive, got "
                    + requestsPerSecond + " and " + burst);
        }
        if (portal == Portal.CRM) {
            crmDrainPerSecond = requestsPerSecond;
            crmBurst = burst;
            crmRateLimited = true;
        } else {
            storeDrainPerSecond = requestsPerSecond;
            storeBurst = burst;
            storeRateLimited = true;
        }
        return this;
    }

    public EmulatorOptions rateLimitDisabled(Portal portal) {
        if (portal == Portal.CRM) {
            crmRateLimited = false;
        } else {
            storeRateLimited = false;
        }
        return this;
    }

    /** Disables the request-rate limit of both portals (handy for tests that do not exercise it). */
    public EmulatorOptions rateLimitDisabled() {
        crmRateLimited = false;
        storeRateLimited = false;
        return this;
    }

    /**
     * Enables the per-method operating-time limit: once a method has used more than {@code limit} of execution time
     * within the sliding 10 minutes, its next call gets 429 {@code OPERATION_TIME_LIMIT}. The cloud uses 480 s.
     */
    public EmulatorOptions operatingTimeLimit(Duration limit) {
        this.operatingTimeLimit = limit;
        return this;
    }

    /** Clock for dates, the rate limiter, outages and the operating-time windows. */
    public EmulatorOptions clock(Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
        return this;
    }

    /**
     * How far the CRM portal's clock is off the {@link #clock(Clock)}: its {@code DATE_MODIFY}, {@code MOVED_TIME} and
     * the {@code time} of its answers are that much ahead (negative: behind). Servers' clocks are never quite right.
     */
    public EmulatorOptions crmClockOffset(Duration offset) {
        this.crmClockOffset = Objects.requireNonNull(offset, "offset");
        return this;
    }

    /** How far the store's clock is off the {@link #clock(Clock)}: its {@code dateUpdate} and the {@code time} of its answers. */
    public EmulatorOptions storeClockOffset(Duration offset) {
        this.storeClockOffset = Objects.requireNonNull(offset, "offset");
        return this;
    }

    /** Offset the portals render their dates in. */
    public EmulatorOptions zone(ZoneOffset zone) {
        this.zone = Objects.requireNonNull(zone, "zone");
        return this;
    }

    /** How long a {@link Fault#TIMEOUT} holds the request before dropping it (or until {@code close()}). */
    public EmulatorOptions timeoutHold(Duration hold) {
        this.timeoutHold = Objects.requireNonNull(hold, "timeoutHold");
        return this;
    }

    /** How long the emulator waits for an event handler to answer before the delivery counts as lost. */
    public EmulatorOptions eventDeliveryTimeout(Duration timeout) {
        this.eventDeliveryTimeout = Objects.requireNonNull(timeout, "eventDeliveryTimeout");
        return this;
    }

    /** Most requests served at once; each call held by a {@link Fault#TIMEOUT} or a slow fault occupies one. */
    public EmulatorOptions threads(int threads) {
        if (threads < 2) {
            throw new IllegalArgumentException("threads: need at least 2, got " + threads);
        }
        this.threads = threads;
        return this;
    }

    /**
     * OAuth access token of the installed application on {@code portal}: calls to {@code /rest/{method}?auth=token}
     * run with application auth, which {@code event.bind} and {@code event.offline.*} require.
     */
    public EmulatorOptions applicationAccessToken(Portal portal, String token) {
        if (portal == Portal.CRM) {
            crmAppToken = requireCode(token, "applicationAccessToken");
        } else {
            storeAppToken = requireCode(token, "applicationAccessToken");
        }
        return this;
    }

    /** The {@code application_token} sent in events of handlers bound by the application with {@code event.bind}. */
    public EmulatorOptions applicationToken(String token) {
        this.applicationToken = requireCode(token, "applicationToken");
        return this;
    }

    /**
     * Scopes granted to a portal's inbound webhook ({@code crm}, {@code user}, {@code sale}, {@code catalog},
     * {@code pay_system}); a method outside them answers 403 {@code insufficient_scope}. Default: all.
     */
    public EmulatorOptions webhookScopes(Portal portal, String... scopes) {
        java.util.Set<String> set = new java.util.TreeSet<>();
        for (String scope : scopes) {
            set.add(scope.toLowerCase(java.util.Locale.ROOT));
        }
        if (portal == Portal.CRM) {
            crmScopes = set;
        } else {
            storeScopes = set;
        }
        return this;
    }

    /** Base currency of the CRM portal (default {@code RUB}). */
    public EmulatorOptions currency(String currency) {
        this.currency = Objects.requireNonNull(currency, "currency");
        return this;
    }
}
