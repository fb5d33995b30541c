package org.dealbridge.app.runtime;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.dealbridge.app.config.DealBridgeConfig;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.dealprojector.DealProjectorConfig;
import org.dealbridge.dealprojector.crm.CrmConnector;
import org.dealbridge.dealprojector.crm.DealWriter;
import org.dealbridge.dealprojector.topology.DealProjectorTopology;
import org.dealbridge.schemas.Topics;

/**
 * Orders → deals as the runtime runs it: the deal-projector topology (always: it only needs Kafka, and commands wait
 * in {@code deal-commands} until a CRM is configured) and the CRM connector that executes them (when the CRM is).
 */
final class OrderToDealSync implements AutoCloseable {
    static final String APPLICATION_ID = "dealbridge-deal-projector";

    private final ProjectorWithConnector direction;

    /** @param crmShare told the CRM connector's assignments: its partitions are this instance's share of the CRM */
    OrderToDealSync(DealBridgeConfig config, Optional<BitrixClient> crm, PortalShare crmShare, Properties kafka, Topics topics,
                    MeterRegistry metrics, HealthRegistry health) {
        Map<String, Object> values = new HashMap<>(config.originals());
        ConnectorGroups.prefix(values, DealProjectorConfig.CONFIG_DEF, DealProjectorConfig.CONNECTOR, topics);
        DealProjectorConfig projectorConfig = new DealProjectorConfig(values);
        StreamsApp projector = new StreamsApp(topics.name(APPLICATION_ID), DealProjectorTopology.build(projectorConfig, topics, metrics), kafka,
                config.dataDir().resolve("streams"), config.getBoolean(DealBridgeConfig.KAFKA_EXACTLY_ONCE), topics, metrics);
        CrmConnector connector = crm.map(client -> new CrmConnector(projectorConfig, topics, kafka,
                new DealWriter(client, projectorConfig, Clock.systemUTC()), metrics, Clock.systemUTC())).orElse(null);
        if (connector != null) {
            connector.onAssignment(crmShare);
        }
        direction = new ProjectorWithConnector("deal-projector", projector, connector, health);
    }

    void start() {
        direction.start();
    }

    @Override
    public void close() throws Exception {
        direction.close();
    }
}
