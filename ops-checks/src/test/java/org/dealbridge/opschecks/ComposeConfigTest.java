package org.dealbridge.opschecks;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** docker-compose.yml: valid for Debian's docker-compose (v1 parser), and every file it mounts or builds from exists. */
class ComposeConfigTest {
    static final Path ROOT = ExternalTool.repositoryRoot();

    @Test
    void composeFilePassesDockerComposeConfig() {
        ExternalTool compose = ExternalTool.require("docker-compose", "docker-compose");
        ExternalTool.Result result = compose.run(ROOT, null, "-f", "docker-compose.yml", "config", "-q");
        assertThat(result.exitCode()).as(result.output()).isZero();
    }

    @Test
    void everyMountedFileAndTheDockerfileExistAndDealBridgeIsReachableForPrometheus() throws Exception {
        JsonNode compose = new ObjectMapper(new YAMLFactory()).readTree(ROOT.resolve("docker-compose.yml").toFile());
        JsonNode services = compose.path("services");
        assertThat(services.fieldNames()).toIterable().contains("kafka", "schema-registry", "dealbridge", "prometheus", "grafana");
        for (JsonNode service : services) {
            for (JsonNode volume : service.path("volumes")) {
                String source = volume.asText().split(":")[0];
                if (source.startsWith("./")) {
                    assertThat(ROOT.resolve(source)).as(volume.asText()).exists();
                }
            }
        }
        assertThat(ROOT.resolve(services.path("dealbridge").path("build").path("dockerfile").asText())).isRegularFile();
        JsonNode env = services.path("dealbridge").path("environment");
        assertThat(env.path("DEALBRIDGE_HTTP_BIND_ADDRESS").asText()).isEqualTo("0.0.0.0");
        assertThat(env.path("DEALBRIDGE_KAFKA_BOOTSTRAP_SERVERS").asText()).isEqualTo("kafka:9092");
        String port = env.path("DEALBRIDGE_HTTP_PORT").asText();
        String scrape = Files.readString(ROOT.resolve("ops/prometheus/prometheus.yml"));
        assertThat(scrape).contains("dealbridge:" + port).contains("/etc/prometheus/alerts.yml");
        assertThat(services.path("kafka").path("image").asText()).startsWith("apache/kafka:");
        assertThat(env.toString()).as("no secret is written into the compose file")
                .doesNotContain("/rest/1/");
    }
}
