package org.dealbridge.orderevents;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Locale;
import java.util.Objects;
import org.dealbridge.bitrix.events.EventHook;
import org.dealbridge.schemas.ChangeSource;

/**
 * The meters of the ingestion side:
 * <ul>
 *   <li>{@code dealbridge.events.in{source=store_hook|store_poll|backfill}}: OrderChanged events published;</li>
 *   <li>{@code dealbridge.hook.rejected{hook=store,reason=bad_token|too_large|malformed|method}}: hook calls refused;</li>
 *   <li>{@code dealbridge.dead.letters{component}}: orders given up and sent to the dead-letter topic.</li>
 * </ul>
 */
public final class IngestMetrics {
    public static final String EVENTS_IN = "dealbridge.events.in";
    public static final String HOOK_REJECTED = "dealbridge.hook.rejected";
    public static final String DEAD_LETTERS = "dealbridge.dead.letters";

    private final MeterRegistry registry;

    public IngestMetrics(MeterRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
    }

    public MeterRegistry registry() {
        return registry;
    }

    void eventIn(ChangeSource source) {
        Counter.builder(EVENTS_IN).description("OrderChanged events published, by the way in")
                .tag("source", source.name().toLowerCase(Locale.ROOT)).register(registry).increment();
    }

    void hookRejected(EventHook.Rejection reason) {
        Counter.builder(HOOK_REJECTED).description("Store hook calls refused")
                .tag("hook", "store").tag("reason", reason.tag()).register(registry).increment();
    }

    void deadLetter(String component) {
        Counter.builder(DEAD_LETTERS).description("Records sent to the dead-letter topic")
                .tag("component", component).register(registry).increment();
    }
}
