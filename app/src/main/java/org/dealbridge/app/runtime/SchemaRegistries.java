package org.dealbridge.app.runtime;

import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.dealbridge.app.config.DealBridgeConfig;
import org.dealbridge.schemas.registry.EmbeddedSchemaRegistry;
import org.dealbridge.schemas.registry.HttpSchemaRegistry;
import org.dealbridge.schemas.registry.SchemaRegistry;

/** The schema registry a configuration asks for: a Confluent-compatible one at schema-registry.url, else the embedded one. */
public final class SchemaRegistries {
    private SchemaRegistries() {
    }

    public static SchemaRegistry create(DealBridgeConfig config, Properties kafkaClient) {
        if (!config.embeddedSchemaRegistry()) {
            return new HttpSchemaRegistry(HttpSchemaRegistry.Endpoint.of(config.getString(DealBridgeConfig.SCHEMA_REGISTRY_URL)));
        }
        Map<String, Object> client = new HashMap<>();
        kafkaClient.forEach((k, v) -> client.put(k.toString(), v));
        return EmbeddedSchemaRegistry.open(client, config.getShort(DealBridgeConfig.KAFKA_REPLICATION));
    }
}
