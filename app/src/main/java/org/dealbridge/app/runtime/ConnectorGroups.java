package org.dealbridge.app.runtime;

import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.dealbridge.connector.ConnectorConfig;
import org.dealbridge.schemas.Topics;

/**
 * The connectors' consumer group (and with it their transactional ids, {@code {group}-{topic}-{partition}}) in front
 * of which the installation's {@code kafka.topic-prefix} goes, handed to the connector as its configured group id so
 * the connector itself knows nothing of prefixes.
 */
final class ConnectorGroups {
    private ConnectorGroups() {
    }

    /** Replaces the connector's group id in {@code values} (the configured one, or the default) by the prefixed one. */
    static void prefix(Map<String, Object> values, ConfigDef definition, ConnectorConfig.Keys connector, Topics topics) {
        if (topics.prefix().isEmpty()) {
            return;
        }
        Object configured = values.get(connector.groupId());
        String group = configured != null ? configured.toString()
                : String.valueOf(definition.configKeys().get(connector.groupId()).defaultValue);
        values.put(connector.groupId(), topics.name(group));
    }
}
