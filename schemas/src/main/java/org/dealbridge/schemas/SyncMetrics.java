package org.dealbridge.schemas;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The sync's own metric families, named once: the projectors count the commands they emit and the outcomes they
 * decide, the connectors the commands they execute and the outcomes of their writes. Alerts and the dashboard query
 * these names ({@code dealbridge_commands_total}, {@code dealbridge_sync_outcomes_total}).
 */
public final class SyncMetrics {
    public static final String COMMANDS = "dealbridge.commands";
    public static final String COMMANDS_DESCRIPTION = "Commands emitted by the projectors and executed by the connectors";
    public static final String OUTCOMES = "dealbridge.sync.outcomes";
    public static final String OUTCOMES_DESCRIPTION =
            "What DealBridge decided or did for a change, by direction and outcome (see sync-outcomes for the reasons)";

    private SyncMetrics() {
    }

    /** A command emitted or executed by {@code component} (deal-projector, crm-connector, …). */
    public static Counter commands(MeterRegistry meters, String component, String kind) {
        return Counter.builder(COMMANDS).description(COMMANDS_DESCRIPTION).tag("topology", component).tag("kind", kind)
                .register(meters);
    }

    public static Counter outcomes(MeterRegistry meters, SyncDirection direction, Outcome outcome) {
        return Counter.builder(OUTCOMES).description(OUTCOMES_DESCRIPTION).tag("direction", direction.name())
                .tag("outcome", outcome.name()).register(meters);
    }
}
