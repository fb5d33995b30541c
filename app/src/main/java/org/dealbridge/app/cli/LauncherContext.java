package org.dealbridge.app.cli;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.dealbridge.app.config.DealBridgeConfig;
import org.dealbridge.app.runtime.Connections;
import org.dealbridge.app.runtime.SchemaRegistries;
import org.dealbridge.bitrix.crm.CrmApi;
import org.dealbridge.bitrix.store.StoreApi;
import org.dealbridge.kafka.embedded.EmbeddedKafka;
import org.dealbridge.mapping.cli.MappingCliContext;
import org.dealbridge.app.runtime.PortalRereads;
import org.dealbridge.operations.OperationsContext;
import org.dealbridge.operations.PortalReread;
import org.dealbridge.orderevents.BackfillContext;
import org.dealbridge.schemas.Topics;
import org.dealbridge.schemas.registry.SchemaRegistry;

/**
 * What the one-shot commands ({@code mapping}, {@code backfill}, {@code dlq}, {@code trace}) need, opened lazily so that a
 * command that needs no Kafka (e.g. {@code mapping validate}) never looks for a broker. Without
 * {@code kafka.bootstrap-servers} the broker is the embedded one a {@code run}/{@code demo} started in the same data dir.
 */
final class LauncherContext implements AutoCloseable {
    private final java.util.function.Supplier<DealBridgeConfig> configs;
    private DealBridgeConfig config;
    private final MeterRegistry metrics = Metrics.globalRegistry;
    private String bootstrap;
    private SchemaRegistry registry;
    private Topics topics;
    private Connections connections;

    /** @param configs gives the configuration when first needed (after the command line is parsed) */
    LauncherContext(java.util.function.Supplier<DealBridgeConfig> configs) {
        this.configs = configs;
    }

    private synchronized DealBridgeConfig config() {
        if (config == null) {
            config = configs.get();
        }
        return config;
    }

    synchronized String bootstrapServers() {
        if (bootstrap == null) {
            DealBridgeConfig c = config();
            bootstrap = c.embeddedKafka()
                    ? EmbeddedKafka.runningBrokerAddress(c.dataDir())
                    : c.getString(DealBridgeConfig.KAFKA_BOOTSTRAP_SERVERS);
        }
        return bootstrap;
    }

    private boolean kafkaVerified;

    /** The bootstrap servers and {@code kafka.client.*}; a configured cluster is asked once whether it answers. */
    public synchronized Properties kafkaClientProperties() {
        Properties p = config().kafkaClientProperties(bootstrapServers());
        if (!kafkaVerified && !config().embeddedKafka()) {
            org.dealbridge.app.runtime.KafkaReachability.verify(p, config().kafkaConnectTimeout());
            kafkaVerified = true;
        }
        return p;
    }

    public Map<String, Object> producerConfig() {
        Map<String, Object> m = new HashMap<>();
        kafkaClientProperties().forEach((k, v) -> m.put(k.toString(), v));
        return m;
    }

    public synchronized SchemaRegistry schemaRegistry() {
        if (registry == null) {
            registry = SchemaRegistries.create(config(), kafkaClientProperties());
        }
        return registry;
    }

    public synchronized Topics topics() {
        if (topics == null) {
            topics = new Topics(schemaRegistry(), config().topicPrefix());
        }
        return topics;
    }

    private synchronized Connections connections() {
        if (connections == null) {
            connections = new Connections(config(), metrics);
        }
        return connections;
    }

    public Optional<CrmApi> crm() {
        return connections().crm().map(CrmApi::new);
    }

    public Optional<StoreApi> store() {
        return connections().store().map(StoreApi::new);
    }

    /** The view the {@code mapping} commands take. */
    MappingCliContext forMapping() {
        LauncherContext self = this;
        return new MappingCliContext() {
            @Override
            public Properties kafkaClientProperties() {
                return self.kafkaClientProperties();
            }

            @Override
            public SchemaRegistry schemaRegistry() {
                return self.schemaRegistry();
            }

            @Override
            public String topicPrefix() {
                return self.config().topicPrefix();
            }

            @Override
            public Optional<CrmApi> crm() {
                return self.crm();
            }

            @Override
            public Optional<StoreApi> store() {
                return self.store();
            }

            @Override
            public void close() {
                self.close();
            }
        };
    }

    /** The view the {@code dlq} and {@code trace} commands take. */
    OperationsContext forOperations() {
        LauncherContext self = this;
        return new OperationsContext() {
            @Override
            public Properties kafkaClientProperties() {
                return self.kafkaClientProperties();
            }

            @Override
            public Topics topics() {
                return self.topics();
            }

            @Override
            public java.io.PrintStream out() {
                return System.out;
            }

            @Override
            public java.io.PrintStream err() {
                return System.err;
            }

            @Override
            public Map<String, PortalReread> portalRereads() {
                return PortalRereads.of(self.store(), self.topics(), java.time.Clock.systemUTC());
            }

            @Override
            public void close() {
                self.close();
            }
        };
    }

    /** The view {@code backfill} takes; asking it for the store fails clearly when none is configured. */
    BackfillContext forBackfill() {
        LauncherContext self = this;
        return new BackfillContext() {
            @Override
            public StoreApi store() {
                return self.store().orElseThrow(() -> new IllegalStateException(
                        "the store is not configured: set store.webhook-url (or DEALBRIDGE_STORE_WEBHOOK_URL)"));
            }

            @Override
            public Map<String, Object> producerConfig() {
                return self.producerConfig();
            }

            @Override
            public Topics topics() {
                return self.topics();
            }

            @Override
            public MeterRegistry meterRegistry() {
                return self.metrics;
            }
        };
    }

    @Override
    public synchronized void close() {
        if (registry != null) {
            registry.close();
        }
        if (connections != null) {
            connections.close();
        }
    }
}
