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

    public Connections(DealBridgeConfig config, MeterRegistry metrics) {
        boolean insecure = config.getBoolean(DealBridgeConfig.ALLOW_INSECURE_HTTP);
        String crmUrl = config.secret(DealBridgeConfig.CRM_WEBHOOK_URL);
        String storeUrl = config.secret(DealBridgeConfig.STORE_WEBHOOK_URL);
        this.crm = crmUrl == null ? null : client(crmUrl, "crm", insecure, config.getDouble(DealBridgeConfig.CRM_RATE_RPS),
                config.getInt(DealBridgeConfig.CRM_RATE_BURST), metrics);
        this.store = storeUrl == null ? null : client(storeUrl, "store", insecure, config.getDouble(DealBridgeConfig.STORE_RATE_RPS),
                config.getInt(DealBridgeConfig.STORE_RATE_BURST), metrics);
    }

    /**
     * Each connection gets its own bucket: this process holds one client per portal, and the CRM and the store are
     * separate portals with separate limits even when they share a host and port (as the emulators do).
     */
    private static BitrixClient client(String url, String portal, boolean insecure, double rate, int burst, MeterRegistry metrics) {
        PortalRateLimiter.Options options = PortalRateLimiter.Options.of(rate, burst);
        return BitrixClient.builder(url).portal(portal).allowInsecureHttp(insecure).rateLimit(options)
                .rateLimiter(new PortalRateLimiter(portal, options).bindTo(metrics)).meterRegistry(metrics).build();
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
