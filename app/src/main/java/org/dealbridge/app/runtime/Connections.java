package org.dealbridge.app.runtime;

import io.micrometer.core.instrument.MeterRegistry;
import java.util.Optional;
import org.dealbridge.app.config.DealBridgeConfig;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.bitrix.PortalRateLimiter;

/**
 * The two Bitrix REST connections of a configuration, each absent when its webhook URL is not set. One client per
 * portal for the whole process, so every caller shares the portal's rate budget.
 */
public final class Connections implements AutoCloseable {
    private final BitrixClient crm;
    private final BitrixClient store;
    private final PortalRateLimiter crmLimiter;
    private final PortalRateLimiter storeLimiter;
    private PortalShare crmShare;
    private PortalShare storeShare;

    public Connections(DealBridgeConfig config, MeterRegistry metrics) {
        boolean insecure = config.getBoolean(DealBridgeConfig.ALLOW_INSECURE_HTTP);
        String crmUrl = config.secret(DealBridgeConfig.CRM_WEBHOOK_URL);
        String storeUrl = config.secret(DealBridgeConfig.STORE_WEBHOOK_URL);
        this.crmLimiter = limiter("crm", config.getDouble(DealBridgeConfig.CRM_RATE_RPS),
                config.getInt(DealBridgeConfig.CRM_RATE_BURST), metrics);
        this.storeLimiter = limiter("store", config.getDouble(DealBridgeConfig.STORE_RATE_RPS),
                config.getInt(DealBridgeConfig.STORE_RATE_BURST), metrics);
        this.crm = crmUrl == null ? null : client(crmUrl, "crm", insecure, crmLimiter, metrics);
        this.store = storeUrl == null ? null : client(storeUrl, "store", insecure, storeLimiter, metrics);
    }

    /**
     * Each connection gets its own bucket: this process holds one client per portal, and the CRM and the store are
     * separate portals with separate limits even when they share a host and port (as the emulators do).
     */
    private static PortalRateLimiter limiter(String portal, double rate, int burst, MeterRegistry metrics) {
        return new PortalRateLimiter(portal, PortalRateLimiter.Options.of(rate, burst)).bindTo(metrics);
    }

    private static BitrixClient client(String url, String portal, boolean insecure, PortalRateLimiter limiter, MeterRegistry metrics) {
        return BitrixClient.builder(url).portal(portal).allowInsecureHttp(insecure).rateLimit(limiter.options())
                .rateLimiter(limiter).meterRegistry(metrics).build();
    }

    /**
     * This instance's share of the CRM's rate budget: the CRM connector's partitions and the CRM poller. Asked for by
     * {@code run} only (the share is 0 until the first assignment); the admin commands spend the whole budget.
     */
    synchronized PortalShare crmShare() {
        if (crmShare == null) {
            crmShare = new PortalShare(crmLimiter);
        }
        return crmShare;
    }

    /** This instance's share of the store's rate budget: the store connector's partitions and the store poller. */
    synchronized PortalShare storeShare() {
        if (storeShare == null) {
            storeShare = new PortalShare(storeLimiter);
        }
        return storeShare;
    }

    public Optional<BitrixClient> crm() {
        return Optional.ofNullable(crm);
    }

    public Optional<BitrixClient> store() {
        return Optional.ofNullable(store);
    }

    /** /health of one portal connection. */
    public static Health health(Optional<BitrixClient> client, String notConfigured) {
        if (client.isEmpty()) {
            return Health.notConfigured(notConfigured);
        }
        var h = client.get().health();
        return switch (h.status()) {
            case UP -> Health.up("reachable");
            case DEGRADED -> Health.degraded(h.lastError());
            case AUTH_FAILED -> Health.down("authorization failed: " + h.lastError());
        };
    }

    @Override
    public void close() {
        if (crm != null) {
            crm.close();
        }
        if (store != null) {
            store.close();
        }
    }
}
