package org.dealbridge.app.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;
import org.dealbridge.bitrix.WebhookUrl;
import org.dealbridge.dealevents.DealEventsConfig;
import org.dealbridge.dealprojector.DealProjectorConfig;
import org.dealbridge.orderprojector.OrderProjectorConfig;

/**
 * DealBridge's configuration: every key with its type, default, validator and doc, in Kafka's own
 * {@link ConfigDef} (as Kafka Connect and Debezium do), so a bad value fails start-up with an error that
 * names the key and the value, and the README's reference is generated from the same definitions.
 */
public final class DealBridgeConfig extends AbstractConfig {

    public static final String KAFKA_BOOTSTRAP_SERVERS = "kafka.bootstrap-servers";
    public static final String KAFKA_PARTITIONS = "kafka.topic.partitions";
    public static final String KAFKA_REPLICATION = "kafka.topic.replication-factor";
    public static final String KAFKA_TOPIC_PREFIX = "kafka.topic-prefix";
    public static final String KAFKA_EMBEDDED_PORT = "kafka.embedded.port";
    public static final String KAFKA_EXACTLY_ONCE = "kafka.exactly-once";
    public static final String KAFKA_CLIENT_CONFIG_FILE = KafkaClientSettings.CONFIG_FILE;
    public static final String KAFKA_CONNECT_TIMEOUT = "kafka.connect-timeout";
    public static final String SCHEMA_REGISTRY_URL = "schema-registry.url";
    public static final String SCHEMA_REGISTRY_USER_INFO = "schema-registry.basic-auth.user-info";
    public static final String SCHEMA_REGISTRY_AUTO_REGISTER = "schema-registry.auto-register";
    public static final String SCHEMA_REGISTRY_TRUSTSTORE = "schema-registry.ssl.truststore.location";
    public static final String SCHEMA_REGISTRY_TRUSTSTORE_PASSWORD = "schema-registry.ssl.truststore.password";
    public static final String SCHEMA_REGISTRY_TRUSTSTORE_TYPE = "schema-registry.ssl.truststore.type";
    public static final String CRM_WEBHOOK_URL = "crm.webhook-url";
    public static final String CRM_APPLICATION_TOKEN = "crm.application-token";
    public static final String CRM_RATE_RPS = "crm.rate.requests-per-second";
    public static final String CRM_RATE_BURST = "crm.rate.burst";
    public static final String STORE_WEBHOOK_URL = "store.webhook-url";
    public static final String STORE_APPLICATION_TOKEN = "store.application-token";
    public static final String STORE_SITE_ID = "store.site-id";
    public static final String STORE_POLL_INTERVAL = "store.poll-interval";
    public static final String STORE_RATE_RPS = "store.rate.requests-per-second";
    public static final String STORE_RATE_BURST = "store.rate.burst";
    public static final String ALLOW_INSECURE_HTTP = "rest.allow-insecure-http";
    public static final String HTTP_PORT = "http.port";
    public static final String HTTP_BIND_ADDRESS = "http.bind-address";
    public static final String HTTP_MAX_BODY_BYTES = "http.max-body-bytes";
    public static final String HTTP_HOOKS_PORT = "http.hooks.port";
    public static final String HTTP_HOOKS_BIND_ADDRESS = "http.hooks.bind-address";
    public static final String DATA_DIR = "data.dir";
    public static final String LOG_FORMAT = "log.format";
    public static final String CONSOLE_ENABLED = "console.enabled";
    public static final String CONSOLE_TOKEN = "console.token";
    public static final String CONSOLE_PROXY_HEADER = "console.proxy-header";
    /** Shortest console.token accepted: a guessable secret would open the mapping to anyone on the network. */
    static final int CONSOLE_TOKEN_MIN_LENGTH = 16;

    private static final String GROUP_KAFKA = "Kafka";
    private static final String GROUP_CRM = "Bitrix24 CRM";
    private static final String GROUP_STORE = "1C-Bitrix store";
    private static final String GROUP_HTTP = "HTTP server";
    private static final String GROUP_RUNTIME = "Runtime";
    private static final String GROUP_CONSOLE = "Web console";

