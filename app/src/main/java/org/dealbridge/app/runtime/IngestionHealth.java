package org.dealbridge.app.runtime;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.dealbridge.ingestion.ReadFailureListener;

/**
 * One side's ingestion (hook queue and poller) as {@code /health} and {@code /metrics} report it, the way a connector's
 * waits are ({@link ProjectorWithConnector}): {@code {portal}-ingestion} is DEGRADED ("waiting") while its reads from the
 * portal fail one after another, and {@code dealbridge.ingest.unreachable.seconds{portal}} says for how long (0 while
 * they work). Why: the connector shows a portal away only while it has commands to write, and ingestion's reads wait
 * without dead letters, so a store or CRM that stopped answering its readers showed nothing at all.
 */
final class IngestionHealth implements ReadFailureListener {
    /** Gauge: how long the side's ingestion reads have failed in a row, by {@code portal}; 0 while they work. */
    static final String UNREACHABLE_SECONDS = "dealbridge.ingest.unreachable.seconds";

    private record Failing(Instant since, String reason) {
    }

    private final String portal;
    private final Clock clock;
    /** Readers (a refresh queue, a poller) whose reads fail in a row, with since when and why. */
    private final Map<String, Failing> failing = new ConcurrentHashMap<>();

    /** Registers {@code {portal}-ingestion} with {@code health} and the gauge with {@code meters}; add it to the side's ingestion as its listener. */
    IngestionHealth(String portal, HealthRegistry health, MeterRegistry meters, Clock clock) {
        this.portal = portal;
        this.clock = clock;
        health.register(portal + "-ingestion", this::health);
        Gauge.builder(UNREACHABLE_SECONDS, this, IngestionHealth::unreachableSeconds)
                .description("How long the reads of a side's ingestion (hook queue, poller) have failed in a row: the records wait and are "
                        + "read again once the portal answers (none is dead-lettered); 0 while they work")
                .tag("portal", portal)
                .strongReference(true)
                .register(meters);
    }

    @Override
    public void readsFailing(String reader, RuntimeException cause) {
        failing.putIfAbsent(reader, new Failing(clock.instant(), String.valueOf(cause)));
    }

    @Override
    public void readsRecovered(String reader, Duration failedFor) {
        failing.remove(reader);
    }

    @Override
    public void readerStopped(String reader) {
        failing.remove(reader);
    }

    Health health() {
        return longestFailing()
                .map(e -> Health.degraded("waiting: reads from the " + portal + " have failed in a row since " + e.getValue().since() + " ("
                        + e.getKey() + ": " + e.getValue().reason() + "); the records wait and are read once it is back"))
                .orElseGet(() -> Health.up("reading"));
    }

    private Optional<Map.Entry<String, Failing>> longestFailing() {
        return failing.entrySet().stream().min(Comparator.comparing((Map.Entry<String, Failing> e) -> e.getValue().since()));
    }

    private double unreachableSeconds() {
        return longestFailing().map(e -> Math.max(0, Duration.between(e.getValue().since(), clock.instant()).toMillis() / 1000.0)).orElse(0.0);
    }
}
