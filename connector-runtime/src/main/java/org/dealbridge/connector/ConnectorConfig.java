package org.dealbridge.connector;

import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

/**
 * The settings every connector has, defined once and added under the connector's prefix ({@code crm.},
 * {@code store.}) to its projector's definitions, as Kafka Connect adds its common connector settings to each
 * connector's own. The key names ({@code crm.max-attempts}, {@code store.connector.group-id}, …) are a public contract.
 */
public abstract class ConnectorConfig extends AbstractConfig {

    public static final String MAX_ATTEMPTS_SETTING = "max-attempts";
    public static final String INITIAL_BACKOFF_SETTING = "initial-backoff";
    public static final String MAX_BACKOFF_SETTING = "max-backoff";
    public static final String POLL_TIMEOUT_SETTING = "poll-timeout";
    public static final String UNREACHABLE_BACKOFF_MAX_SETTING = "unreachable-backoff-max";
    public static final String CONNECTOR_GROUP_ID_SETTING = "connector.group-id";

    /**
     * DealBridge's identity on the CRM, shared by both connectors: the CRM connector writes {@code {prefix}:{siteId}} as
     * the ORIGINATOR_ID of the deals it makes, the store side recognises them by it. One key for both, never prefixed.
     */
    public static final String ORIGINATOR_PREFIX = "crm.originator-prefix";

    /** The full keys of one connector's settings, e.g. {@code Keys.of("crm").maxAttempts()} is {@code crm.max-attempts}. */
    public record Keys(String prefix, String maxAttempts, String initialBackoff, String maxBackoff, String pollTimeout, String groupId,
                       String unreachableBackoffMax) {
        public static Keys of(String prefix) {
            return new Keys(prefix, key(prefix, MAX_ATTEMPTS_SETTING), key(prefix, INITIAL_BACKOFF_SETTING), key(prefix, MAX_BACKOFF_SETTING),
                    key(prefix, POLL_TIMEOUT_SETTING), key(prefix, CONNECTOR_GROUP_ID_SETTING), key(prefix, UNREACHABLE_BACKOFF_MAX_SETTING));
        }
    }

    private final String prefix;

    /**
     * @param definition the projector's definitions, the connector settings included with {@link #define}
     * @param prefix     the connector's prefix without the dot, e.g. {@code crm}
     */
    protected ConnectorConfig(ConfigDef definition, Map<?, ?> originals, String prefix) {
        super(definition, originals, false);
        this.prefix = prefix;
        if (originatorPrefix().contains(":")) {
            throw new ConfigException(ORIGINATOR_PREFIX, originatorPrefix(), "must not contain ':' (it separates the site id)");
        }
        if (getLong(key(prefix, MAX_BACKOFF_SETTING)) < getLong(key(prefix, INITIAL_BACKOFF_SETTING))) {
            throw new ConfigException(key(prefix, MAX_BACKOFF_SETTING), getLong(key(prefix, MAX_BACKOFF_SETTING)),
                    "must not be less than " + key(prefix, INITIAL_BACKOFF_SETTING) + " (" + getLong(key(prefix, INITIAL_BACKOFF_SETTING)) + ")");
        }
        if (getLong(key(prefix, UNREACHABLE_BACKOFF_MAX_SETTING)) < getLong(key(prefix, INITIAL_BACKOFF_SETTING))) {
            throw new ConfigException(key(prefix, UNREACHABLE_BACKOFF_MAX_SETTING), getLong(key(prefix, UNREACHABLE_BACKOFF_MAX_SETTING)),
                    "must not be less than " + key(prefix, INITIAL_BACKOFF_SETTING) + " (" + getLong(key(prefix, INITIAL_BACKOFF_SETTING)) + ")");
        }
    }

    /** The full key of a connector setting, e.g. {@code key("crm", MAX_ATTEMPTS_SETTING)} is {@code crm.max-attempts}. */
    public static String key(String prefix, String setting) {
        return prefix + "." + setting;
    }