    /**
     * Every key: the launcher's own, then those the components define themselves (connector and projector tuning),
     * so one file configures everything, one check refuses typos and one table documents it all. Where a component
     * defines a key the launcher has too (e.g. {@code crm.application-token}), the launcher's definition is the one in
     * force and the launcher hands the value on; keys the launcher derives itself are left out.
     */
    public static final ConfigDef DEFINITION = withComponentKeys(new ConfigDef()
            .define(KAFKA_BOOTSTRAP_SERVERS, Type.STRING, "", Importance.HIGH,
                    "Kafka bootstrap servers (host:port,...). Empty: start an embedded one-node KRaft broker with its data under data.dir.",
                    GROUP_KAFKA, 1, ConfigDef.Width.LONG, "Bootstrap servers")
            .define(KAFKA_PARTITIONS, Type.INT, 3, Range.atLeast(1), Importance.MEDIUM,
                    "Partitions of the event, command and link topics DealBridge creates at start-up (existing topics are left as they are).",
                    GROUP_KAFKA, 2, ConfigDef.Width.SHORT, "Partitions")
            .define(KAFKA_REPLICATION, Type.SHORT, (short) -1, ConfigDef.LambdaValidator.with((name, value) -> {
                        if (value == null || (Short) value == 0 || (Short) value < -1) {
                            throw new ConfigException(name, value, "must be -1 (the broker's default.replication.factor) or at least 1");
                        }
                    }, () -> "-1, or at least 1"), Importance.MEDIUM,
                    "Replication factor of the topics DealBridge creates (its own and Kafka Streams' internal ones). -1: the broker's default.replication.factor, which a production cluster sets to 3; acks=all writes then need the topic's min.insync.replicas (the broker's default unless you set it on the topics) in sync.",
                    GROUP_KAFKA, 3, ConfigDef.Width.SHORT, "Replication factor")
            .define(KAFKA_TOPIC_PREFIX, Type.STRING, "", ConfigDef.LambdaValidator.with((name, value) ->
                            org.dealbridge.schemas.Topics.prefixProblem(value == null ? "" : value.toString()).ifPresent(problem -> {
                                throw new ConfigException(name, value, problem);
                            }), () -> "ASCII letters, digits, '.', '_', '-'; at most "
                            + (org.dealbridge.schemas.Topics.MAX_NAME_LENGTH - org.dealbridge.schemas.Topics.LONGEST_UNPREFIXED_NAME) + " characters"),
                    Importance.MEDIUM,
                    "Put in front of every topic name, Kafka Streams application id, consumer group and transactional id DealBridge uses (e.g. shop-a. gives shop-a.order-changes and shop-a.dealbridge-deal-projector), so several installations share one cluster without seeing each other's data, each with prefixed ACLs. Empty: the names in 'Topics and keys'. Every command (run, mapping, dlq, trace, backfill, ...) must be given the same value.",
                    GROUP_KAFKA, 4, ConfigDef.Width.MEDIUM, "Topic prefix")
            .define(KAFKA_EMBEDDED_PORT, Type.INT, 0, Range.between(0, 65535), Importance.LOW,
                    "Client port of the embedded broker; 0 reuses the previous run's port when free, else any free port.",
                    GROUP_KAFKA, 5, ConfigDef.Width.SHORT, "Embedded broker port")
            .define(KAFKA_EXACTLY_ONCE, Type.BOOLEAN, true, Importance.MEDIUM,
                    "Run the Kafka Streams topologies with processing.guarantee=exactly_once_v2 (false: at_least_once). Writes to the CRM and the store are at-least-once and idempotent either way.",
                    GROUP_KAFKA, 6, ConfigDef.Width.SHORT, "Exactly-once")
            .define(KAFKA_CLIENT_CONFIG_FILE, Type.STRING, null, Importance.MEDIUM,
                    "A Java properties file of Kafka client settings (security.protocol, sasl.*, ssl.*, ...) for every client, like the Kafka tools' --command-config. Settings can also be given one by one as kafka.client.<setting> (all clients) and kafka.producer.*, kafka.consumer.*, kafka.admin.*, kafka.streams.* (one kind of client), in YAML or as DEALBRIDGE_KAFKA_CLIENT_<SETTING> variables with _ for each dot; those override the file. Secret values are never shown.",
                    GROUP_KAFKA, 7, ConfigDef.Width.LONG, "Kafka client config file")
            .define(KAFKA_CONNECT_TIMEOUT, Type.STRING, "PT60S", new DurationValidator(Duration.ofSeconds(1)), Importance.LOW,
                    "How long start-up (and every admin command) waits for the Kafka cluster to answer before it stops with a message naming the bootstrap servers and the likely cause (nothing listening, a listener that wants SASL/TLS, refused credentials, missing ACLs).",
                    GROUP_KAFKA, 8, ConfigDef.Width.SHORT, "Kafka connect timeout")
            .define(SCHEMA_REGISTRY_URL, Type.STRING, "", new UrlValidator(true), Importance.HIGH,
                    "URL of a Confluent-compatible schema registry (Confluent, Apicurio ccompat, Karapace). Empty: the embedded registry kept in the _dealbridge_schemas topic.",
                    GROUP_KAFKA, 9, ConfigDef.Width.LONG, "Schema registry URL")
            .define(SCHEMA_REGISTRY_USER_INFO, Type.PASSWORD, null, Importance.MEDIUM,
                    "user:password for the schema registry's HTTP basic authentication (Confluent Cloud: API key:secret). Secret; never shown.",
                    GROUP_KAFKA, 10, ConfigDef.Width.MEDIUM, "Schema registry credentials")
            .define(SCHEMA_REGISTRY_AUTO_REGISTER, Type.BOOLEAN, true, Importance.MEDIUM,
                    "Register DealBridge's schemas when missing. false: only look them up (for registries where a platform team registers schemas); start-up then fails naming every subject that lacks DealBridge's schema. Every subject is checked at start either way.",
                    GROUP_KAFKA, 11, ConfigDef.Width.SHORT, "Auto-register schemas")
            .define(SCHEMA_REGISTRY_TRUSTSTORE, Type.STRING, null, Importance.LOW,
                    "Truststore for an https schema registry whose certificate the JDK does not trust (a private CA). Unset: the JDK's trust.",
                    GROUP_KAFKA, 12, ConfigDef.Width.LONG, "Schema registry truststore")
            .define(SCHEMA_REGISTRY_TRUSTSTORE_PASSWORD, Type.PASSWORD, null, Importance.LOW,
                    "Password of schema-registry.ssl.truststore.location. Secret; never shown.",
                    GROUP_KAFKA, 13, ConfigDef.Width.MEDIUM, "Schema registry truststore password")
            .define(SCHEMA_REGISTRY_TRUSTSTORE_TYPE, Type.STRING, "PKCS12", ConfigDef.ValidString.in("PKCS12", "JKS"), Importance.LOW,
                    "Type of schema-registry.ssl.truststore.location.",
                    GROUP_KAFKA, 14, ConfigDef.Width.SHORT, "Schema registry truststore type")
            .define(CRM_WEBHOOK_URL, Type.PASSWORD, null, Importance.HIGH,
                    "Inbound webhook of the Bitrix24 portal, https://{portal}/rest/{user}/{code}/ with scopes crm, user. Unset: the CRM connection is reported as not configured. Treated as a secret (the code is masked everywhere).",
                    GROUP_CRM, 1, ConfigDef.Width.LONG, "CRM webhook URL")
            .define(CRM_APPLICATION_TOKEN, Type.PASSWORD, null, Importance.HIGH,
                    "application_token of the portal's outbound webhook (ONCRMDEALADD/UPDATE/DELETE); POST /hooks/bitrix24 refuses requests without it.",
                    GROUP_CRM, 2, ConfigDef.Width.MEDIUM, "CRM application token")
            .define(CRM_RATE_RPS, Type.DOUBLE, 2.0, Range.between(0.1, 1000), Importance.MEDIUM,
                    "Drain rate of the portal's leaky bucket in requests per second (2 on cloud plans, 5 on Enterprise).",
                    GROUP_CRM, 3, ConfigDef.Width.SHORT, "CRM requests/s")
            .define(CRM_RATE_BURST, Type.INT, 50, Range.between(1, 10000), Importance.MEDIUM,
                    "Capacity of the portal's leaky bucket (50 on cloud plans, 250 on Enterprise).",
                    GROUP_CRM, 4, ConfigDef.Width.SHORT, "CRM burst")
            .define(STORE_WEBHOOK_URL, Type.PASSWORD, null, Importance.HIGH,
                    "Inbound webhook of the 1C-Bitrix store, https://{shop}/rest/{user}/{code}/ with scopes sale, catalog. Unset: the store connection is reported as not configured.",
                    GROUP_STORE, 1, ConfigDef.Width.LONG, "Store webhook URL")
            .define(STORE_APPLICATION_TOKEN, Type.PASSWORD, null, Importance.HIGH,
                    "application_token of the store's outbound webhook (ONSALEORDERSAVED); POST /hooks/store refuses requests without it.",
                    GROUP_STORE, 2, ConfigDef.Width.MEDIUM, "Store application token")
            .define(STORE_SITE_ID, Type.STRING, "s1", new NonBlank(), Importance.HIGH,
                    "Site id (LID) of the store whose orders this instance syncs.",
                    GROUP_STORE, 3, ConfigDef.Width.SHORT, "Site id")
            .define(STORE_POLL_INTERVAL, Type.STRING, "PT30S", new DurationValidator(Duration.ofSeconds(1)), Importance.MEDIUM,
                    "How often the store is polled for orders changed since the cursor (ISO-8601 duration such as PT30S, or 30s / 5m / 1h). Polling catches what hooks missed.",
                    GROUP_STORE, 4, ConfigDef.Width.SHORT, "Poll interval")
            .define(STORE_RATE_RPS, Type.DOUBLE, 2.0, Range.between(0.1, 1000), Importance.LOW,
                    "Request rate budget of the store's REST API in requests per second.",
                    GROUP_STORE, 5, ConfigDef.Width.SHORT, "Store requests/s")
            .define(STORE_RATE_BURST, Type.INT, 50, Range.between(1, 10000), Importance.LOW,
                    "Burst of the store's REST API rate budget.",
                    GROUP_STORE, 6, ConfigDef.Width.SHORT, "Store burst")
            .define(ALLOW_INSECURE_HTTP, Type.BOOLEAN, false, Importance.LOW,
                    "Allow plain http:// webhook URLs on hosts other than 127.0.0.1/localhost (never in production: the webhook code travels in the URL).",
                    GROUP_RUNTIME, 1, ConfigDef.Width.SHORT, "Allow insecure HTTP")
            .define(HTTP_PORT, Type.INT, 8080, Range.between(0, 65535), Importance.HIGH,
                    "Port of the HTTP server (/health, /metrics, /hooks/*); 0 for any free port.",
                    GROUP_HTTP, 1, ConfigDef.Width.SHORT, "HTTP port")
            .define(HTTP_BIND_ADDRESS, Type.STRING, "127.0.0.1", new NonBlank(), Importance.MEDIUM,
                    "Address the HTTP server binds to. Loopback by default; set 0.0.0.0 to receive Bitrix webhooks from the network (behind TLS termination).",
                    GROUP_HTTP, 2, ConfigDef.Width.SHORT, "Bind address")
            .define(HTTP_MAX_BODY_BYTES, Type.INT, 16 * 1024, Range.between(1024, 16 * 1024 * 1024), Importance.LOW,
                    "Largest hook request body accepted; larger ones get 413.",
                    GROUP_HTTP, 3, ConfigDef.Width.SHORT, "Max hook body")
            .define(HTTP_HOOKS_PORT, Type.INT, null, ConfigDef.LambdaValidator.with((name, value) -> {
                        if (value != null && ((Integer) value < 0 || (Integer) value > 65535)) {
                            throw new ConfigException(name, value, "must be a port from 0 to 65535");
                        }
                    }, () -> "unset, or 0..65535"), Importance.MEDIUM,
                    "Port of a listener of its own for the Bitrix webhooks (/hooks/store, /hooks/bitrix24), the only one to expose to the internet; /health, /metrics and any admin page stay on http.port. Unset: the webhooks are served on http.port. 0: any free port.",
                    GROUP_HTTP, 4, ConfigDef.Width.SHORT, "Webhooks port")
            .define(HTTP_HOOKS_BIND_ADDRESS, Type.STRING, null, Importance.MEDIUM,
                    "Address the webhooks' own listener binds to (e.g. 0.0.0.0 behind TLS termination). Unset: http.bind-address.",
                    GROUP_HTTP, 5, ConfigDef.Width.SHORT, "Webhooks bind address")
            .define(DATA_DIR, Type.STRING, "./data", new NonBlank(), Importance.MEDIUM,
                    "Folder for the embedded broker's data, Kafka Streams state and the broker address file; relative to the working directory.",
                    GROUP_RUNTIME, 2, ConfigDef.Width.MEDIUM, "Data dir")
            .define(LOG_FORMAT, Type.STRING, "text", ConfigDef.ValidString.in("text", "json"), Importance.LOW,
                    "Log line format: text, or json (one JSON object per line, for log shippers).",
                    GROUP_RUNTIME, 3, ConfigDef.Width.SHORT, "Log format")
            .define(CONSOLE_ENABLED, Type.BOOLEAN, false, Importance.MEDIUM,
                    "Serve the web console (/console/) and its JSON API (/api/) on the admin HTTP listener. Needs console.token.",
                    GROUP_CONSOLE, 1, ConfigDef.Width.SHORT, "Console enabled")
            .define(CONSOLE_TOKEN, Type.PASSWORD, null, Importance.HIGH,
                    "Secret of the web console: typed on its sign-in page, or sent by scripts as Authorization: Bearer <token> to /api/. No default: start-up fails when the console is enabled without one. At least "
                            + CONSOLE_TOKEN_MIN_LENGTH + " characters; never printed.",
                    GROUP_CONSOLE, 2, ConfigDef.Width.MEDIUM, "Console token")
            .define(CONSOLE_PROXY_HEADER, Type.STRING, "", Importance.LOW,
                    "Header a reverse proxy in front of the console sets to the name of the user it authenticated (e.g. X-Forwarded-User); requests carrying it are signed in as that user. Empty: off. Set it only when the admin listener is reachable through that proxy alone.",
                    GROUP_CONSOLE, 3, ConfigDef.Width.MEDIUM, "Console proxy header"));

