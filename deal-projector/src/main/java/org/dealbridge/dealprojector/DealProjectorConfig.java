package org.dealbridge.dealprojector;

import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;
import org.dealbridge.connector.ConnectorConfig;

/**
 * Settings of the deal projector (the topology) and of the CRM connector, as typed, documented definitions in the
 * style of Kafka Connect: the projector's own, and the connector settings every connector has under {@code crm.}
 * ({@link ConnectorConfig}). The launcher maps its own configuration onto these names.
 */
public final class DealProjectorConfig extends ConnectorConfig {

    public static final String COALESCE_WINDOW = "deal-projector.coalesce-window";
    private static final String COALESCE_WINDOW_DOC = "How long changes to one order are gathered before one deal "
            + "command is emitted for all of them (milliseconds, wall clock). 0 emits a command per change.";

    public static final String ORIGINATOR_PREFIX = "crm.originator-prefix";
    private static final String ORIGINATOR_PREFIX_DOC = "Prefix of the ORIGINATOR_ID DealBridge writes on deals: "
            + "ORIGINATOR_ID = {prefix}:{siteId}. Together with ORIGIN_ID (the order id) it identifies the deal of an "
            + "order, so it must never change once deals exist.";

    public static final String BATCH_SIZE = "crm.batch-size";
    private static final String BATCH_SIZE_DOC = "Most sub-commands in one Bitrix batch call (the portal runs at most 50).";

    /** Prefix of the CRM connector's settings ({@link ConnectorConfig}): {@code crm.max-attempts}, … */
    public static final String CONNECTOR_PREFIX = "crm";
    public static final String MAX_ATTEMPTS = ConnectorConfig.key(CONNECTOR_PREFIX, ConnectorConfig.MAX_ATTEMPTS_SETTING);
    public static final String INITIAL_BACKOFF = ConnectorConfig.key(CONNECTOR_PREFIX, ConnectorConfig.INITIAL_BACKOFF_SETTING);
    public static final String MAX_BACKOFF = ConnectorConfig.key(CONNECTOR_PREFIX, ConnectorConfig.MAX_BACKOFF_SETTING);
    public static final String POLL_TIMEOUT = ConnectorConfig.key(CONNECTOR_PREFIX, ConnectorConfig.POLL_TIMEOUT_SETTING);
    public static final String CONNECTOR_GROUP_ID = ConnectorConfig.key(CONNECTOR_PREFIX, ConnectorConfig.CONNECTOR_GROUP_ID_SETTING);

    public static final ConfigDef CONFIG_DEF = ConnectorConfig.define(new ConfigDef()
                    .define(COALESCE_WINDOW, Type.LONG, 500L, Range.between(0L, 60_000L), Importance.MEDIUM, COALESCE_WINDOW_DOC)
                    .define(ORIGINATOR_PREFIX, Type.STRING, "dealbridge", new ConfigDef.NonEmptyStringWithoutControlChars(),
                            Importance.HIGH, ORIGINATOR_PREFIX_DOC)
                    .define(BATCH_SIZE, Type.INT, 50, Range.between(1, 50), Importance.LOW, BATCH_SIZE_DOC),
            CONNECTOR_PREFIX, "CRM connector", "deal command", "order", "deal-commands", "dealbridge-crm-connector");

    public DealProjectorConfig(Map<?, ?> originals) {
        super(CONFIG_DEF, originals, CONNECTOR_PREFIX);
        if (originatorPrefix().contains(":")) {
            throw new ConfigException(ORIGINATOR_PREFIX, originatorPrefix(), "must not contain ':' (it separates the site id)");
        }
    }

    /** All defaults. */
    public static DealProjectorConfig defaults() {
        return new DealProjectorConfig(Map.of());
    }

    public Duration coalesceWindow() {
        return Duration.ofMillis(getLong(COALESCE_WINDOW));
    }

    public String originatorPrefix() {
        return getString(ORIGINATOR_PREFIX);
    }

    /** ORIGINATOR_ID of DealBridge on deals of a site: {@code {prefix}:{siteId}}. */
    public String originatorId(String siteId) {
        return originatorPrefix() + ":" + siteId;
    }

    public int batchSize() {
        return getInt(BATCH_SIZE);
    }

    /** The definitions as an HTML table or RST, for the docs. */
    public static void main(String[] args) {
        System.out.println(CONFIG_DEF.toRst());
    }
}
