package org.dealbridge.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.dealbridge.app.config.ConfigLoader;
import org.dealbridge.app.config.DealBridgeConfig;
import org.dealbridge.app.runtime.DealBridgeRuntime;
import org.dealbridge.kafka.embedded.EmbeddedKafka;
import org.dealbridge.schemas.Topics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DealBridgeRuntimeTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dir;

    private DealBridgeConfig config(Map<String, String> extra) {
        var env = new java.util.HashMap<>(Map.of("DEALBRIDGE_DATA_DIR", dir.resolve("data").toString(), "DEALBRIDGE_HTTP_PORT", "0"));
        env.putAll(extra);
        return ConfigLoader.load(null, env);
    }

    private static HttpResponse<String> get(int port, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void startsWithNoConfigurationOnAnEmbeddedBrokerAndReportsTheConnectionsAsNotConfigured() throws Exception {
        String clusterId;
        try (DealBridgeRuntime runtime = DealBridgeRuntime.start(config(Map.of()))) {
            HttpResponse<String> health = get(runtime.httpPort(), "/health");
            long deadline = System.currentTimeMillis() + 30_000;
            while (health.statusCode() != 200 && System.currentTimeMillis() < deadline) {
                Thread.sleep(200); // UP once the deal projector's streams run
                health = get(runtime.httpPort(), "/health");
            }
            assertThat(health.statusCode()).as(health.body()).isEqualTo(200);
            assertThat(health.body()).contains("\"deal-projector\"");
            HttpResponse<String> ready = get(runtime.httpPort(), "/health/ready");
            assertThat(ready.statusCode()).isEqualTo(200);
            assertThat(ready.body()).contains("\"deal-projector\"").contains("NOT_CONFIGURED");
            HttpResponse<String> live = get(runtime.httpPort(), "/health/live");
            assertThat(live.statusCode()).isEqualTo(200);
            assertThat(live.body()).contains("UP").doesNotContain("crm");
            assertThat(get(runtime.httpPort(), "/health/other").statusCode()).isEqualTo(404);
            assertThat(health.body()).contains("\"status\" : \"UP\"")
                    .contains("\"crm\"").contains("\"store\"").contains("NOT_CONFIGURED");
            try (Admin admin = Admin.create(runtime.clientProperties())) {
                Set<String> names = admin.listTopics().names().get();
                assertThat(names).containsAll(Topics.DEFINITIONS.stream().map(Topics.Definition::name).toList());
                assertThat(admin.describeTopics(Set.of(Topics.MAPPING_CONFIG)).allTopicNames().get()
                        .get(Topics.MAPPING_CONFIG).partitions()).hasSize(1);
                clusterId = admin.describeCluster().clusterId().get();
            }
            HttpResponse<String> metrics = get(runtime.httpPort(), "/metrics");
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.body()).contains("jvm_memory_used_bytes");
            assertThat(get(runtime.httpPort(), "/nowhere").statusCode()).isEqualTo(404);
        }
        try (DealBridgeRuntime again = DealBridgeRuntime.start(config(Map.of()))) {
            try (Admin admin = Admin.create(again.clientProperties())) {
                assertThat(admin.describeCluster().clusterId().get()).as("the data dir is reused").isEqualTo(clusterId);
            }
        }
    }

    @Test
    void aFailedStartStopsTheEmbeddedBrokerItHadStarted() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            DealBridgeConfig cfg = config(Map.of("DEALBRIDGE_HTTP_PORT", Integer.toString(taken.getLocalPort())));
            assertThatThrownBy(() -> DealBridgeRuntime.start(cfg)).hasMessageContaining("http.port");
        }
        assertThat(Files.exists(dir.resolve("data").resolve(EmbeddedKafka.ADDRESS_FILE))).isFalse();
    }
}
