package org.dealbridge.bitrix;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Map;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.emulator.Fault;
import org.junit.jupiter.api.Test;

/** The meter names as Prometheus scrapes them (the names dashboards and alerts use). */
class PrometheusNamesTest {
    @Test
    void exportedNames() {
        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (BitrixEmulator emu = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled())) {
            BitrixClient client = EmulatorClients.crm(emu, prometheus).build();
            client.call("crm.deal.fields", Map.of());
            emu.faults().failNext("crm.deal.fields", 1, Fault.HTTP_503);
            client.call("crm.deal.fields", Map.of());
            client.batch(java.util.List.of(BatchCommand.of("a", "crm.deal.fields", Map.of())));
            String scrape = prometheus.scrape();
            assertThat(scrape)
                    .contains("dealbridge_rest_calls_total{method=\"crm.deal.fields\",portal=\"crm\",result=\"ok\"} 3")
                    .contains("dealbridge_rest_calls_total{method=\"crm.deal.fields\",portal=\"crm\",result=\"rate_limited\"} 1")
                    .contains("dealbridge_rest_auth_failures_total{portal=\"crm\"} 0")
                    .contains("dealbridge_rest_batch_size_count{portal=\"crm\"} 1")
                    .contains("dealbridge_rest_ratelimit_wait_seconds_count{portal=\"crm\"}")
                    .contains("dealbridge_rest_ratelimit_rejections_total{limit=\"query_limit_exceeded\",portal=\"crm\"} 1")
                    .contains("dealbridge_rest_ratelimit_rate{portal=\"crm\"}");
        }
    }
}