    private static ConfigDef withComponentKeys(ConfigDef launcher) {
        // keys of components that the launcher sets from its own (order-projector.site-id from store.site-id)
        java.util.Set<String> derived = java.util.Set.of(OrderProjectorConfig.SITE_ID);
        for (ConfigDef component : java.util.List.of(DealProjectorConfig.CONFIG_DEF, OrderProjectorConfig.CONFIG_DEF,
                DealEventsConfig.CONFIG_DEF)) {
            for (ConfigDef.ConfigKey key : component.configKeys().values()) {
                if (!launcher.names().contains(key.name) && !derived.contains(key.name)) {
                    launcher.define(key);
                }
            }
        }
        return launcher;
    }

    private final KafkaClientSettings kafkaClient;

    public DealBridgeConfig(Map<String, ?> values) {
        super(DEFINITION, ownKeys(values), false);
        this.kafkaClient = KafkaClientSettings.from(values, getString(KAFKA_CLIENT_CONFIG_FILE));
        if (getBoolean(CONSOLE_ENABLED)) {
            String token = secret(CONSOLE_TOKEN);
            if (token == null || token.isBlank()) {
                throw new ConfigException(CONSOLE_TOKEN, "[unset]", "must be set when " + CONSOLE_ENABLED
                        + " is true: the console has no default credential");
            }
            if (token.length() < CONSOLE_TOKEN_MIN_LENGTH) {
                throw new ConfigException(CONSOLE_TOKEN, "[hidden]", "must be at least " + CONSOLE_TOKEN_MIN_LENGTH
                        + " characters long (e.g. the output of: openssl rand -hex 16)");
            }
        }
    }

