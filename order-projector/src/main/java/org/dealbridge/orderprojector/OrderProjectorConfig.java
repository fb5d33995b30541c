package org.dealbridge.orderprojector;

import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;
import org.dealbridge.connector.ConnectorConfig;

/**
 * Settings of the order projector (the topology) and of the store connector, as typed, documented definitions: the
 * projector's own, and the connector settings every connector has under {@code store.} ({@link ConnectorConfig}). The
 * launcher maps its own configuration onto these names.
 */
public final class OrderProjectorConfig extends ConnectorConfig {

    public static final String SITE_ID = "order-projector.site-id";
    public static final String PERSON_TYPE_ID = "store.person-type-id";
    /** The store connector's settings ({@link ConnectorConfig}) under {@code store.}: {@code CONNECTOR.maxAttempts()} is {@code store.max-attempts}. */
    public static final Keys CONNECTOR = Keys.of("store");

    public static final ConfigDef CONFIG_DEF = ConnectorConfig.define(new ConfigDef()
                    .define(SITE_ID, Type.STRING, "s1", new ConfigDef.NonEmptyStringWithoutControlChars(), Importance.HIGH,
                            "Store site that orders made from deals are placed on; its mapping's dealToOrder.pipelines decides "
                                    + "which deals create orders. Linked deals use their link's site.")
                    .define(PERSON_TYPE_ID, Type.LONG, 1L, Range.atLeast(1L), Importance.MEDIUM,
                            "Payer type (personTypeId) of orders made from deals; sale.order.add requires one."),
            CONNECTOR.prefix(), "store connector", "order command", "deal", "order-commands", "dealbridge-store-connector");

    public OrderProjectorConfig(Map<?, ?> originals) {
        super(CONFIG_DEF, originals, CONNECTOR.prefix());
        if (siteId().contains(":")) {
            throw new ConfigException(SITE_ID, siteId(), "must not contain ':' (it separates the order id in keys)");
        }
    }

    public static OrderProjectorConfig defaults() {
        return new OrderProjectorConfig(Map.of());
    }

    public String siteId() {
        return getString(SITE_ID);
    }

    public long personTypeId() {
        return getLong(PERSON_TYPE_ID);
    }

    /** The definitions as RST, for the docs. */
    public static void main(String[] args) {
        System.out.println(CONFIG_DEF.toRst());
    }
}
