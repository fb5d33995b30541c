package org.dealbridge.opschecks;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Grafana dashboard (Grafana itself is not packaged for Debian, so it is checked without it): every metric name
 * in every panel's PromQL must be one a running DealBridge exports, and every panel must use the provisioned
 * datasource.
 */
@ExtendWith(RunningDealBridge.Shared.class)
class DashboardTest {
    static final Path GRAFANA = ExternalTool.repositoryRoot().resolve("ops/grafana");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static RunningDealBridge dealBridge;

    @BeforeAll
    static void dealBridge(RunningDealBridge running) {
        dealBridge = running;
    }

    @Test
    void everyPanelQueriesOnlyMetricsDealBridgeExports() throws Exception {
        Set<String> exported = exportedNames(dealBridge.scrape());
        Map<String, Set<String>> usedByPanel = new LinkedHashMap<>();
        JsonNode dashboard = JSON.readTree(GRAFANA.resolve("dashboards/dealbridge.json").toFile());
        for (JsonNode panel : dashboard.path("panels")) {
            Set<String> names = new LinkedHashSet<>();
            for (JsonNode target : panel.path("targets")) {
                names.addAll(metricNames(target.path("expr").asText()));
            }
            usedByPanel.put(panel.path("title").asText(), names);
        }
        assertThat(usedByPanel).hasSizeGreaterThanOrEqualTo(9);
        usedByPanel.forEach((title, names) -> {
            assertThat(names).as("panel '%s' has a query", title).isNotEmpty();
            assertThat(exported).as("metrics of panel '%s'", title).containsAll(names);
        });
    }

    @Test
    void theDashboardCoversWhatOpsMustSee() throws Exception {
        JsonNode dashboard = JSON.readTree(GRAFANA.resolve("dashboards/dealbridge.json").toFile());
        Set<String> all = new TreeSet<>();
        dashboard.path("panels").forEach(p -> p.path("targets").forEach(t -> all.addAll(metricNames(t.path("expr").asText()))));
        assertThat(all).contains("kafka_consumer_fetch_manager_records_lag", "dealbridge_events_in_total", "dealbridge_commands_total",
                "dealbridge_sync_outcomes_total", "dealbridge_rest_ratelimit_rate", "dealbridge_rest_ratelimit_rejections_total",
                "dealbridge_rest_ratelimit_wait_seconds_sum", "dealbridge_sync_latency_seconds_bucket", "dealbridge_mapping_version",
                "dealbridge_dead_letters_total");
    }

    @Test
    void panelsUseTheProvisionedDatasource() throws Exception {
        JsonNode datasources = new ObjectMapper(new YAMLFactory()).readTree(GRAFANA.resolve("provisioning/datasources/prometheus.yml").toFile());
        String uid = datasources.path("datasources").get(0).path("uid").asText();
        JsonNode dashboard = JSON.readTree(GRAFANA.resolve("dashboards/dealbridge.json").toFile());
        for (JsonNode panel : dashboard.path("panels")) {
            assertThat(panel.path("datasource").path("uid").asText()).as(panel.path("title").asText()).isEqualTo(uid);
        }
        JsonNode providers = new ObjectMapper(new YAMLFactory()).readTree(GRAFANA.resolve("provisioning/dashboards/dealbridge.yml").toFile());
        assertThat(providers.path("providers").get(0).path("options").path("path").asText()).isEqualTo("/var/lib/grafana/dashboards");
    }

    @Test
    void theExtractorFindsMetricNamesAndNotFunctionsLabelsOrKeywords() {
        assertThat(metricNames("histogram_quantile(0.99, sum by (le, direction) (rate(dealbridge_sync_latency_seconds_bucket{portal=\"crm\",x=~\"a|b\"}[5m])))"))
                .containsExactly("dealbridge_sync_latency_seconds_bucket");
        assertThat(metricNames("sum by (portal) (rate(a_total[5m])) / on (portal) group_left max by (portal) (b_rate) * 60 and bool c offset 5m"))
                .containsExactly("a_total", "b_rate", "c");
        // a typo is a name no scrape contains
        assertThat(exportedNames(dealBridge.scrape())).doesNotContainAnyElementsOf(metricNames("rate(dealbridge_sync_outcome_total[5m])"));
    }

    private static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"");
    private static final Pattern MATCHERS = Pattern.compile("\\{[^}]*}");
    private static final Pattern RANGE = Pattern.compile("\\[[^]]*]");
    private static final Pattern GROUPING = Pattern.compile("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
    private static final Pattern IDENTIFIER = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Set<String> KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left", "group_right", "and", "or",
            "unless", "bool", "offset", "inf", "nan");

    /** Metric names in a PromQL expression: identifiers that are not functions, labels, keywords or durations. */
    static Set<String> metricNames(String expr) {
        String s = STRING.matcher(expr).replaceAll(" ");
        s = MATCHERS.matcher(s).replaceAll(" ");
        s = RANGE.matcher(s).replaceAll(" ");
        s = GROUPING.matcher(s).replaceAll(" ");
        s = s.replaceAll("\\boffset\\s+[0-9]+[smhdwy]", " ");
        Set<String> names = new LinkedHashSet<>();
        Matcher m = IDENTIFIER.matcher(s);
        while (m.find()) {
            String id = m.group();
            int next = m.end();
            while (next < s.length() && Character.isWhitespace(s.charAt(next))) {
                next++;
            }
            boolean function = next < s.length() && s.charAt(next) == '(';
            boolean partOfNumber = m.start() > 0 && Character.isDigit(s.charAt(m.start() - 1));
            if (!function && !partOfNumber && !KEYWORDS.contains(id.toLowerCase())) {
                names.add(id);
            }
        }
        return names;
    }

    /** Every sample name in a Prometheus text exposition. */
    static Set<String> exportedNames(String exposition) {
        Set<String> names = new TreeSet<>();
        exposition.lines().filter(l -> !l.startsWith("#") && !l.isBlank()).forEach(l -> {
            Matcher m = IDENTIFIER.matcher(l);
            if (m.lookingAt()) {
                names.add(m.group());
            }
        });
        return names;
    }
}
