package org.dealbridge.dealevents;

import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.types.Password;
import org.dealbridge.ingestion.ChangePoller;

/** Settings of CRM ingestion (hook, refresh queue, poller), as typed, documented definitions. */
public final class DealEventsConfig extends AbstractConfig {

    public static final String APPLICATION_TOKEN = "crm.application-token";
    private static final String APPLICATION_TOKEN_DOC = "auth[application_token] the CRM sends with every outbound event "
            + "(shown when the outbound webhook is created); events without it are refused with 401. Never logged.";

    public static final String MAX_BODY_BYTES = "crm.hook.max-body-bytes";
    private static final String MAX_BODY_BYTES_DOC = "Largest hook body accepted (bytes); larger ones get 413.";

    public static final String COALESCE_WINDOW = "crm.hook.coalesce-window";
    private static final String COALESCE_WINDOW_DOC = "How long hook events are gathered before the deals they name are "
            + "read (milliseconds); a burst of events for one deal becomes one read.";

    public static final String POLL_INTERVAL = "crm.poll.interval";
    private static final String POLL_INTERVAL_DOC = "Time between two crm.deal.list polls by DATE_MODIFY (milliseconds).";

    public static final String POLL_OVERLAP = "crm.poll.overlap";
    private static final String POLL_OVERLAP_DOC = "How far before the cursor each poll starts (milliseconds): DATE_MODIFY "
            + "has one-second resolution and a deal saved in the second of the cursor must not be missed.";

    public static final ConfigDef CONFIG_DEF = new ConfigDef()
            .define(APPLICATION_TOKEN, Type.PASSWORD, ConfigDef.NO_DEFAULT_VALUE, Importance.HIGH, APPLICATION_TOKEN_DOC)
            .define(MAX_BODY_BYTES, Type.INT, 16 * 1024, Range.between(256, 1024 * 1024), Importance.LOW, MAX_BODY_BYTES_DOC)
            .define(COALESCE_WINDOW, Type.LONG, 300L, Range.between(0L, 60_000L), Importance.LOW, COALESCE_WINDOW_DOC)
            .define(POLL_INTERVAL, Type.LONG, 60_000L, Range.between(100L, 86_400_000L), Importance.MEDIUM, POLL_INTERVAL_DOC)
            .define(POLL_OVERLAP, Type.LONG, 2_000L, Range.between(ChangePoller.MODIFIED_PRECISION.toMillis(), 3_600_000L), Importance.LOW, POLL_OVERLAP_DOC);

    public DealEventsConfig(Map<?, ?> originals) {
        super(CONFIG_DEF, originals, false);
    }

    public Password applicationToken() {
        return getPassword(APPLICATION_TOKEN);
    }

    public int maxBodyBytes() {
        return getInt(MAX_BODY_BYTES);
    }

    public Duration coalesceWindow() {
        return Duration.ofMillis(getLong(COALESCE_WINDOW));
    }

    public Duration pollInterval() {
        return Duration.ofMillis(getLong(POLL_INTERVAL));
    }

    public Duration pollOverlap() {
        return Duration.ofMillis(getLong(POLL_OVERLAP));
    }
}
