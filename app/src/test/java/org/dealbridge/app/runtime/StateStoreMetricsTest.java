package org.dealbridge.app.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The state-store meters stay registered whatever Micrometer's Kafka binder does to meters of their names. */
class StateStoreMetricsTest {

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stop() {
        scheduler.shutdownNow();
    }

    private static Metric metric(MetricName name, double value) {
        return new Metric() {
            @Override
            public MetricName metricName() {
                return name;
            }

            @Override
            public Object metricValue() {
                return value;
            }
        };
    }

    @Test
    void aMeterTheKafkaBinderRemovedIsRegisteredAgainAtTheNextRefresh() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        registry.config().meterFilter(StateStoreMetrics.FROM_KAFKA_BINDER);
        MetricName entries = new MetricName("estimate-num-keys", "stream-state-metrics", "",
                Map.of("thread-id", "deal-projector-StreamThread-1", "task-id", "0_0", "rocksdb-state-id", "deal-projector-links"));
        StateStoreMetrics metrics = new StateStoreMetrics(() -> Map.of(entries, metric(entries, 42)), registry, scheduler,
                Duration.ofHours(1));
        metrics.refresh();
        Meter ours = registry.find("kafka.stream.state.estimate.num.keys").tag("state.id", "deal-projector-links").meter();
        assertThat(ours).isNotNull();

        // what KafkaMetrics.checkAndBindMetrics does when it binds a metric of this name: our meter has fewer tags than
        // its own (no kafka.version, no client.id), so it is removed from the registry
        registry.remove(ours);
        metrics.refresh();

        assertThat(registry.find("kafka.stream.state.estimate.num.keys").tag("state.id", "deal-projector-links").gauge())
                .isNotNull().satisfies(g -> assertThat(g.value()).isEqualTo(42.0));
        metrics.close();
    }
}
