package org.dealbridge.app.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Kafka client settings passed through to every producer, consumer, admin client and Streams app, the way Kafka
 * Connect passes {@code producer.*}: {@code kafka.client.*} for all of them (security, SASL, TLS, timeouts), then
 * {@code kafka.producer.*}, {@code kafka.consumer.*}, {@code kafka.admin.*} and {@code kafka.streams.*} for one role.
 * A properties file ({@value #CONFIG_FILE}, like the Kafka tools' {@code --command-config}) is read first and the
 * explicit keys override it.
 *
 * <p>Names are checked against the Kafka clients' own definitions, so a typo is refused at start as any other unknown
 * key is; values that Kafka types as passwords (or whose names say they are secret) are held as {@link Password} and
 * never printed. {@code config.providers} is passed through: Kafka's clients resolve {@code ${file:…}}/{@code ${env:…}}
 * references themselves.
 */
public final class KafkaClientSettings {

    public static final String CLIENT_PREFIX = "kafka.client.";
    public static final String CONFIG_FILE = "kafka.client.config-file";

    /** The client kinds that take settings of their own. */
    public enum Role {
        PRODUCER("kafka.producer.", ProducerConfig.configNames()),
        CONSUMER("kafka.consumer.", ConsumerConfig.configNames()),
        ADMIN("kafka.admin.", AdminClientConfig.configNames()),
        STREAMS("kafka.streams.", StreamsConfig.configDef().names());

        final String prefix;
        final Set<String> names;

        Role(String prefix, Set<String> names) {
            this.prefix = prefix;
            this.names = names;
        }

        public String prefix() {
            return prefix;
        }
    }

    /** Settings DealBridge itself decides per client (a user's value would break its guarantees). */
    private static final Set<String> OWNED = Set.of(
            "bootstrap.servers", "key.serializer", "value.serializer", "key.deserializer", "value.deserializer",
            "transactional.id", "enable.auto.commit", "isolation.level", "group.id", "application.id",
            "processing.guarantee", "default.key.serde", "default.value.serde", "state.dir");

    private static final Set<String> ALL_CLIENT_NAMES = allClientNames();

    private final Map<String, Object> common;
    private final Map<Role, Map<String, Object>> byRole;

    private KafkaClientSettings(Map<String, Object> common, Map<Role, Map<String, Object>> byRole) {
        this.common = common;
        this.byRole = byRole;
    }

    /** True for a key this class handles rather than {@link DealBridgeConfig#DEFINITION} (the file key excepted). */
    public static boolean isPassThrough(String key) {
        if (key.startsWith(CLIENT_PREFIX)) {
            return !key.equals(CONFIG_FILE);
        }
        return Arrays.stream(Role.values()).anyMatch(r -> key.startsWith(r.prefix));
    }

    /**
     * The configuration key for an environment variable, or null when the variable is not a pass-through one. Below
     * a prefix, {@code _} stands for {@code .} ({@code DEALBRIDGE_KAFKA_CLIENT_SASL_JAAS_CONFIG} →
     * {@code kafka.client.sasl.jaas.config}): Kafka client keys use dots and never underscores.
     */
    public static String keyForEnv(String variable) {
        String rest = variable.startsWith(ConfigLoader.ENV_PREFIX) ? variable.substring(ConfigLoader.ENV_PREFIX.length()) : null;
        if (rest == null) {
            return null;
        }
        for (String prefix : prefixes()) {
            String envPrefix = prefix.toUpperCase(Locale.ROOT).replace('.', '_');
            if (rest.startsWith(envPrefix) && rest.length() > envPrefix.length()) {
                return prefix + rest.substring(envPrefix.length()).toLowerCase(Locale.ROOT).replace('_', '.');
            }
        }
        return null;
    }

    private static java.util.List<String> prefixes() {
        java.util.List<String> all = new java.util.ArrayList<>();
        all.add(CLIENT_PREFIX);
        Arrays.stream(Role.values()).forEach(r -> all.add(r.prefix));
        return all;
    }

    /**
     * Collects and checks the pass-through keys of a configuration.
     *
     * @param values every configuration value as given (file and environment), pass-through or not
     * @param configFile the {@value #CONFIG_FILE} value, or null
     */
    static KafkaClientSettings from(Map<String, ?> values, String configFile) {
        Map<String, Object> common = new LinkedHashMap<>();
        if (configFile != null && !configFile.isBlank()) {
            readFile(Path.of(configFile)).forEach((k, v) -> common.put(k, checked(CONFIG_FILE + " " + configFile, k, v, null)));
        }
        Map<Role, Map<String, Object>> byRole = new java.util.EnumMap<>(Role.class);
        for (Role role : Role.values()) {
            byRole.put(role, new LinkedHashMap<>());
        }
        for (Map.Entry<String, ?> e : new java.util.TreeMap<String, Object>(values).entrySet()) {
            String key = e.getKey();
            if (!isPassThrough(key)) {
                continue;
            }
            String value = e.getValue() == null ? null : e.getValue() instanceof Password p ? p.value() : e.getValue().toString();
            if (key.startsWith(CLIENT_PREFIX)) {
                String name = key.substring(CLIENT_PREFIX.length());
                common.put(name, checked(key, name, value, null));
            } else {
                Role role = Arrays.stream(Role.values()).filter(r -> key.startsWith(r.prefix)).findFirst().orElseThrow();
                String name = key.substring(role.prefix.length());
                byRole.get(role).put(name, checked(key, name, value, role));
            }
        }
        return new KafkaClientSettings(Collections.unmodifiableMap(common), byRole);
    }

    /** The settings of every client. Secret values are {@link Password}s, which Kafka's clients accept as they are. */
    public Map<String, Object> common() {
        return common;
    }

    /** The settings of one kind of client, over {@link #common()}. */
    public Map<String, Object> forRole(Role role) {
        Map<String, Object> all = new LinkedHashMap<>(common);
        all.putAll(byRole.get(role));
        return all;
    }

    /** Only the role's own settings (without {@link #common()}). */
    public Map<String, Object> roleOnly(Role role) {
        return Collections.unmodifiableMap(byRole.get(role));
    }

    /** The names and masked values, for logs and error messages: a secret shows as {@code [hidden]}. */
    public String describe() {
        Map<String, Object> shown = new java.util.TreeMap<>();
        common.forEach((k, v) -> shown.put(CLIENT_PREFIX + k, v));
        byRole.forEach((role, values) -> values.forEach((k, v) -> shown.put(role.prefix + k, v)));
        StringBuilder sb = new StringBuilder();
        shown.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(k).append('=')
                .append(isSecret(k.substring(k.indexOf('.', "kafka.".length()) + 1)) ? Password.HIDDEN : v));
        return sb.toString();
    }

    /** True when the clients will talk plaintext without SASL or TLS (no {@code security.protocol} set). */
    public boolean plaintext() {
        Object protocol = common.get(AdminClientConfig.SECURITY_PROTOCOL_CONFIG);
        return protocol == null || "PLAINTEXT".equalsIgnoreCase(protocol.toString());
    }

    public static boolean isSecret(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        if (n.contains("password") || n.contains("secret") || n.contains("jaas") || n.contains("token")
                || n.contains("credential") || n.equals("ssl.keystore.key") || n.contains("api.key")) {
            return true;
        }
        return passwordTyped(n);
    }

    private static boolean passwordTyped(String name) {
        for (ConfigDef def : new ConfigDef[] {ProducerConfig.configDef(), ConsumerConfig.configDef(),
                AdminClientConfig.configDef(), StreamsConfig.configDef()}) {
            ConfigDef.ConfigKey key = def.configKeys().get(name);
            if (key != null && key.type == ConfigDef.Type.PASSWORD) {
                return true;
            }
        }
        return false;
    }

    /** Checks a name against the clients' definitions; the value is never part of an error message. */
    private static Object checked(String key, String name, String value, Role role) {
        if (value == null) {
            throw new ConfigException(key + " has no value");
        }
        if (OWNED.contains(name)) {
            throw new ConfigException(key + ": DealBridge sets " + name + " itself"
                    + ("bootstrap.servers".equals(name) ? " (use " + DealBridgeConfig.KAFKA_BOOTSTRAP_SERVERS + ")" : ""));
        }
        boolean known = name.startsWith(AbstractConfig.CONFIG_PROVIDERS_CONFIG)
                || (role == null ? ALL_CLIENT_NAMES.contains(name) || streamsClientPrefixed(name) : role.names.contains(name)
                        || role == Role.STREAMS && streamsClientPrefixed(name));
        if (!known) {
            throw new ConfigException(key + " is not a Kafka " + (role == null ? "client" : role.name().toLowerCase(Locale.ROOT))
                    + " setting" + suggestion(name, role) + " (the value is not shown: it may be a secret)");
        }
        // only what Kafka types as a password may be handed over as one; other secrets are masked when shown
        return passwordTyped(name) ? new Password(value) : value;
    }

    /** Kafka Streams' own pass-through prefixes (main.consumer., producer., …) under kafka.streams. */
    private static boolean streamsClientPrefixed(String name) {
        for (String prefix : new String[] {StreamsConfig.PRODUCER_PREFIX, StreamsConfig.CONSUMER_PREFIX,
                StreamsConfig.MAIN_CONSUMER_PREFIX, StreamsConfig.RESTORE_CONSUMER_PREFIX,
                StreamsConfig.GLOBAL_CONSUMER_PREFIX, StreamsConfig.ADMIN_CLIENT_PREFIX, StreamsConfig.TOPIC_PREFIX}) {
            if (name.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    private static String suggestion(String name, Role role) {
        return didYouMean(name, role == null ? ALL_CLIENT_NAMES : role.names);
    }

    /** " (did you mean X?)" for the known name nearest a misspelt one (edit distance), or "" when none is near. */
    static String didYouMean(String name, Set<String> names) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : names) {
            int d = distance(name, candidate);
            if (d < bestDistance) {
                bestDistance = d;
                best = candidate;
            }
        }
        return best != null && bestDistance <= Math.max(2, name.length() / 5) ? " (did you mean " + best + "?)" : "";
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    private static Map<String, String> readFile(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ConfigException(CONFIG_FILE + ": " + file.toAbsolutePath() + " does not exist or is not a file");
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException e) {
            throw new ConfigException(CONFIG_FILE + ": cannot read " + file + ": " + e.getMessage());
        }
        Map<String, String> values = new java.util.TreeMap<>();
        p.stringPropertyNames().forEach(k -> values.put(k, p.getProperty(k)));
        return values;
    }

    private static Set<String> allClientNames() {
        Set<String> all = new TreeSet<>();
        all.addAll(ProducerConfig.configNames());
        all.addAll(ConsumerConfig.configNames());
        all.addAll(AdminClientConfig.configNames());
        all.addAll(StreamsConfig.configDef().names());
        return Collections.unmodifiableSet(all);
    }
}
