package org.dealbridge.app.runtime;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.Optional;
import java.util.Properties;
import org.dealbridge.app.config.DealBridgeConfig;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.dealprojector.DealProjectorConfig;
import org.dealbridge.dealprojector.crm.CrmConnector;
import org.dealbridge.dealprojector.crm.DealWriter;
import org.dealbridge.dealprojector.topology.DealProjectorTopology;
import org.dealbridge.schemas.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Orders → deals as the runtime runs it: the deal-projector topology (always: it only needs Kafka, and commands wait
 * in {@code deal-commands} until a CRM is configured) and the CRM connector that executes them (when the CRM is).
 */
final class OrderToDealSync implements AutoCloseable {
    static final String APPLICATION_ID = "dealbridge-deal-projector";
    private static final Logger log = LoggerFactory.getLogger(OrderToDealSync.class);

    private final StreamsApp projector;
    private final CrmConnector connector;
    private final Thread connectorThread;

    OrderToDealSync(DealBridgeConfig config, Optional<BitrixClient> crm, Properties kafka, Topics topics, MeterRegistry metrics,
                    HealthRegistry health) {
        DealProjectorConfig projectorConfig = new DealProjectorConfig(config.originals());
        projector = new StreamsApp(APPLICATION_ID, DealProjectorTopology.build(projectorConfig, topics, metrics), kafka,
                config.dataDir().resolve("streams"), config.getBoolean(DealBridgeConfig.KAFKA_EXACTLY_ONCE), topics, metrics);
        health.register("deal-projector", projector::health);
        if (crm.isPresent()) {
            connector = new CrmConnector(projectorConfig, topics, kafka, new DealWriter(crm.get(), projectorConfig, Clock.systemUTC()),
                    metrics, Clock.systemUTC());
            connectorThread = new Thread(() -> {
                try {
                    connector.run();
                } catch (RuntimeException e) {
                    log.error("CRM connector stopped: {}", e.toString(), e);
                    throw e;
                }
            }, "crm-connector");
            health.register("crm-connector", () -> connectorThread.isAlive() ? Health.up("running") : Health.down("stopped"));
        } else {
            connector = null;
            connectorThread = null;
        }
    }

    void start() {
        projector.start();
        if (connectorThread != null) {
            connectorThread.start();
        }
    }

    @Override
    public void close() throws Exception {
        if (connector != null) {
            connector.close();
            connectorThread.join(30_000);
        }
        projector.close();
    }
}
