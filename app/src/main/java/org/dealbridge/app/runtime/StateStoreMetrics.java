package org.dealbridge.app.runtime;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.config.MeterFilter;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Streams application's state-store metrics ({@code kafka.stream.state.*}) with one set of tag keys for every kind of
 * store: {@code thread.id}, {@code task.id} and {@code state.id}, the store's name.
 *
 * <p>Kafka tags them with the store's kind ({@code rocksdb-state-id}, {@code in-memory-state-id},
 * {@code rocksdb-window-state-id}…), so as Micrometer's Kafka binder registers them the same meter carries different
 * tag keys per kind, and Prometheus refuses every kind but the first: those metrics never reached /metrics. Renaming the
 * keys with a MeterFilter is not enough, because the binder compares its own unmapped tags with the registry's and
 * registers the meters again on every refresh. So the binder's state-store meters are denied ({@link #FROM_KAFKA_BINDER})
 * and registered here instead, from the same Kafka metrics.
 */
final class StateStoreMetrics implements AutoCloseable {
    static final String PREFIX = "kafka.stream.state.";
    static final String STATE_ID_TAG = "state.id";
    private static final String GROUP = "stream-state-metrics";
    private static final Logger log = LoggerFactory.getLogger(StateStoreMetrics.class);

    /** Registry-wide: the Kafka binder's state-store meters, with their kind-specific tag keys, are not registered. */
    static final MeterFilter FROM_KAFKA_BINDER = MeterFilter.deny(
            id -> id.getName().startsWith(PREFIX) && id.getTag(STATE_ID_TAG) == null);

    private final Supplier<Map<MetricName, ? extends Metric>> kafkaMetrics;
    private final MeterRegistry registry;
    private final AtomicReference<Map<MetricName, ? extends Metric>> current = new AtomicReference<>(Map.of());
    private final Map<MetricName, Meter> registered = new ConcurrentHashMap<>();

    StateStoreMetrics(Supplier<Map<MetricName, ? extends Metric>> kafkaMetrics, MeterRegistry registry,
                      ScheduledExecutorService refresh, Duration interval) {
        this.kafkaMetrics = kafkaMetrics;
        this.registry = registry;
        // stores come and go with their tasks: look again as often as the Kafka binder does
        refresh.scheduleAtFixedRate(this::refresh, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    void refresh() {
        try {
            bindNewAndRemoveGone();
        } catch (RuntimeException e) {
            // a failed look must not end the schedule (an uncaught exception would): the next one retries
            log.warn("could not refresh the state-store metrics: {}", e.toString());
        }
    }

    private void bindNewAndRemoveGone() {
        Map<MetricName, ? extends Metric> now = kafkaMetrics.get();
        current.set(now);
        // Micrometer's Kafka binder, binding a new Kafka metric, removes from the registry the meters of the same name
        // that carry fewer tags than its own, and ours do: what it removed is registered again here. Without this the
        // store metrics of whichever app the binder looked at after this refresh never came back (CommandLineTest
        // runServesTheMetricsOfEveryStateStoreKind failed now and then: the deal projector's RocksDB store missing)
        Set<Meter.Id> inRegistry = registry.getMeters().stream().map(Meter::getId).collect(Collectors.toSet());
        now.forEach((name, metric) -> {
            if (GROUP.equals(name.group()) && metric.metricValue() instanceof Number) {
                registered.compute(name, (k, meter) -> meter != null && inRegistry.contains(meter.getId()) ? meter : register(k));
            }
        });
        registered.entrySet().removeIf(e -> {
            if (now.containsKey(e.getKey())) {
                return false;
            }
            registry.remove(e.getValue());
            return true;
        });
    }

    private Meter register(MetricName name) {
        String meterName = PREFIX + name.name().replace('-', '.');
        String store = name.tags().entrySet().stream().filter(t -> t.getKey().endsWith("-state-id"))
                .map(Map.Entry::getValue).findFirst().orElse("");
        Tags tags = Tags.of("thread.id", name.tags().getOrDefault("thread-id", ""),
                "task.id", name.tags().getOrDefault("task-id", ""), STATE_ID_TAG, store);
        // the Kafka binder's rule: totals and counts are counters, the rest gauges
        if (meterName.endsWith("total") || meterName.endsWith("count")) {
            return FunctionCounter.builder(meterName, current, m -> valueOf(m.get().get(name)))
                    .tags(tags).description(name.description()).register(registry);
        }
        return Gauge.builder(meterName, current, m -> valueOf(m.get().get(name)))
                .tags(tags).description(name.description()).register(registry);
    }

    private static double valueOf(Metric metric) {
        return metric != null && metric.metricValue() instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    @Override
    public void close() {
        registered.values().forEach(registry::remove);
        registered.clear();
    }
}
