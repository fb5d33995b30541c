package org.dealbridge.opschecks;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Prometheus (Debian package, started here on 127.0.0.1) scrapes a running DealBridge every second; the
 * Streams consumers' lag and the sync-outcome counters are then read back through Prometheus' HTTP query API and
 * compared with what the traffic produced.
 */
@ExtendWith(RunningDealBridge.Shared.class)
class PrometheusScrapeTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration QUERY_TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void prometheusScrapesDealBridgeAndSeesConsumerLagAndSyncOutcomes(RunningDealBridge dealBridge) throws Exception {
        ExternalTool prometheus = ExternalTool.require("prometheus", "prometheus");
        int port = freePort();
        Path config = dir.resolve("prometheus.yml");
        Files.writeString(config, """
                global:
                  scrape_interval: 1s
                scrape_configs:
                  - job_name: dealbridge
                    metrics_path: /metrics
                    static_configs:
                      - targets: ["127.0.0.1:%d"]
                """.formatted(dealBridge.httpPort()));
        Process process = new ProcessBuilder(prometheus.path().toString(), "--config.file=" + config,
                "--storage.tsdb.path=" + dir.resolve("tsdb"), "--web.listen-address=127.0.0.1:" + port)
                .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
        try {
            String api = "http://127.0.0.1:" + port;
            assertThat(single(awaitResult(api, "up{job=\"dealbridge\"}", process, QUERY_TIMEOUT))).isEqualTo(1.0);

            double created = single(awaitResult(api, "sum(dealbridge_sync_outcomes_total{direction=\"ORDER_TO_DEAL\",outcome=\"CREATED\"})",
                    process, QUERY_TIMEOUT));
            assertThat(created).as("one deal per mapped order").isEqualTo(RunningDealBridge.ORDERS_MAPPED)
                    .isEqualTo(dealBridge.outcomes("ORDER_TO_DEAL", "CREATED"));
            double skipped = single(awaitResult(api,
                    "sum(dealbridge_sync_outcomes_total{direction=\"ORDER_TO_DEAL\",outcome=\"SKIPPED_UNMAPPED_STATUS\"})", process, QUERY_TIMEOUT));
            assertThat(skipped).as("the order in unmapped status W").isEqualTo(RunningDealBridge.ORDERS_UNMAPPED)
                    .isEqualTo(dealBridge.outcomes("ORDER_TO_DEAL", "SKIPPED_UNMAPPED_STATUS"));
            double statusUpdated = single(awaitResult(api,
                    "sum(dealbridge_sync_outcomes_total{direction=\"DEAL_TO_ORDER\",outcome=\"UPDATED\"})", process, QUERY_TIMEOUT));
            assertThat(statusUpdated).as("the manager's one stage change moved one order").isEqualTo(1)
                    .isEqualTo(dealBridge.outcomes("DEAL_TO_ORDER", "UPDATED"));

            // the projectors' Streams consumers on their input topics (client ids of Streams consumers end in -consumer;
            // the restore and global consumers have other suffixes); one partition per topic here
            JsonNode orderLag = awaitResult(api, "kafka_consumer_fetch_manager_records_lag{topic=\"order-changes\",client_id=~\".*deal-projector.*-consumer\"}",
                    process, QUERY_TIMEOUT);
            assertThat(orderLag.size()).as("one lag series per partition of order-changes: " + orderLag).isEqualTo(1);
            assertThat(value(orderLag.get(0))).as("all orders decided: the deal projector is caught up").isZero();
            JsonNode dealLag = awaitResult(api, "kafka_consumer_fetch_manager_records_lag{topic=\"deal-changes\",client_id=~\".*order-projector.*-consumer\"}",
                    process, QUERY_TIMEOUT);
            assertThat(dealLag.size()).as("one lag series per partition of deal-changes: " + dealLag).isEqualTo(1);
            assertThat(value(dealLag.get(0))).as("the stage change decided: the order projector is caught up").isZero();
            // the connectors' own consumers: what waits for the CRM and the store
            JsonNode crmLag = awaitResult(api, "kafka_consumer_fetch_manager_records_lag{topic=\"deal-commands\"}", process, QUERY_TIMEOUT);
            assertThat(crmLag.size()).as("the CRM connector's lag on deal-commands: " + crmLag).isEqualTo(1);
            assertThat(value(crmLag.get(0))).as("every deal command written").isZero();
            JsonNode storeLag = awaitResult(api, "kafka_consumer_fetch_manager_records_lag{topic=\"order-commands\"}", process, QUERY_TIMEOUT);
            assertThat(storeLag.size()).as("the store connector's lag on order-commands: " + storeLag).isEqualTo(1);
        } finally {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    private static double single(JsonNode result) {
        assertThat(result.size()).as("one sample: " + result).isEqualTo(1);
        return value(result.get(0));
    }

    private static double value(JsonNode sample) {
        return Double.parseDouble(sample.path("value").get(1).asText());
    }

    /** Polls an instant query until it returns at least one sample, and returns the samples. */
    private JsonNode awaitResult(String api, String query, Process prometheus, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            if (!prometheus.isAlive()) {
                throw new AssertionError("prometheus exited with " + prometheus.exitValue() + ": " + Files.readString(dir.resolve("prometheus.log")));
            }
            try {
                HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(api + "/api/v1/query?query="
                        + URLEncoder.encode(query, StandardCharsets.UTF_8))).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                last = r.body();
                if (r.statusCode() == 200) {
                    JsonNode result = JSON.readTree(r.body()).path("data").path("result");
                    if (result.size() > 0) {
                        return result;
                    }
                }
            } catch (IOException notYetListening) {
                last = notYetListening.toString();
            }
            Thread.sleep(300);
        }
        throw new AssertionError("Prometheus query " + query + " gave no sample within " + timeout.toSeconds() + " s; last answer: " + last
                + "\nlog: " + String.join("\n", tail(dir.resolve("prometheus.log"))));
    }

    private static List<String> tail(Path log) throws IOException {
        List<String> lines = Files.readAllLines(log);
        return lines.subList(Math.max(0, lines.size() - 15), lines.size());
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
