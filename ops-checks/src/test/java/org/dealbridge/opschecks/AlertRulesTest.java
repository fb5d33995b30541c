package org.dealbridge.opschecks;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * ops/prometheus/alerts.yml: valid for promtool, the rule logic unit-tested by promtool, complete, and querying only
 * metrics a running DealBridge really exports.
 */
class AlertRulesTest {
    static final Path PROMETHEUS = ExternalTool.repositoryRoot().resolve("ops/prometheus");

    @TempDir
    Path dir;

    @Test
    void rulesPassPromtoolCheck() {
        ExternalTool promtool = ExternalTool.require("promtool", "prometheus");
        ExternalTool.Result result = promtool.run(PROMETHEUS, null, "check", "rules", "alerts.yml");
        assertThat(result.exitCode()).as(result.output()).isZero();
    }

    @Test
    void ruleUnitTestsPass() {
        ExternalTool promtool = ExternalTool.require("promtool", "prometheus");
        ExternalTool.Result result = promtool.run(PROMETHEUS, null, "test", "rules", "alerts-test.yml");
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.output()).contains("SUCCESS");
    }

    @Test
    void ruleUnitTestsFailWhenAnAlertIsBroken() throws Exception {
        ExternalTool promtool = ExternalTool.require("promtool", "prometheus");
        // the dead-letter alert made blind (> 1000): its unit test must now fail, so the unit tests really check the logic
        String broken = Files.readString(PROMETHEUS.resolve("alerts.yml"))
                .replace("increase(dealbridge_dead_letters_total[1h])) > 0", "increase(dealbridge_dead_letters_total[1h])) > 1000");
        assertThat(broken).isNotEqualTo(Files.readString(PROMETHEUS.resolve("alerts.yml")));
        Files.writeString(dir.resolve("alerts.yml"), broken);
        Files.copy(PROMETHEUS.resolve("alerts-test.yml"), dir.resolve("alerts-test.yml"));
        ExternalTool.Result result = promtool.run(dir, null, "test", "rules", "alerts-test.yml");
        assertThat(result.exitCode()).as(result.output()).isNotZero();
        assertThat(result.output()).contains("DealBridgeDeadLetters");
    }

    @Test
    @ExtendWith(RunningDealBridge.Shared.class)
    void everyMetricTheRulesQueryIsOneDealBridgeExports(RunningDealBridge dealBridge) throws Exception {
        JsonNode root = new ObjectMapper(new YAMLFactory()).readTree(PROMETHEUS.resolve("alerts.yml").toFile());
        Set<String> recorded = new TreeSet<>();
        Map<String, Set<String>> usedByRule = new LinkedHashMap<>();
        for (JsonNode group : root.path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                if (rule.has("record")) {
                    recorded.add(rule.get("record").asText());
                }
                String name = rule.has("alert") ? rule.get("alert").asText() : rule.path("record").asText();
                usedByRule.put(name, DashboardTest.metricNames(rule.path("expr").asText()));
            }
        }
        Set<String> exported = DashboardTest.exportedNames(dealBridge.scrape());
        assertThat(usedByRule).isNotEmpty();
        usedByRule.forEach((rule, names) -> {
            Set<String> scraped = new TreeSet<>(names);
            scraped.removeAll(recorded); // the rules' own series, not DealBridge's
            scraped.remove("up"); // written by Prometheus for every scrape target
            assertThat(exported).as("metrics of rule %s", rule).containsAll(scraped);
        });
    }

    @Test
    void everyAlertHasAForClauseASeverityAndTextsNamingWhatToCheck() throws Exception {
        JsonNode root = new ObjectMapper(new YAMLFactory()).readTree(PROMETHEUS.resolve("alerts.yml").toFile());
        List<String> alerts = new ArrayList<>();
        for (JsonNode group : root.path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                if (!rule.has("alert")) {
                    continue;
                }
                String name = rule.get("alert").asText();
                alerts.add(name);
                assertThat(rule.path("for").asText()).as(name + " for").isNotBlank();
                assertThat(rule.path("labels").path("severity").asText()).as(name + " severity").isIn("warning", "critical");
                assertThat(rule.path("annotations").path("summary").asText()).as(name + " summary").isNotBlank();
                assertThat(rule.path("annotations").path("description").asText()).as(name + " description").hasSizeGreaterThan(40);
            }
        }
        assertThat(alerts).containsExactlyInAnyOrder("DealBridgeDown", "DealBridgeConsumerLagGrowing", "DealBridgeDeadLetters", "DealBridgeCrmThrottled",
                "DealBridgeAuthFailure", "DealBridgeMappingRejected", "DealBridgeNoOrderEventsWhileStoreOpen", "DealBridgePortalUnreachable",
                "DealBridgeIngestionUnreachable");
    }
}
