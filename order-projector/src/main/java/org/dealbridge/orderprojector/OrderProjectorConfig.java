package org.dealbridge.orderprojector;

import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

/**
 * Settings of the order projector (the topology) and of the store connector, as typed, documented definitions. The
 * launcher maps its own configuration onto these names.
 */
public final class OrderProjectorConfig extends AbstractConfig {

    public static final String SITE_ID = "order-projector.site-id";
    private static final String SITE_ID_DOC = "Store site that orders made from deals are placed on; its mapping's "
            + "dealToOrder.pipelines decides which deals create orders. Linked deals use their link's site.";

    public static final String ORIGINATOR_PREFIX = "crm.originator-prefix";
    private static final String ORIGINATOR_PREFIX_DOC = "Prefix of the ORIGINATOR_ID DealBridge writes on the deals it "
            + "creates ({prefix}:{siteId}); a deal carrying it was made from an order and never creates one.";

    public static final String PERSON_TYPE_ID = "store.person-type-id";
    private static final String PERSON_TYPE_ID_DOC = "Payer type (personTypeId) of orders made from deals; sale.order.add requires one.";

    public static final String MAX_ATTEMPTS = "store.max-attempts";
    private static final String MAX_ATTEMPTS_DOC = "Attempts per order command before it goes to the dead-letter "
            + "topic. After a failure that may have run (5xx, timeout, dropped connection) the next attempt reads "
            + "the deal and the order again and writes what is missing; the REST client below retries only rate "
            + "refusals.";

    public static final String INITIAL_BACKOFF = "store.initial-backoff";
    private static final String INITIAL_BACKOFF_DOC = "Wait before the second attempt of an order command "
            + "(milliseconds); doubles per attempt with +-50% jitter, never above store.max-backoff.";

    public static final String MAX_BACKOFF = "store.max-backoff";
    private static final String MAX_BACKOFF_DOC = "Longest wait between two attempts of an order command "
            + "(milliseconds): one command waits at most (store.max-attempts - 1) x store.max-backoff in all, "
            + "besides the REST client's waits on rate refusals (README: Retries).";

    public static final String POLL_TIMEOUT = "store.poll-timeout";
    private static final String POLL_TIMEOUT_DOC = "How long the connector waits in one poll of order-commands (milliseconds).";

    public static final String CONNECTOR_GROUP_ID = "store.connector.group-id";
    private static final String CONNECTOR_GROUP_ID_DOC = "Consumer group of the store connector, also the base of its transactional id.";

    public static final ConfigDef CONFIG_DEF = new ConfigDef()
            .define(SITE_ID, Type.STRING, "s1", new ConfigDef.NonEmptyStringWithoutControlChars(), Importance.HIGH, SITE_ID_DOC)
            .define(ORIGINATOR_PREFIX, Type.STRING, "dealbridge", new ConfigDef.NonEmptyStringWithoutControlChars(),
                    Importance.HIGH, ORIGINATOR_PREFIX_DOC)
            .define(PERSON_TYPE_ID, Type.LONG, 1L, Range.atLeast(1L), Importance.MEDIUM, PERSON_TYPE_ID_DOC)
            .define(MAX_ATTEMPTS, Type.INT, 6, Range.between(1, 100), Importance.MEDIUM, MAX_ATTEMPTS_DOC)
            .define(INITIAL_BACKOFF, Type.LONG, 500L, Range.between(1L, 60_000L), Importance.LOW, INITIAL_BACKOFF_DOC)
            .define(MAX_BACKOFF, Type.LONG, 10_000L, Range.between(1L, 600_000L), Importance.LOW, MAX_BACKOFF_DOC)
            .define(POLL_TIMEOUT, Type.LONG, 500L, Range.between(1L, 60_000L), Importance.LOW, POLL_TIMEOUT_DOC)
            .define(CONNECTOR_GROUP_ID, Type.STRING, "dealbridge-store-connector", new ConfigDef.NonEmptyString(),
                    Importance.MEDIUM, CONNECTOR_GROUP_ID_DOC);

    public OrderProjectorConfig(Map<?, ?> originals) {
        super(CONFIG_DEF, originals, false);
        if (getLong(MAX_BACKOFF) < getLong(INITIAL_BACKOFF)) {
            throw new ConfigException(MAX_BACKOFF, getLong(MAX_BACKOFF),
                    "must not be less than " + INITIAL_BACKOFF + " (" + getLong(INITIAL_BACKOFF) + ")");
        }
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

    public int maxAttempts() {
        return getInt(MAX_ATTEMPTS);
    }

    public Duration initialBackoff() {
        return Duration.ofMillis(getLong(INITIAL_BACKOFF));
    }

    public Duration maxBackoff() {
        return Duration.ofMillis(getLong(MAX_BACKOFF));
    }

    public Duration pollTimeout() {
        return Duration.ofMillis(getLong(POLL_TIMEOUT));
    }

    public String connectorGroupId() {
        return getString(CONNECTOR_GROUP_ID);
    }

    /** The definitions as RST, for the docs. */
    public static void main(String[] args) {
        System.out.println(CONFIG_DEF.toRst());
    }
}
