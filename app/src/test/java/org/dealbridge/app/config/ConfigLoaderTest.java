package org.dealbridge.app.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    private Path yaml(String text) throws Exception {
        Path f = dir.resolve("dealbridge.yaml");
        Files.writeString(f, text);
        return f;
    }

    @Test
    void noFileMeansDefaults() {
        DealBridgeConfig c = ConfigLoader.load(null, Map.of());
        assertThat(c.embeddedKafka()).isTrue();
        assertThat(c.embeddedSchemaRegistry()).isTrue();
        assertThat(c.getInt("http.port")).isEqualTo(8080);
        assertThat(c.getString("store.site-id")).isEqualTo("s1");
        assertThat(c.getDouble("crm.rate.requests-per-second")).isEqualTo(2.0);
        assertThat(c.getInt("crm.rate.burst")).isEqualTo(50);
        assertThat(c.secret("crm.webhook-url")).isNull();
        assertThat(c.getString("http.bind-address")).isEqualTo("127.0.0.1");
    }

    @Test
    void nestedAndDottedKeysAreTheSame() throws Exception {
        DealBridgeConfig nested = ConfigLoader.load(yaml("""
                crm:
                  webhook-url: https://shop.bitrix24.ru/rest/1/abc123secret/
                  rate:
                    burst: 250
                store:
                  poll-interval: 5m
                """), Map.of());
        DealBridgeConfig dotted = ConfigLoader.load(yaml("""
                crm.webhook-url: https://shop.bitrix24.ru/rest/1/abc123secret/
                crm.rate.burst: 250
                store.poll-interval: 5m
                """), Map.of());
        for (DealBridgeConfig c : new DealBridgeConfig[] {nested, dotted}) {
            assertThat(c.secret("crm.webhook-url")).isEqualTo("https://shop.bitrix24.ru/rest/1/abc123secret/");
            assertThat(c.getInt("crm.rate.burst")).isEqualTo(250);
            assertThat(c.storePollInterval()).isEqualTo(Duration.ofMinutes(5));
        }
    }

    @Test
    void environmentOverridesTheFile() throws Exception {
        DealBridgeConfig c = ConfigLoader.load(yaml("http:\n  port: 9000\n"), Map.of("DEALBRIDGE_HTTP_PORT", "9100",
                "DEALBRIDGE_KAFKA_BOOTSTRAP_SERVERS", "broker:9092"));
        assertThat(c.getInt("http.port")).isEqualTo(9100);
        assertThat(c.getString("kafka.bootstrap-servers")).isEqualTo("broker:9092");
        assertThat(ConfigLoader.envName("crm.rate.requests-per-second")).isEqualTo("DEALBRIDGE_CRM_RATE_REQUESTS_PER_SECOND");
    }

    @Test
    void aBadValueNamesTheKeyAndTheValue() throws Exception {
        Path f = yaml("http:\n  port: eighty\n");
        assertThatThrownBy(() -> ConfigLoader.load(f, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("http.port").hasMessageContaining("eighty");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("DEALBRIDGE_CRM_RATE_BURST", "0")))
                .hasMessageContaining("crm.rate.burst").hasMessageContaining("0");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("DEALBRIDGE_STORE_POLL_INTERVAL", "soon")))
                .hasMessageContaining("store.poll-interval").hasMessageContaining("soon");
    }

    @Test
    void aTopicPrefixThatCannotStartATopicNameIsRefusedNamingTheKeyAndTheValue() {
        assertThat(ConfigLoader.load(null, Map.of()).topicPrefix()).as("default: today's names").isEmpty();
        assertThat(ConfigLoader.load(null, Map.of("DEALBRIDGE_KAFKA_TOPIC_PREFIX", "shop-a.")).topicPrefix()).isEqualTo("shop-a.");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("DEALBRIDGE_KAFKA_TOPIC_PREFIX", "shop a/")))
                .hasMessageContaining("kafka.topic-prefix").hasMessageContaining("shop a/").hasMessageContaining("'.', '_' and '-'");
        String tooLong = "p".repeat(130);
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("DEALBRIDGE_KAFKA_TOPIC_PREFIX", tooLong)))
                .hasMessageContaining("kafka.topic-prefix").hasMessageContaining(tooLong).hasMessageContaining("at most 129")
                .hasMessageContaining("249");
        assertThat(ConfigLoader.load(null, Map.of("DEALBRIDGE_KAFKA_TOPIC_PREFIX", "p".repeat(129))).topicPrefix()).hasSize(129);
    }

    @Test
    void anUnknownKeyIsRefusedSoATypoIsNotSilentlyIgnored() throws Exception {
        Path f = yaml("crm:\n  webhok-url: https://x/rest/1/y/\n");
        assertThatThrownBy(() -> ConfigLoader.load(f, Map.of()))
                .hasMessageContaining("crm.webhok-url").hasMessageContaining("unknown configuration key");
    }

    @Test
    void plainHttpWebhooksAreRefusedExceptOnLoopbackAndTheCodeIsMasked() throws Exception {
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("DEALBRIDGE_CRM_WEBHOOK_URL", "http://shop.example/rest/1/topsecret/")))
                .hasMessageContaining("crm.webhook-url").hasMessageContaining("plain http")
                .hasMessageNotContaining("topsecret").hasMessageContaining("/rest/1/***");
        assertThat(ConfigLoader.load(null, Map.of("DEALBRIDGE_CRM_WEBHOOK_URL", "http://127.0.0.1:8099/rest/1/topsecret/"))
                .secret("crm.webhook-url")).contains("topsecret");
        assertThat(ConfigLoader.load(null, Map.of("DEALBRIDGE_CRM_WEBHOOK_URL", "http://shop.example/rest/1/topsecret/",
                "DEALBRIDGE_REST_ALLOW_INSECURE_HTTP", "true")).secret("crm.webhook-url")).isNotNull();
    }

    @Test
    void aWebhookUrlMustHaveTheInboundWebhookShape() {
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("DEALBRIDGE_STORE_WEBHOOK_URL", "https://shop.example/api/")))
                .hasMessageContaining("store.webhook-url").hasMessageContaining("/rest/{userId}/{code}/");
    }

    @Test
    void secretsAreHiddenInTheConfigsOwnRendering() {
        DealBridgeConfig c = ConfigLoader.load(null, Map.of("DEALBRIDGE_CRM_APPLICATION_TOKEN", "tok-very-secret"));
        assertThat(c.values().toString()).doesNotContain("tok-very-secret");
        assertThat(c.secret("crm.application-token")).isEqualTo("tok-very-secret");
    }
}
