package org.dealbridge.app.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.HashMap;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.kafka.common.config.ConfigException;
import java.util.Map;
import java.util.Properties;
import org.dealbridge.app.config.DealBridgeConfig;
import org.dealbridge.schemas.registry.EmbeddedSchemaRegistry;
import org.dealbridge.schemas.registry.HttpSchemaRegistry;
import org.dealbridge.schemas.registry.LookupOnlySchemaRegistry;
import org.dealbridge.schemas.registry.SchemaRegistry;

/** The schema registry a configuration asks for: a Confluent-compatible one at schema-registry.url, else the embedded one. */
public final class SchemaRegistries {
    private SchemaRegistries() {
    }

    public static SchemaRegistry create(DealBridgeConfig config, Properties kafkaClient) {
        SchemaRegistry registry;
        if (!config.embeddedSchemaRegistry()) {
            HttpSchemaRegistry.Endpoint endpoint = HttpSchemaRegistry.Endpoint.of(config.getString(DealBridgeConfig.SCHEMA_REGISTRY_URL));
            String userInfo = config.secret(DealBridgeConfig.SCHEMA_REGISTRY_USER_INFO);
            if (userInfo != null) {
                if (!userInfo.contains(":")) {
                    throw new ConfigException(DealBridgeConfig.SCHEMA_REGISTRY_USER_INFO + " must be user:password (the value is not shown)");
                }
                endpoint = endpoint.withBasicAuth(userInfo);
            }
            registry = new HttpSchemaRegistry(endpoint, tls(config));
        } else {
            Map<String, Object> client = new HashMap<>();
            kafkaClient.forEach((k, v) -> client.put(k.toString(), v));
            registry = EmbeddedSchemaRegistry.open(client, config.topicPrefix(), config.getShort(DealBridgeConfig.KAFKA_REPLICATION));
        }
        return config.getBoolean(DealBridgeConfig.SCHEMA_REGISTRY_AUTO_REGISTER) ? registry : new LookupOnlySchemaRegistry(registry);
    }

    /** The TLS context of schema-registry.ssl.truststore.*, or null for the JDK's default trust. */
    private static SSLContext tls(DealBridgeConfig config) {
        String location = config.getString(DealBridgeConfig.SCHEMA_REGISTRY_TRUSTSTORE);
        if (location == null || location.isBlank()) {
            return null;
        }
        String password = config.secret(DealBridgeConfig.SCHEMA_REGISTRY_TRUSTSTORE_PASSWORD);
        try (InputStream in = Files.newInputStream(Path.of(location))) {
            KeyStore store = KeyStore.getInstance(config.getString(DealBridgeConfig.SCHEMA_REGISTRY_TRUSTSTORE_TYPE));
            store.load(in, password == null ? null : password.toCharArray());
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            return context;
        } catch (IOException | GeneralSecurityException e) {
            throw new ConfigException(DealBridgeConfig.SCHEMA_REGISTRY_TRUSTSTORE + ": cannot load " + location + ": "
                    + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : " (" + e.getMessage() + ")"));
        }
    }
}
