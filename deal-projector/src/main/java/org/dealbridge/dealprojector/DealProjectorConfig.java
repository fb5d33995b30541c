package org.dealbridge.dealprojector;

import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

/**
 * Settings of the deal projector (the topology) and of the CRM connector, as typed, documented definitions in the
 * style of Kafka Connect. The launcher maps its own configuration onto these names.
 */
public final class DealProjectorConfig extends AbstractConfig {

    public static final String COALESCE_WINDOW = "deal-projector.coalesce-window";
    private static final String COALESCE_WINDOW_DOC = "How long changes to one order are gathered before one deal "
            + "command is emitted for all of them (milliseconds, wall clock). 0 emits a command per change.";

    public static final String ORIGINATOR_PREFIX = "crm.originator-prefix";
    private static final String ORIGINATOR_PREFIX_DOC = "Prefix of the ORIGINATOR_ID DealBridge writes on deals: "
            + "ORIGINATOR_ID = {prefix}:{siteId}. Together with ORIGIN_ID (the order id) it identifies the deal of an "
            + "order, so it must never change once deals exist.";

    public static final String BATCH_SIZE = "crm.batch-size";
    private static final String BATCH_SIZE_DOC = "Most sub-commands in one Bitrix batch call (the portal runs at most 50).";

    public static final String MAX_ATTEMPTS = "crm.max-attempts";
    private static final String MAX_ATTEMPTS_DOC = "Attempts per deal command before it goes to the dead-letter "
            + "topic. An attempt is one round (a read batch, then a write batch); after a failure that may have run "
            + "(5xx, timeout, dropped connection) the next one starts again from the look-up, and the REST client "
            + "below retries only rate refusals. Bounds how long one order can hold a partition.";

    public static final String INITIAL_BACKOFF = "crm.initial-backoff";
    private static final String INITIAL_BACKOFF_DOC = "Wait before the second attempt of a deal command "
            + "(milliseconds); doubles per attempt with +-50% jitter, never above crm.max-backoff.";

    public static final String MAX_BACKOFF = "crm.max-backoff";
    private static final String MAX_BACKOFF_DOC = "Longest wait between two attempts of a deal command "
            + "(milliseconds): one command waits at most (crm.max-attempts - 1) x crm.max-backoff in all, besides "
            + "the REST client's waits on rate refusals (README: Retries).";

    public static final String POLL_TIMEOUT = "crm.poll-timeout";
    private static final String POLL_TIMEOUT_DOC = "How long the connector waits in one poll of deal-commands (milliseconds).";

    public static final String CONNECTOR_GROUP_ID = "crm.connector.group-id";
    private static final String CONNECTOR_GROUP_ID_DOC = "Consumer group of the CRM connector, also the base of its transactional id.";

    public static final ConfigDef CONFIG_DEF = new ConfigDef()
            .define(COALESCE_WINDOW, Type.LONG, 500L, Range.between(0L, 60_000L), Importance.MEDIUM, COALESCE_WINDOW_DOC)
            .define(ORIGINATOR_PREFIX, Type.STRING, "dealbridge", new ConfigDef.NonEmptyStringWithoutControlChars(),
                    Importance.HIGH, ORIGINATOR_PREFIX_DOC)
            .define(BATCH_SIZE, Type.INT, 50, Range.between(1, 50), Importance.LOW, BATCH_SIZE_DOC)
            .define(MAX_ATTEMPTS, Type.INT, 6, Range.between(1, 100), Importance.MEDIUM, MAX_ATTEMPTS_DOC)
            .define(INITIAL_BACKOFF, Type.LONG, 500L, Range.between(1L, 60_000L), Importance.LOW, INITIAL_BACKOFF_DOC)
            .define(MAX_BACKOFF, Type.LONG, 10_000L, Range.between(1L, 600_000L), Importance.LOW, MAX_BACKOFF_DOC)
            .define(POLL_TIMEOUT, Type.LONG, 500L, Range.between(1L, 60_000L), Importance.LOW, POLL_TIMEOUT_DOC)
            .define(CONNECTOR_GROUP_ID, Type.STRING, "dealbridge-crm-connector", new ConfigDef.NonEmptyString(),
                    Importance.MEDIUM, CONNECTOR_GROUP_ID_DOC);

    public DealProjectorConfig(Map<?, ?> originals) {
        super(CONFIG_DEF, originals, false);
        if (getLong(MAX_BACKOFF) < getLong(INITIAL_BACKOFF)) {
            throw new ConfigException(MAX_BACKOFF, getLong(MAX_BACKOFF),
                    "must not be less than " + INITIAL_BACKOFF + " (" + getLong(INITIAL_BACKOFF) + ")");
        }
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

    /** The definitions as an HTML table or RST, for the docs. */
    public static void main(String[] args) {
        System.out.println(CONFIG_DEF.toRst());
    }
}
