package org.dealbridge.app.runtime;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Locale;
import org.dealbridge.schemas.DealCommandKind;
import org.dealbridge.schemas.OrderCommandKind;
import org.dealbridge.schemas.Outcome;
import org.dealbridge.schemas.SyncDirection;
import org.dealbridge.schemas.SyncMetrics;

/**
 * The counters that several components share (events in, commands, sync outcomes), registered at start with their
 * help text and at zero for every label combination. Zero series let {@code rate()} and alerts work before the
 * first event, and registering them first gives each metric family one description, whichever component counts.
 */
final class SyncMetricFamilies {
    private SyncMetricFamilies() {
    }

    static void register(MeterRegistry registry) {
        for (String source : List.of("store_hook", "store_poll", "backfill", "crm_hook", "crm_poll")) {
            Counter.builder("dealbridge.events.in").description("Change events published to Kafka, by the way in")
                    .tag("source", source).register(registry);
        }
        for (String topology : List.of("deal-projector", "crm-connector")) {
            for (DealCommandKind kind : DealCommandKind.values()) {
                commands(registry, topology, kind.name());
            }
        }
        for (String topology : List.of("order-projector", "store-connector")) {
            for (OrderCommandKind kind : OrderCommandKind.values()) {
                commands(registry, topology, kind.name());
            }
        }
        for (SyncDirection direction : SyncDirection.values()) {
            for (Outcome outcome : Outcome.values()) {
                SyncMetrics.outcomes(registry, direction, outcome);
            }
        }
    }

    private static void commands(MeterRegistry registry, String topology, String kind) {
        SyncMetrics.commands(registry, topology, kind.toUpperCase(Locale.ROOT));
    }
}
