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
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Prometheus (Debian package, started here on 127.0.0.1) scrapes a running DealBridge every second; the
 * consumer lag and the sync-outcome counter are then read back through Prometheus' HTTP query API.
 */
class PrometheusScrapeTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void prometheusScrapesDealBridgeAndSeesConsumerLagAndSyncOutcomes() throws Exception {
        ExternalTool prometheus = ExternalTool.require("prometheus", "prometheus");
        try (RunningDealBridge dealBridge = new RunningDealBridge(dir.resolve("data"))) {
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
                assertThat(awaitValue(api, "up{job=\"dealbridge\"}", process)).isEqualTo(1.0);
                double lag = awaitValue(api, "sum(kafka_consumer_fetch_manager_records_lag{client_id=\""
                        + RunningDealBridge.LAG_GROUP + "-1\",topic=\"order-changes\",partition=\"0\"})", process);
                assertThat(lag).isEqualTo(RunningDealBridge.PRODUCED - RunningDealBridge.CONSUMED);
                double created = awaitValue(api, "sum(dealbridge_sync_outcomes_total{direction=\"ORDER_TO_DEAL\",outcome=\"CREATED\"})", process);
                assertThat(created).isEqualTo(RunningDealBridge.CREATED);
                double restCalls = awaitValue(api, "sum(dealbridge_rest_calls_total{portal=\"crm\",result=\"ok\"})", process);
                assertThat(restCalls).as("one call plus a batch (counted once and per command)").isGreaterThanOrEqualTo(2);
            } finally {
                process.destroy();
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            }
        }
    }

    /** Polls an instant query until it returns one sample, and returns its value. */
    private double awaitValue(String api, String query, Process prometheus) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
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
                    if (result.size() == 1) {
                        return Double.parseDouble(result.get(0).path("value").get(1).asText());
                    }
                }
            } catch (IOException notYetListening) {
                last = notYetListening.toString();
            }
            Thread.sleep(300);
        }
        throw new AssertionError("Prometheus query " + query + " gave no single sample within 30 s; last answer: " + last
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
