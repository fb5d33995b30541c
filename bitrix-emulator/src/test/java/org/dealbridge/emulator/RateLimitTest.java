package org.dealbridge.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RateLimitTest {
    private final ManualClock clock = new ManualClock(Instant.parse("2024-09-01T09:00:00Z"));
    private BitrixEmulator emu;

    @AfterEach
    void stop() {
        if (emu != null) {
            emu.close();
        }
    }

    private int fields(Portal portal) {
        return Rest.call(emu, portal, portal == Portal.CRM ? "crm.deal.fields" : "sale.status.list", Map.of()).status();
    }

    // reference CONFLICT: older docs said 429 for the request-rate limit; current docs (and the emulator) say 503
    @Test
    void burstIsServedThenRefusedWith503QueryLimitExceeded() {
        emu = BitrixEmulator.start(EmulatorOptions.defaults().clock(clock).rateLimit(Portal.CRM, 2, 5));
        for (int i = 0; i < 5; i++) {
            assertThat(fields(Portal.CRM)).as("request " + i).isEqualTo(200);
        }
        Rest.Answer refused = Rest.crm(emu, "crm.deal.fields", Map.of());
        assertThat(refused.status()).isEqualTo(503);
        assertThat(refused.body().get("error").asText()).isEqualTo("QUERY_LIMIT_EXCEEDED");
        assertThat(refused.body().get("error_description").asText()).isEqualTo("Too many requests");
        // the other portal has its own bucket
        assertThat(fields(Portal.STORE)).isEqualTo(200);
    }

    @Test
    void bucketDrainsAtTheConfiguredRate() {
        emu = BitrixEmulator.start(EmulatorOptions.defaults().clock(clock).rateLimit(Portal.CRM, 2, 4));
        for (int i = 0; i < 4; i++) {
            assertThat(fields(Portal.CRM)).isEqualTo(200);
        }
        assertThat(fields(Portal.CRM)).isEqualTo(503);
        clock.advance(Duration.ofMillis(500)); // one request drained
        assertThat(fields(Portal.CRM)).isEqualTo(200);
        assertThat(fields(Portal.CRM)).isEqualTo(503);
        clock.advance(Duration.ofSeconds(2)); // four drained
        for (int i = 0; i < 4; i++) {
            assertThat(fields(Portal.CRM)).isEqualTo(200);
        }
        assertThat(fields(Portal.CRM)).isEqualTo(503);
    }

    @Test
    void aBatchCountsAsOneRequest() {
        emu = BitrixEmulator.start(EmulatorOptions.defaults().clock(clock).rateLimit(Portal.CRM, 2, 2));
        Map<String, Object> cmd = new LinkedHashMap<>();
        for (int i = 0; i < 30; i++) {
            cmd.put("c" + i, "crm.deal.fields");
        }
        Rest.Answer first = Rest.crm(emu, "batch", Map.of("cmd", cmd));
        assertThat(first.status()).isEqualTo(200);
        assertThat(first.result().get("result").size()).isEqualTo(30);
        assertThat(Rest.crm(emu, "batch", Map.of("cmd", cmd)).status()).isEqualTo(200);
        assertThat(Rest.crm(emu, "batch", Map.of("cmd", cmd)).status()).isEqualTo(503);
    }

    @Test
    void limitCanBeForcedDeterministicallyAndDisabled() {
        emu = BitrixEmulator.start(EmulatorOptions.defaults().clock(clock).rateLimitDisabled());
        for (int i = 0; i < 80; i++) {
            assertThat(fields(Portal.STORE)).isEqualTo(200);
        }
        emu.forceQueryLimitExceeded(Portal.STORE, 2);
        assertThat(fields(Portal.STORE)).isEqualTo(503);
        assertThat(fields(Portal.STORE)).isEqualTo(503);
        assertThat(fields(Portal.STORE)).isEqualTo(200);
        emu.forceQueryLimitExceeded(Portal.CRM, true);
        assertThat(fields(Portal.CRM)).isEqualTo(503);
        assertThat(fields(Portal.CRM)).isEqualTo(503);
        emu.forceQueryLimitExceeded(Portal.CRM, false);
        assertThat(fields(Portal.CRM)).isEqualTo(200);
        emu.rateLimit(Portal.CRM, 1, 1);
        assertThat(fields(Portal.CRM)).isEqualTo(200);
        assertThat(fields(Portal.CRM)).isEqualTo(503);
        emu.rateLimitDisabled(Portal.CRM);
        assertThat(fields(Portal.CRM)).isEqualTo(200);
    }

    @Test
    void defaultIsTheCloudBucketOf50() {
        emu = BitrixEmulator.start(EmulatorOptions.defaults().clock(clock));
        for (int i = 0; i < 50; i++) {
            assertThat(fields(Portal.CRM)).as("request " + i).isEqualTo(200);
        }
        assertThat(fields(Portal.CRM)).isEqualTo(503);
    }

    @Test
    void operatingTimeLimitBlocksOnlyThatMethodWith429UntilTheWindowPasses() {
        emu = BitrixEmulator.start(EmulatorOptions.defaults().clock(clock).rateLimitDisabled()
                .operatingTimeLimit(Duration.ofSeconds(480)));
        emu.chargeOperatingTime(Portal.CRM, "crm.deal.fields", Duration.ofSeconds(200));
        Rest.Answer first = Rest.crm(emu, "crm.deal.fields", Map.of());
        assertThat(first.body().get("time").get("operating").asDouble()).isGreaterThanOrEqualTo(200);
        assertThat(first.body().get("time").get("operating_reset_at").asLong())
                .isEqualTo(clock.instant().getEpochSecond() / 60 * 60 + 600);
        assertThat(fields(Portal.CRM)).isEqualTo(200); // 400 s used
        assertThat(fields(Portal.CRM)).isEqualTo(200); // crosses 480 s; this call still completes
        Rest.Answer blocked = Rest.crm(emu, "crm.deal.fields", Map.of());
        assertThat(blocked.status()).isEqualTo(429);
        assertThat(blocked.body().get("error").asText()).isEqualTo("OPERATION_TIME_LIMIT");
        assertThat(Rest.crm(emu, "crm.deal.list", Map.of()).status()).isEqualTo(200); // other methods keep working
        clock.advance(Duration.ofMinutes(11));
        assertThat(fields(Portal.CRM)).isEqualTo(200);
    }
}
