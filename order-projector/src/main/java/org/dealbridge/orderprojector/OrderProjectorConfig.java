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
    private static final String SITE_ID_DOC = "Store site that orders made from deals are placed on; its mapping's "
            + "dealToOrder.pipelines decides which deals create orders. Linked deals use their link's site.";

    public static final String ORIGINATOR_PREFIX = "crm.originator-prefix";
    private static final String ORIGINATOR_PREFIX_DOC = "Prefix of the ORIGINATOR_ID DealBridge writes on the deals it "
            + "creates ({prefix}:{siteId}); a deal carrying it was made from an order and never creates one.";

    public static final String PERSON_TYPE_ID = "store.person-type-id";
    private static final String PERSON_TYPE_ID_DOC = "Payer type (personTypeId) of orders made from deals; sale.order.add requires one.";

    /** Prefix of the store connector's settings ({@link ConnectorConfig}): {@code store.max-attempts}, … */
    public static final String CONNECTOR_PREFIX = "store";
    public static final String MAX_ATTEMPTS = ConnectorConfig.key(CONNECTOR_PREFIX, ConnectorConfig.MAX_ATTEMPTS_SETTING);
    public static final String INITIAL_BACKOFF = ConnectorConfig.key(CONNECTOR_PREFIX, ConnectorConfig.INITIAL_BACKOFF_SETTING);
    public static final String MAX_BACKOFF = ConnectorConfig.key(CONNECTOR_PREFIX, ConnectorConfig.MAX_BACKOFF_SETTING);
    public static final String POLL_TIMEOUT = ConnectorConfig.key(CONNECTOR_PREFIX, ConnectorConfig.POLL_TIMEOUT_SETTING);
    public static final String CONNECTOR_GROUP_ID = ConnectorConfig.key(CONNECTOR_PREFIX, ConnectorConfig.CONNECTOR_GROUP_ID_SETTING);

    public static final ConfigDef CONFIG_DEF = ConnectorConfig.define(new ConfigDef()
                    .define(SITE_ID, Type.STRING, "s1", new ConfigDef.NonEmptyStringWithoutControlChars(), Importance.HIGH, SITE_ID_DOC)
                    .define(ORIGINATOR_PREFIX, Type.STRING, "dealbridge", new ConfigDef.NonEmptyStringWithoutControlChars(),
                            Importance.HIGH, ORIGINATOR_PREFIX_DOC)
                    .define(PERSON_TYPE_ID, Type.LONG, 1L, Range.atLeast(1L), Importance.MEDIUM, PERSON_TYPE_ID_DOC),
            CONNECTOR_PREFIX, "store connector", "order command", "deal", "order-commands", "dealbridge-store-connector");

    public OrderProjectorConfig(Map<?, ?> originals) {
        super(CONFIG_DEF, originals, CONNECTOR_PREFIX);
        if (siteId().contains(":")) {
            throw new ConfigException(SITE_ID, siteId(), "must not contain ':' (it separates the order id in keys)");
        }
        if (originatorPrefix().contains(":")) {
            throw new ConfigException(ORIGINATOR_PREFIX, originatorPrefix(), "must not contain ':' (it separates the site id)");
        }
    }

    public static OrderProjectorConfig defaults() {
        return new OrderProjectorConfig(Map.of());
    }

    public String siteId() {
        return getString(SITE_ID);
    }

    public String originatorPrefix() {
        return getString(ORIGINATOR_PREFIX);
    }

    /** True when a deal's ORIGINATOR_ID says DealBridge made it from an order. */
    public boolean madeByDealBridge(CharSequence originatorId) {
        return originatorId != null && originatorId.toString().startsWith(originatorPrefix() + ":");
    }

    public long personTypeId() {
        return getLong(PERSON_TYPE_ID);
    }

    /** The definitions as RST, for the docs. */
    public static void main(String[] args) {
        System.out.println(CONFIG_DEF.toRst());
    }
}
