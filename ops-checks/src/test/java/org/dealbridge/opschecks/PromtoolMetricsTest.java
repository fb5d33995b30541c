package org.dealbridge.opschecks;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code promtool check metrics} on DealBridge's /metrics. promtool exits 1 on a parse error and 3 on naming/help
 * warnings; Kafka's own client metrics always draw warnings (counters without {@code _total} and the like), so this
 * fails on exit 1 and on any warning about a {@code dealbridge_} metric.
 */
@ExtendWith(RunningDealBridge.Shared.class)
class PromtoolMetricsTest {
    @TempDir
    static Path dir;
    static RunningDealBridge dealBridge;

    @BeforeAll
    static void dealBridge(RunningDealBridge running) {
        dealBridge = running;
    }

    @Test
    void dealBridgeMetricsPassPromtool() {
        ExternalTool promtool = ExternalTool.require("promtool", "prometheus");
        String metrics = dealBridge.scrape();
        assertThat(metrics).as("the check covers the meters of the running components")
                .contains("dealbridge_sync_outcomes_total{").contains("dealbridge_commands_total{").contains("dealbridge_events_in_total{")
                .contains("dealbridge_rest_calls_total{").contains("dealbridge_mapping_rejected_total{");
        assertThat(RunningDealBridge.hasLagSeries(metrics, "order-changes")).as("the Streams consumers' lag").isTrue();

        ExternalTool.Result result = promtool.run(dir, metrics.getBytes(StandardCharsets.UTF_8), "check", "metrics");

        assertThat(result.exitCode()).as("promtool parse error:\n" + result.output()).isNotEqualTo(1);
        assertThat(result.exitCode()).as(result.output()).isIn(0, 3);
        assertThat(dealBridgeWarnings(result.output()))
                .as("promtool's warnings about DealBridge's own meters (a missing help text is a meter registered without"
                        + " .description(...) somewhere: every registration of a name needs one)")
                .isEmpty();
    }

    @Test
    void aBadlyNamedDealBridgeMetricIsCaught() {
        ExternalTool promtool = ExternalTool.require("promtool", "prometheus");
        String bad = "# HELP dealbridge_sync_outcomes a counter without _total\n# TYPE dealbridge_sync_outcomes counter\n"
                + "dealbridge_sync_outcomes{outcome=\"CREATED\"} 1\n";
        ExternalTool.Result result = promtool.run(dir, bad.getBytes(StandardCharsets.UTF_8), "check", "metrics");
        assertThat(dealBridgeWarnings(result.output())).as(result.output()).isNotEmpty();
    }

    static List<String> dealBridgeWarnings(String promtoolOutput) {
        return promtoolOutput.lines().filter(l -> l.startsWith("dealbridge_")).toList();
    }
}
