package org.dealbridge.bitrix;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import org.dealbridge.emulator.BitrixEmulator;

/** Clients wired to a running emulator, with a private fast limiter so tests neither wait nor share buckets. */
public final class EmulatorClients {
    private EmulatorClients() {
    }

    public static BitrixClientConfig.Builder crm(BitrixEmulator emu, MeterRegistry registry) {
        return fast(BitrixClient.builder(emu.crmWebhookUrl()).portal("crm"), "crm", registry);
    }

    public static BitrixClientConfig.Builder store(BitrixEmulator emu, MeterRegistry registry) {
        return fast(BitrixClient.builder(emu.storeWebhookUrl()).portal("store"), "store", registry);
    }

    private static BitrixClientConfig.Builder fast(BitrixClientConfig.Builder b, String portal, MeterRegistry registry) {
        return b.meterRegistry(registry)
                .rateLimiter(new PortalRateLimiter(portal, PortalRateLimiter.Options.of(1000, 1000).withInitialFill(0)))
                .callTimeout(Duration.ofSeconds(5))
                .retry(4, Duration.ofMillis(20), Duration.ofMillis(200));
    }
}
