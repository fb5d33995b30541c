package org.dealbridge.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.errors.SerializationException;
import org.dealbridge.app.config.ConfigLoader;
import org.dealbridge.app.runtime.DealBridgeRuntime;
import org.dealbridge.app.runtime.SchemaRegistries;
import org.dealbridge.schemas.SyncOutcome;
import org.dealbridge.schemas.Topics;
import org.dealbridge.schemas.registry.HttpSchemaRegistry;
import org.dealbridge.schemas.registry.InMemorySchemaRegistry;
import org.dealbridge.schemas.registry.LookupOnlySchemaRegistry;
import org.dealbridge.schemas.registry.SchemaRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded registry read over the Confluent REST API, as kcat or Kafka UI would read it, and a registry DealBridge
 * may only read ({@code schema-registry.auto-register: false}): every subject checked at start, a missing one named.
 */
class SchemaRegistryReadApiTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dir;

    @Test
    void aConfluentClientReadsTheEmbeddedRegistryAndDecodesDealBridgesRecords() throws Exception {
        try (DealBridgeRuntime runtime = DealBridgeRuntime.start(ConfigLoader.load(null, Map.of(
                "DEALBRIDGE_DATA_DIR", dir.resolve("data").toString(), "DEALBRIDGE_HTTP_PORT", "0")))) {
            String base = "http://127.0.0.1:" + runtime.httpPort();
            HttpResponse<String> subjects = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/subjects")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(subjects.statusCode()).isEqualTo(200);
            assertThat(subjects.headers().firstValue("Content-Type")).contains("application/vnd.schemaregistry.v1+json");
            assertThat(subjects.body()).as("every subject registered at start").contains("\"order-changes-value\"")
                    .contains("\"sync-outcomes-value\"").contains("\"dead-letters-value\"");
            assertThat(HTTP.send(HttpRequest.newBuilder(URI.create(base + "/subjects/nope-value/versions/latest")).build(),
                    HttpResponse.BodyHandlers.ofString()).body()).contains("40401");
            assertThat(HTTP.send(HttpRequest.newBuilder(URI.create(base + "/subjects/order-changes-value/versions"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"schema\":\"\\\"string\\\"\"}")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).as("read-only").isEqualTo(405);

            // DealBridge's own Confluent client against it: what one instance wrote, another reads by id over HTTP
            SyncOutcome outcome = SyncOutcome.newBuilder().setSiteId("s1").setOrderId(5L).setDealId(7L)
                    .setDirection(org.dealbridge.schemas.SyncDirection.ORDER_TO_DEAL).setOutcome(org.dealbridge.schemas.Outcome.CREATED)
                    .setReason("test").setMappingVersion(1L).setCommandId("c").setAt(Instant.now()).build();
            byte[] written = runtime.topics().syncOutcomes().valueSerde().serializer().serialize(Topics.SYNC_OUTCOMES, outcome);
            SchemaRegistry overHttp = new HttpSchemaRegistry(HttpSchemaRegistry.Endpoint.of(base + "/"));
            Topics reader = new Topics(new LookupOnlySchemaRegistry(overHttp));
            reader.checkSchemas();  // look-ups only: every subject is there
            assertThat(reader.syncOutcomes().valueSerde().deserializer().deserialize(Topics.SYNC_OUTCOMES, written)).isEqualTo(outcome);
        }
    }

    @Test
    void withAutoRegisterOffAMissingSubjectStopsTheStartNamingIt() {
        Topics topics = new Topics(new LookupOnlySchemaRegistry(new InMemorySchemaRegistry()));
        assertThatThrownBy(topics::checkSchemas).isInstanceOf(SerializationException.class)
                .hasMessageContaining("order-changes-value").hasMessageContaining("dead-letters-value")
                .hasMessageContaining("schema-registry.auto-register is false");
    }

    @Test
    void theConfigurationBuildsALookUpOnlyRegistryWithCredentialsThatAreNeverShown() {
        SchemaRegistry registry = SchemaRegistries.create(ConfigLoader.load(null, Map.of(
                "DEALBRIDGE_SCHEMA_REGISTRY_URL", "https://registry.example.com/",
                "DEALBRIDGE_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO", "key:secret-of-the-registry",
                "DEALBRIDGE_SCHEMA_REGISTRY_AUTO_REGISTER", "false")), new java.util.Properties());
        assertThat(registry).isInstanceOf(LookupOnlySchemaRegistry.class);
        assertThat(String.valueOf(registry)).doesNotContain("secret-of-the-registry");
        assertThatThrownBy(() -> SchemaRegistries.create(ConfigLoader.load(null, Map.of(
                "DEALBRIDGE_SCHEMA_REGISTRY_URL", "https://registry.example.com/",
                "DEALBRIDGE_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO", "no-colon-secret")), new java.util.Properties()))
                .hasMessageContaining("user:password").hasMessageNotContaining("no-colon-secret");
        List.of(registry).forEach(SchemaRegistry::close);
    }
}
