package org.dealbridge.app.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code kafka.client.*} and the per-role keys: as an ops engineer writes them for a secured cluster. */
class KafkaClientSettingsTest {
    private static final String JAAS =
            "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"alice\" password=\"alice-secret\";";

    @TempDir
    Path dir;

    private Path yaml(String text) throws Exception {
        Path f = dir.resolve("dealbridge.yaml");
        Files.writeString(f, text);
        return f;
    }

    @Test
    void nestedYamlDottedKeysAndEnvironmentReachEveryClient() throws Exception {
        DealBridgeConfig config = ConfigLoader.load(yaml("""
                kafka:
                  bootstrap-servers: broker-1:9093
                  client:
                    security.protocol: SASL_SSL
                    sasl.mechanism: PLAIN
                kafka.client.ssl.truststore.location: /etc/kafka/truststore.jks
                """), Map.of("DEALBRIDGE_KAFKA_CLIENT_SASL_JAAS_CONFIG", JAAS));
        Properties client = config.kafkaClientProperties("broker-1:9093");
        assertThat(client).containsEntry("security.protocol", "SASL_SSL").containsEntry("sasl.mechanism", "PLAIN")
                .containsEntry("ssl.truststore.location", "/etc/kafka/truststore.jks")
                .containsEntry("bootstrap.servers", "broker-1:9093");
        assertThat(client.get("sasl.jaas.config")).isInstanceOf(Password.class);
        assertThat(((Password) client.get("sasl.jaas.config")).value()).isEqualTo(JAAS);
    }

    @Test
    void secretsAreTypedAsPasswordsAndNeverShown() throws Exception {
        DealBridgeConfig config = ConfigLoader.load(yaml("""
                kafka.client.security.protocol: SASL_SSL
                kafka.client.ssl.truststore.password: truststore-secret
                """), Map.of("DEALBRIDGE_KAFKA_CLIENT_SASL_JAAS_CONFIG", JAAS));
        String shown = config.kafkaClient().describe();
        assertThat(shown).contains("kafka.client.security.protocol=SASL_SSL")
                .contains("kafka.client.sasl.jaas.config=[hidden]")
                .contains("kafka.client.ssl.truststore.password=[hidden]")
                .doesNotContain("alice-secret").doesNotContain("truststore-secret");
        assertThat(config.kafkaClientProperties("b:1").get("ssl.truststore.password")).isInstanceOf(Password.class);
    }

    @Test
    void aPropertiesFileIsReadFirstAndExplicitKeysOverrideIt() throws Exception {
        Path file = dir.resolve("client.properties");
        Files.writeString(file, "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\nrequest.timeout.ms=20000\n");
        DealBridgeConfig config = ConfigLoader.load(yaml("kafka.client.config-file: " + file + "\n"),
                Map.of("DEALBRIDGE_KAFKA_CLIENT_SASL_MECHANISM", "PLAIN"));
        assertThat(config.kafkaClientProperties("b:1")).containsEntry("security.protocol", "SASL_PLAINTEXT")
                .containsEntry("sasl.mechanism", "PLAIN").containsEntry("request.timeout.ms", "20000");
    }

    @Test
    void perRoleKeysOverrideTheCommonOnesForThatRoleOnly() throws Exception {
        DealBridgeConfig config = ConfigLoader.load(yaml("""
                kafka.client.request.timeout.ms: "20000"
                kafka.producer.linger.ms: "50"
                kafka.consumer.request.timeout.ms: "40000"
                kafka.streams.num.stream.threads: "2"
                """), Map.of("DEALBRIDGE_KAFKA_ADMIN_RETRY_BACKOFF_MS", "500"));
        KafkaClientSettings s = config.kafkaClient();
        assertThat(s.forRole(KafkaClientSettings.Role.PRODUCER)).containsEntry("linger.ms", "50").containsEntry("request.timeout.ms", "20000");
        assertThat(s.forRole(KafkaClientSettings.Role.CONSUMER)).containsEntry("request.timeout.ms", "40000").doesNotContainKey("linger.ms");
        assertThat(s.forRole(KafkaClientSettings.Role.STREAMS)).containsEntry("num.stream.threads", "2");
        assertThat(s.forRole(KafkaClientSettings.Role.ADMIN)).containsEntry("retry.backoff.ms", "500");
        assertThat(s.common()).doesNotContainKeys("linger.ms", "num.stream.threads");
    }

    @Test
    void aMisspeltClientSettingIsRefusedWithoutItsValue() throws Exception {
        assertThatThrownBy(() -> ConfigLoader.load(yaml("kafka.client.sasl.jaas.confg: \"" + JAAS.replace("\"", "\\\"") + "\"\n"), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("kafka.client.sasl.jaas.confg").hasMessageContaining("did you mean sasl.jaas.config")
                .hasMessageNotContaining("alice-secret");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("DEALBRIDGE_KAFKA_PRODUCER_NUM_STREAM_THREADS", "2")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("kafka.producer.num.stream.threads")
                .hasMessageContaining("not a Kafka producer setting");
    }

    @Test
    void settingsDealBridgeOwnsAreRefused() {
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("DEALBRIDGE_KAFKA_CLIENT_BOOTSTRAP_SERVERS", "x:1")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("kafka.bootstrap-servers");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("DEALBRIDGE_KAFKA_PRODUCER_TRANSACTIONAL_ID", "x")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("DealBridge sets transactional.id itself");
    }

    @Test
    void configProvidersPassThroughForSecretsFromFiles() throws Exception {
        DealBridgeConfig config = ConfigLoader.load(yaml("""
                kafka.client.config.providers: file
                kafka.client.config.providers.file.class: org.apache.kafka.common.config.provider.FileConfigProvider
                kafka.client.sasl.jaas.config: "${file:/run/secrets/kafka.properties:jaas}"
                """), Map.of());
        assertThat(config.kafkaClientProperties("b:1")).containsEntry("config.providers", "file")
                .containsEntry("config.providers.file.class", "org.apache.kafka.common.config.provider.FileConfigProvider");
    }

    @Test
    void aMisspeltSecretKeyOfDealBridgeIsRefusedWithoutItsValue() throws Exception {
        assertThatThrownBy(() -> ConfigLoader.load(yaml("crm.webhook-ulr: https://shop.bitrix24.ru/rest/1/abc123secret/\n"), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("crm.webhook-ulr").hasMessageContaining("did you mean crm.webhook-url")
                .hasMessageNotContaining("abc123secret");
    }

    @Test
    void aYamlSyntaxErrorNamesTheLineButNotItsText() throws Exception {
        assertThatThrownBy(() -> ConfigLoader.load(yaml("store.site-id: s1\ncrm.webhook-url: https://x.bitrix24.ru/rest/1/abc123secret/: oops\n"), Map.of()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("line 2").hasMessageNotContaining("abc123secret");
    }
}
