package org.dealbridge.app.runtime;

import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import org.dealbridge.schemas.KafkaClients;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Deque;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.dealbridge.app.config.DealBridgeConfig;
import org.dealbridge.app.http.AdminServer;
import org.dealbridge.app.http.HookServer;
import org.dealbridge.app.http.HttpListener;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.bitrix.store.StoreApi;
import org.dealbridge.console.Console;
import org.dealbridge.ingestion.FirstCursor;
import org.dealbridge.ingestion.PollerLeadership;
import org.dealbridge.kafka.embedded.EmbeddedKafka;
import org.dealbridge.orderevents.StoreIngestion;
import org.dealbridge.orderevents.StoreIngestionConfig;
import org.dealbridge.schemas.Topics;
import org.dealbridge.schemas.registry.SchemaRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running DealBridge: the broker (embedded when none is configured), the schema registry, the topics,
 * the metrics and health, the HTTP server and the sync components. Everything started is closed in reverse
 * order, also when start-up fails halfway (an embedded broker left running would keep the JVM alive).
 */
public final class DealBridgeRuntime implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DealBridgeRuntime.class);

    /** The consumer groups whose member owning {@code poller-leadership}'s partition runs that side's pollers (prefixed like the topics). */
    static final String STORE_POLLERS_GROUP = "dealbridge-store-pollers";
    static final String CRM_POLLERS_GROUP = "dealbridge-crm-pollers";

    private final DealBridgeConfig config;
    private final Deque<AutoCloseable> started = new ArrayDeque<>();
    private final HealthRegistry health = new HealthRegistry();
    private final PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private String bootstrapServers;
    private SchemaRegistry schemaRegistry;
    private Topics topics;
    private Admin admin;
    private AdminServer http;
    /** Where the webhooks are served: the admin listener, or their own ({@code http.hooks.port}). */
    private HttpListener hooks;
    private Connections connections;
    private Console console;
    private StoreIngestion storeIngestion;

    private DealBridgeRuntime(DealBridgeConfig config) {
        this.config = config;
    }

    public static DealBridgeRuntime start(DealBridgeConfig config) {
        DealBridgeRuntime runtime = new DealBridgeRuntime(config);
        try {
            runtime.startAll();
            return runtime;
        } catch (RuntimeException | Error e) {
            runtime.close();
            throw e;
        }
    }

    private void startAll() {
        metrics.config().meterFilter(StateStoreMetrics.FROM_KAFKA_BINDER); // before any meter is registered
        new ClassLoaderMetrics().bindTo(metrics);
        new JvmMemoryMetrics().bindTo(metrics);
        new JvmThreadMetrics().bindTo(metrics);
        JvmGcMetrics gc = new JvmGcMetrics();
        gc.bindTo(metrics);
        started.push(gc);
        new UptimeMetrics().bindTo(metrics);
        SyncMetricFamilies.register(metrics);

        if (config.embeddedKafka()) {
            EmbeddedKafka kafka = EmbeddedKafka.start(config.dataDir(), config.getInt(DealBridgeConfig.KAFKA_EMBEDDED_PORT), java.util.Map.of());
            started.push(kafka);
            bootstrapServers = kafka.bootstrapServers();
        } else {
            bootstrapServers = config.getString(DealBridgeConfig.KAFKA_BOOTSTRAP_SERVERS);
            // say now, in one sentence, when the cluster cannot be used (no broker, SASL/TLS wanted, refused credentials)
            KafkaReachability.verify(clientProperties(), config.kafkaConnectTimeout());
            log.info("Kafka at {} answers{}", bootstrapServers, config.kafkaClient().common().isEmpty() ? ""
                    : " (client settings: " + config.kafkaClient().describe() + ")");
        }
        Properties adminProps = clientProperties();
        adminProps.put(AdminClientConfig.CLIENT_ID_CONFIG, "dealbridge-admin");
        admin = Admin.create(KafkaClients.admin(adminProps));
        started.push(admin);
        KafkaTopicsSetup.ensureTopics(admin, Topics.definitions(config.topicPrefix()), config.getInt(DealBridgeConfig.KAFKA_PARTITIONS),
                config.getShort(DealBridgeConfig.KAFKA_REPLICATION));
        health.register("kafka", this::kafkaHealth);

        schemaRegistry = SchemaRegistries.create(config, clientProperties());
        started.push(schemaRegistry);
        topics = new Topics(schemaRegistry, config.topicPrefix());
        try {
            topics.checkSchemas();  // every subject now, not at the first record of each topic
        } catch (org.apache.kafka.common.errors.SerializationException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        // a bad record on mapping-config must never be all compaction leaves of a site's mapping
        started.push(org.dealbridge.mapping.MappingKeeper.start(clientProperties(),
                org.dealbridge.mapping.MappingTopics.of(schemaRegistry, topics.prefix()), metrics));

        connections = new Connections(config, metrics);
        started.push(connections);
        health.register("crm", () -> Connections.health(connections.crm(), "crm.webhook-url is not set: no deals are written"));
        health.register("store", () -> Connections.health(connections.store(),
                "store.webhook-url is not set: orders are not read from the store"));

        http = new AdminServer(config.getString(DealBridgeConfig.HTTP_BIND_ADDRESS), config.getInt(DealBridgeConfig.HTTP_PORT), health, metrics);
        started.push(http);
        if (schemaRegistry instanceof org.dealbridge.schemas.registry.InMemorySchemaRegistry embedded) {
            // standard tools (kcat, Kafka UI, Connect) decode DealBridge's topics with the admin listener as registry URL
            new org.dealbridge.app.http.SchemaRegistryReadApi(embedded).routeOn(http);
        }
        if (config.getInt(DealBridgeConfig.HTTP_HOOKS_PORT) != null) {
            String bind = config.getString(DealBridgeConfig.HTTP_HOOKS_BIND_ADDRESS);
            hooks = new HookServer(bind == null ? config.getString(DealBridgeConfig.HTTP_BIND_ADDRESS) : bind,
                    config.getInt(DealBridgeConfig.HTTP_HOOKS_PORT));
            started.push(hooks);
        } else {
            hooks = http;
        }
        if (config.getBoolean(DealBridgeConfig.CONSOLE_ENABLED)) {
            // the store ingestion starts below; the console asks for it only when an admin re-reads an order
            console = ConsoleWiring.console(config, clientProperties(), topics, schemaRegistry, connections, health,
                    connections.store().map(store -> orderId -> storeIngestion.refresh(orderId).name()));
            http.route(console);
        }
        if (connections.store().isPresent()) {
            storeIngestion = storeIngestion(connections.store().get());
            started.push(storeIngestion);
        }
        OrderToDealSync orderToDeal = new OrderToDealSync(config, connections.crm(), connections.crmShare(), clientProperties(), topics,
                metrics, health);
        started.push(orderToDeal);
        orderToDeal.start();
        DealToOrderSync dealToOrder;
        try {
            dealToOrder = new DealToOrderSync(config, connections, clientProperties(), topics, metrics, health, hooks);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting the deal → order sync", e);
        }
        started.push(dealToOrder);
        dealToOrder.start();
        http.start();
        if (hooks != http) {
            hooks.start();
        }
        log.info("DealBridge is running: Kafka at {}, HTTP on {}:{} (/health, /metrics{}{}), data in {}", bootstrapServers,
                config.getString(DealBridgeConfig.HTTP_BIND_ADDRESS), http.port(), console == null ? "" : ", /console/",
                hooks == http ? ", /hooks" : "; webhooks on port " + hooks.port(), config.dataDir());
    }

    /**
     * Store → Kafka: the {@code /hooks/store} endpoint (only when the store's application token is set: without it no
     * request could be authenticated) and the poller. Without a stored cursor the poller starts a little in the past by
     * the store's own clock (DealBridge's may be minutes off it); older history is what {@code backfill} is for.
     */
    private StoreIngestion storeIngestion(BitrixClient store) {
        Duration interval = config.storePollInterval();
        String token = config.secret(DealBridgeConfig.STORE_APPLICATION_TOKEN);
        StoreIngestionConfig settings = new StoreIngestionConfig(List.of(config.getString(DealBridgeConfig.STORE_SITE_ID)), token,
                interval, StoreIngestionConfig.DEFAULT_POLL_OVERLAP,
                // asked before the leadership below sets this instance's share of the store's budget to 0 (a call then waits)
                FirstCursor.portalTimeMinus("store", new StoreApi(store)::portalNow, interval.multipliedBy(2), Clock.systemUTC()).askedNow(),
                StoreIngestionConfig.DEFAULT_CATALOG_CACHE_TTL, config.getInt(DealBridgeConfig.HTTP_MAX_BODY_BYTES),
                StoreIngestionConfig.DEFAULT_REFRESH_QUEUE_CAPACITY);
        Map<String, Object> client = new HashMap<>();
        clientProperties().forEach((k, v) -> client.put(k.toString(), v));
        // the pollers run on one instance at a time (see PollerLeadership); the hook on every instance
        PollerLeadership leadership = new PollerLeadership(client, topics.name(Topics.POLLER_LEADERSHIP), topics.name(STORE_POLLERS_GROUP),
                PollerLeadership.DEFAULT_SESSION_TIMEOUT).addListener(connections.storeShare());
        StoreIngestion ingestion = new StoreIngestion(settings, new StoreApi(store), client, topics, metrics, Clock.systemUTC(), leadership);
        ingestion.addReadFailureListener(new IngestionHealth("store", health, metrics, Clock.systemUTC()));
        if (token != null) {
            hooks.route("/hooks/store", ingestion.hookHandler());
        } else {
            log.warn("store.application-token is not set: /hooks/store is off and orders arrive by polling only");
        }
        ingestion.start();
        return ingestion;
    }

    private Health kafkaHealth() {
        try {
            int nodes = admin.describeCluster().nodes().get(3, TimeUnit.SECONDS).size();
            return Health.up(nodes + " broker(s) at " + bootstrapServers + (config.embeddedKafka() ? " (embedded)" : ""));
        } catch (Exception e) {
            return Health.down("cannot reach Kafka at " + bootstrapServers + ": " + e.getClass().getSimpleName());
        }
    }

    /**
     * Properties every Kafka client of this runtime starts from: the bootstrap servers and {@code kafka.client.*}. No
     * client.id: Kafka gives each client its own, and a shared one made the connectors' consumer and producer report
     * their metrics as one client.
     */
    public Properties clientProperties() {
        return config.kafkaClientProperties(bootstrapServers);
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    public HealthRegistry health() {
        return health;
    }

    public PrometheusMeterRegistry metrics() {
        return metrics;
    }

    public Topics topics() {
        return topics;
    }

    public SchemaRegistry schemaRegistry() {
        return schemaRegistry;
    }

    public int httpPort() {
        return http.port();
    }

    /**
     * A link that signs a browser into the web console once, e.g. {@code http://127.0.0.1:8080/console/sign-in?code=...};
     * empty when {@code console.enabled} is false.
     */
    public Optional<String> consoleSignInLink() {
        return Optional.ofNullable(console).map(c -> c.oneTimeSignInLink("http://" + hostForLinks() + ":" + http.port()));
    }

    private String hostForLinks() {
        String bind = config.getString(DealBridgeConfig.HTTP_BIND_ADDRESS);
        return bind.equals("0.0.0.0") || bind.equals("::") ? "127.0.0.1" : bind;
    }

    /** The port the webhooks are served on ({@link #httpPort()} unless {@code http.hooks.port} is set). */
    public int hooksPort() {
        return hooks.port();
    }

    public DealBridgeConfig config() {
        return config;
    }

    /** Registers something to close with the runtime (closed before what was started earlier). */
    public void closeOnShutdown(AutoCloseable closeable) {
        started.push(closeable);
    }

    @Override
    public synchronized void close() {
        while (!started.isEmpty()) {
            AutoCloseable c = started.pop();
            try {
                c.close();
            } catch (Exception e) {
                log.warn("closing {} failed: {}", c.getClass().getSimpleName(), e.toString());
            }
        }
        metrics.close();
    }
}