    /**
     * The keys of {@link #DEFINITION}; the Kafka pass-through keys go to {@link KafkaClientSettings}. An unknown key is
     * refused without its value: a misspelt secret key (a webhook URL, a token) must not be printed in the error.
     */
    private static Map<String, ?> ownKeys(Map<String, ?> values) {
        Map<String, Object> own = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, ?> e : values.entrySet()) {
            String key = e.getKey();
            if (KafkaClientSettings.isPassThrough(key)) {
                continue;
            }
            if (!DEFINITION.names().contains(key)) {
                throw new ConfigException("unknown configuration key " + key + KafkaClientSettings.didYouMean(key, DEFINITION.names()) + " (its value is not shown; known keys: "
                        + String.join(", ", DEFINITION.names().stream().sorted().toList())
                        + ", and Kafka client settings as " + KafkaClientSettings.CLIENT_PREFIX + "<setting>)");
            }
            own.put(key, e.getValue());
        }
        return own;
    }

    /** The Kafka client settings given by the user ({@code kafka.client.*} and the per-role keys). */
    public KafkaClientSettings kafkaClient() {
        return kafkaClient;
    }

    /**
     * What every Kafka client of this configuration starts from: the bootstrap servers and {@code kafka.client.*}
     * (secrets as {@link Password}s, which the clients take as they are), and the per-role settings prefixed
     * {@code producer.}/{@code consumer.}/{@code admin.}/{@code streams.}: build clients through
     * {@link org.dealbridge.schemas.KafkaClients}.
     */
    public java.util.Properties kafkaClientProperties(String bootstrapServers) {
        java.util.Properties p = new java.util.Properties();
        p.putAll(kafkaClient.common());
        // per-role settings ride along prefixed, as Kafka Streams carries them; KafkaClients hands each kind of client its own
        kafkaClient.roleOnly(KafkaClientSettings.Role.PRODUCER).forEach((k, v) -> p.put(org.dealbridge.schemas.KafkaClients.PRODUCER + k, v));
        kafkaClient.roleOnly(KafkaClientSettings.Role.CONSUMER).forEach((k, v) -> p.put(org.dealbridge.schemas.KafkaClients.CONSUMER + k, v));
        kafkaClient.roleOnly(KafkaClientSettings.Role.ADMIN).forEach((k, v) -> p.put(org.dealbridge.schemas.KafkaClients.ADMIN + k, v));
        kafkaClient.roleOnly(KafkaClientSettings.Role.STREAMS).forEach((k, v) -> p.put(org.dealbridge.schemas.KafkaClients.STREAMS + k, v));
        short replication = getShort(KAFKA_REPLICATION);
        if (replication > 0) {
            // Streams' changelog and repartition topics get the replication DealBridge's own topics get
            p.putIfAbsent(org.dealbridge.schemas.KafkaClients.STREAMS + "replication.factor", Short.toString(replication));
        }
        p.put(org.apache.kafka.clients.CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        return p;
    }

    /** {@code kafka.topic-prefix}: what the names of this installation's topics, groups and transactional ids start with. */
    public String topicPrefix() {
        return getString(KAFKA_TOPIC_PREFIX);
    }

    public Duration kafkaConnectTimeout() {
        return DurationValidator.parse(getString(KAFKA_CONNECT_TIMEOUT));
    }

    public boolean embeddedKafka() {
        return getString(KAFKA_BOOTSTRAP_SERVERS).isBlank();
    }

    public boolean embeddedSchemaRegistry() {
        return getString(SCHEMA_REGISTRY_URL).isBlank();
    }

    public Path dataDir() {
        return Path.of(getString(DATA_DIR)).toAbsolutePath().normalize();
    }

    public Duration storePollInterval() {
        return DurationValidator.parse(getString(STORE_POLL_INTERVAL));
    }

    /** A secret value, or null when unset. */
    public String secret(String key) {
        Password p = getPassword(key);
        return p == null ? null : p.value();
    }

    /**
     * Webhook URLs are validated here, with the REST client's own parser, rather than in the ConfigDef: ConfigDef
     * errors print the value, and the value holds the webhook code.
     */
    public void validateWebhooks() {
        for (String key : new String[] {CRM_WEBHOOK_URL, STORE_WEBHOOK_URL}) {
            String url = secret(key);
            if (url != null) {
                try {
                    WebhookUrl.parse(url, getBoolean(ALLOW_INSECURE_HTTP));
                } catch (IllegalArgumentException e) {
                    throw new ConfigException(key, "[hidden]", e.getMessage()
                            + (e.getMessage().contains("plain http") ? " (configuration: " + ALLOW_INSECURE_HTTP + "=true)" : ""));
                }
            }
        }
    }

    /** Validates a URL that is not secret. */
    static final class UrlValidator implements ConfigDef.Validator {
        private final boolean emptyAllowed;

        UrlValidator(boolean emptyAllowed) {
            this.emptyAllowed = emptyAllowed;
        }

        @Override
        public void ensureValid(String name, Object value) {
            String s = value == null ? "" : value.toString();
            if (s.isBlank() && emptyAllowed) {
                return;
            }
            try {
                URI uri = new URI(s);
                if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
                    throw new ConfigException(name, value, "must be an http(s) URL with a host");
                }
            } catch (java.net.URISyntaxException e) {
                throw new ConfigException(name, value, "not a valid URL: " + e.getReason());
            }
        }

        @Override
        public String toString() {
            return "an http(s) URL" + (emptyAllowed ? ", or empty" : "");
        }
    }

    static final class NonBlank implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            if (value == null || value.toString().isBlank()) {
                throw new ConfigException(name, value, "must not be empty");
            }
        }

        @Override
        public String toString() {
            return "non-empty string";
        }
    }
}