    /**
     * Adds the connector settings under {@code prefix} to {@code definition}.
     *
     * @param connector     the connector's name in docs, e.g. {@code CRM connector}
     * @param command       what one command is called in docs, e.g. {@code deal command}
     * @param partitionKey  what the commands topic is keyed by, in docs, e.g. {@code order}
     * @param commandsTopic the topic the connector consumes
     * @param groupId       the default consumer group
     */
    public static ConfigDef define(ConfigDef definition, String prefix, String connector, String command, String partitionKey,
                                   String commandsTopic, String groupId) {
        return definition
                .define(ORIGINATOR_PREFIX, Type.STRING, "dealbridge", new ConfigDef.NonEmptyStringWithoutControlChars(), Importance.HIGH,
                        "Prefix of the ORIGINATOR_ID DealBridge writes on the deals it makes: ORIGINATOR_ID = {prefix}:{siteId}. "
                                + "Together with ORIGIN_ID (the order id) it identifies the deal of an order, and a deal carrying "
                                + "it was made from an order and never makes one, so it must never change once deals exist.")
                .define(key(prefix, MAX_ATTEMPTS_SETTING), Type.INT, 6, Range.between(1, 100), Importance.MEDIUM,
                        "Rounds per " + command + " within one poll. After a failure that may have run (5xx, timeout, "
                                + "dropped connection) the next round reads again and writes what is missing; the REST client "
                                + "below retries only rate refusals and requests never sent. A command still failing transiently "
                                + "after the last round is not dead-lettered: the connector waits (" + key(prefix, UNREACHABLE_BACKOFF_MAX_SETTING)
                                + ") and runs it again; only a permanent error dead-letters it. Bounds how long one poll takes.")
                .define(key(prefix, INITIAL_BACKOFF_SETTING), Type.LONG, 500L, Range.between(1L, 60_000L), Importance.LOW,
                        "Wait before the second attempt of a " + command + " (milliseconds); doubles per attempt with "
                                + "+-50% jitter, never above " + key(prefix, MAX_BACKOFF_SETTING) + ".")
                .define(key(prefix, MAX_BACKOFF_SETTING), Type.LONG, 10_000L, Range.between(1L, 600_000L), Importance.LOW,
                        "Longest wait between two attempts of a " + command + " (milliseconds): one command waits at most ("
                                + key(prefix, MAX_ATTEMPTS_SETTING) + " - 1) x " + key(prefix, MAX_BACKOFF_SETTING)
                                + " in all, besides the REST client's waits on rate refusals (README: Retries).")
                .define(key(prefix, UNREACHABLE_BACKOFF_MAX_SETTING), Type.LONG, 60_000L, Range.between(1L, 3_600_000L), Importance.MEDIUM,
                        "Longest wait (milliseconds) before the " + connector + " tries again a " + command + " that still "
                                + "failed transiently after its " + key(prefix, MAX_ATTEMPTS_SETTING) + " rounds (the side is "
                                + "unreachable): the connector pauses its partitions, keeps polling so it stays in its group, "
                                + "and retries after a wait that starts at " + key(prefix, INITIAL_BACKOFF_SETTING)
                                + " and doubles with +-50% jitter up to this. Nothing is dead-lettered meanwhile.")
                .define(key(prefix, POLL_TIMEOUT_SETTING), Type.LONG, 500L, Range.between(1L, 60_000L), Importance.LOW,
                        "How long the connector waits in one poll of " + commandsTopic + " (milliseconds).")
                .define(key(prefix, CONNECTOR_GROUP_ID_SETTING), Type.STRING, groupId, new ConfigDef.NonEmptyString(), Importance.MEDIUM,
                        "Consumer group of the " + connector + ", also the base of its transactional id.");
    }

    public String originatorPrefix() {
        return getString(ORIGINATOR_PREFIX);
    }

    /** ORIGINATOR_ID of DealBridge on deals of a site: {@code {prefix}:{siteId}}. */
    public String originatorId(String siteId) {
        return originatorPrefix() + ":" + siteId;
    }

    /** True when a deal's ORIGINATOR_ID says DealBridge made it from an order. */
    public boolean madeByDealBridge(CharSequence originatorId) {
        return originatorId != null && originatorId.toString().startsWith(originatorPrefix() + ":");
    }

    public int maxAttempts() {
        return getInt(key(prefix, MAX_ATTEMPTS_SETTING));
    }

    public Duration initialBackoff() {
        return Duration.ofMillis(getLong(key(prefix, INITIAL_BACKOFF_SETTING)));
    }

    public Duration maxBackoff() {
        return Duration.ofMillis(getLong(key(prefix, MAX_BACKOFF_SETTING)));
    }

    /** The longest wait before a command that found its side unreachable is tried again. */
    public Duration unreachableBackoffMax() {
        return Duration.ofMillis(getLong(key(prefix, UNREACHABLE_BACKOFF_MAX_SETTING)));
    }

    /** The connector's prefix without the dot, e.g. {@code crm}: also the side it writes, as metrics name it. */
    public String prefix() {
        return prefix;
    }

    public Duration pollTimeout() {
        return Duration.ofMillis(getLong(key(prefix, POLL_TIMEOUT_SETTING)));
    }

    public String connectorGroupId() {
        return getString(key(prefix, CONNECTOR_GROUP_ID_SETTING));
    }
}
