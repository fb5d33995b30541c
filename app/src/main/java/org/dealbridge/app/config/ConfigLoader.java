package org.dealbridge.app.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;

/**
 * Reads the configuration: a YAML file (nested, {@code crm: {webhook-url: ...}}, or flat dotted keys, or both),
 * then environment overrides {@code DEALBRIDGE_} + the key in upper snake case
 * ({@code crm.webhook-url} → {@code DEALBRIDGE_CRM_WEBHOOK_URL}), then validation against
 * {@link DealBridgeConfig#DEFINITION}.
 */
public final class ConfigLoader {
    public static final String ENV_PREFIX = "DEALBRIDGE_";

    private ConfigLoader() {
    }

    public static DealBridgeConfig load(Path file, Map<String, String> env) {
        Map<String, Object> values = new LinkedHashMap<>();
        if (file != null) {
            if (!Files.isRegularFile(file)) {
                throw new ConfigException("config file " + file.toAbsolutePath() + " does not exist or is not a file");
            }
            try {
                JsonNode root = new ObjectMapper(new YAMLFactory()).readTree(file.toFile());
                if (root != null && !root.isMissingNode() && !root.isNull()) {
                    if (!root.isObject()) {
                        throw new ConfigException("config file " + file + " must hold a YAML mapping of keys, not " + root.getNodeType());
                    }
                    flatten("", root, values);
                }
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                // the parser's own message quotes the offending line, which may hold a secret: say only where it is
                var at = e.getLocation();
                throw new ConfigException("config file " + file + " is not valid YAML"
                        + (at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr())
                        + " (the line is not shown: it may hold a secret)");
            } catch (IOException e) {
                throw new ConfigException("cannot read config file " + file + ": " + e.getClass().getSimpleName());
            }
        }
        for (String key : DealBridgeConfig.DEFINITION.names()) {
            String override = env.get(envName(key));
            if (override != null) {
                values.put(key, override);
            }
        }
        java.util.Set<String> ownVariables = new java.util.HashSet<>();
        DealBridgeConfig.DEFINITION.names().forEach(k -> ownVariables.add(envName(k)));
        for (Map.Entry<String, String> e : new java.util.TreeMap<>(env).entrySet()) {
            String key = ownVariables.contains(e.getKey()) ? null : KafkaClientSettings.keyForEnv(e.getKey());
            if (key != null) {
                values.put(key, e.getValue());
            }
        }
        DealBridgeConfig config = new DealBridgeConfig(values);
        config.validateWebhooks();
        return config;
    }

    /** {@code crm.webhook-url} → {@code DEALBRIDGE_CRM_WEBHOOK_URL}. */
    public static String envName(String key) {
        return ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    private static void flatten(String prefix, JsonNode node, Map<String, Object> out) {
        if (node.isObject()) {
            Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> e = fields.next();
                flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue(), out);
            }
        } else if (node.isNull()) {
            out.put(prefix, null);
        } else if (node.isArray()) {
            throw new ConfigException(prefix + ": lists are not supported here; use a comma-separated string");
        } else {
            if (out.containsKey(prefix)) {
                throw new ConfigException(prefix + " is given twice (nested and dotted)");
            }
            out.put(prefix, node.asText());
        }
    }
}
