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
    public static final String CREATE_LINK_TIMEOUT = "deal-projector.create-link-timeout";
    public static final String BATCH_SIZE = "crm.batch-size";
    /** The CRM connector's settings ({@link ConnectorConfig}) under {@code crm.}: {@code CONNECTOR.maxAttempts()} is {@code crm.max-attempts}. */
    public static final Keys CONNECTOR = Keys.of("crm");

    public static final ConfigDef CONFIG_DEF = ConnectorConfig.define(new ConfigDef()
                    .define(COALESCE_WINDOW, Type.LONG, 500L, Range.between(0L, 60_000L), Importance.MEDIUM,
                            "How long changes to one order are gathered, counted from its first change not yet decided, "
                                    + "before one deal command is emitted for the latest of them (milliseconds, on the changes' own "
                                    + "time, their record timestamps, so changes made within a window are folded however long the "
                                    + "projector takes to take them in; a partition with nothing more to take in is decided by the "
                                    + "wall clock; each order has its own window, so an order that keeps changing is still decided "
                                    + "once a window). 0 emits a command per change.")
                    .define(CREATE_LINK_TIMEOUT, Type.LONG, 300_000L, Range.between(0L, 86_400_000L), Importance.LOW,
                            "How long the later changes of a new order wait for the link of its deal once its CREATE is sent "
                                    + "(milliseconds, wall clock): they become one update decided on that link when it arrives. "
                                    + "A CREATE whose link does not come in time (its answer lost, the CRM down, the command "
                                    + "dead-lettered) releases them as before: another CREATE, which the connector's look-up turns "
                                    + "into an update of the deal it finds. 0 never waits.")
                    .define(BATCH_SIZE, Type.INT, 50, Range.between(1, 50), Importance.LOW,
                            "Most sub-commands in one Bitrix batch call (the portal runs at most 50)."),
            CONNECTOR.prefix(), "CRM connector", "deal command", "order", "deal-commands", "dealbridge-crm-connector");

    public DealProjectorConfig(Map<?, ?> originals) {
        super(CONFIG_DEF, originals, CONNECTOR.prefix());
    }

    /** All defaults. */
    public static DealProjectorConfig defaults() {
        return new DealProjectorConfig(Map.of());
    }

    public Duration coalesceWindow() {
        return Duration.ofMillis(getLong(COALESCE_WINDOW));
    }

    public Duration createLinkTimeout() {
        return Duration.ofMillis(getLong(CREATE_LINK_TIMEOUT));
    }

    public int batchSize() {
        return getInt(BATCH_SIZE);
    }

    /** The definitions as an HTML table or RST, for the docs. */
    public static void main(String[] args) {
        System.out.println(CONFIG_DEF.toRst());
    }
}
