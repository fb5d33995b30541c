package org.dealbridge.app.runtime;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.dealbridge.schemas.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Kafka Streams application of the runtime (a projector's topology): started with exactly-once or at-least-once,
 * its state under the data dir, its metrics bound to the registry (consumer lag included; the state stores' through
 * {@link StateStoreMetrics}), and its state reported to
 * /health: UP only while RUNNING.
 */
final class StreamsApp implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StreamsApp.class);

    private final String name;
    private final KafkaStreams streams;
    private final KafkaStreamsMetrics metrics;
    private final StateStoreMetrics stateStoreMetrics;
    private final java.util.concurrent.ScheduledExecutorService metricsRefresh;
    private volatile boolean hasRun;
    static final Duration METRICS_REFRESH = Duration.ofSeconds(10);

    StreamsApp(String applicationId, Topology topology, Properties client, Path stateDir, boolean exactlyOnce,
               Topics topics, MeterRegistry registry) {
        this.name = applicationId;
        Properties p = new Properties();
        p.putAll(client);
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, exactlyOnce ? StreamsConfig.EXACTLY_ONCE_V2 : StreamsConfig.AT_LEAST_ONCE);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, exactlyOnce ? "200" : "1000");
        p.put(StreamsConfig.consumerPrefix("session.timeout.ms"), "10000");
        p.put(StreamsConfig.consumerPrefix("heartbeat.interval.ms"), "1000");
        p.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, StreamsDeadLetters.class);
        p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, StreamsDeadLetters.class);
        p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, "true"); // the mapping's global store too
        // Streams' partition assignor reads its own StreamsConfig from the main consumer's settings and warned that
        // the setting above was off; telling the main consumer too keeps that WARN from misleading the reader
        p.put(StreamsConfig.mainConsumerPrefix(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG), "true");
        p.put(StreamsDeadLetters.TOPICS_CONFIG, topics);
        p.put(StreamsDeadLetters.METRICS_CONFIG, registry);
        this.streams = new KafkaStreams(topology, p);
        streams.setUncaughtExceptionHandler(e -> {
            log.error("{}: stream thread failed, replacing it: {}", applicationId, e.toString(), e);
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
        });
        streams.setStateListener((now, before) -> {
            if (now == KafkaStreams.State.RUNNING) {
                hasRun = true;
            }
            log.info("{}: {} -> {}", applicationId, before, now);
        });
        // Kafka adds per-partition metrics (lag among them) as partitions are fetched; look for new ones every 10 s
        // instead of Micrometer's default 60 s so lag shows up soon after start.
        this.metricsRefresh = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, applicationId + "-metrics");
            t.setDaemon(true);
            return t;
        });
        this.metrics = new KafkaStreamsMetrics(streams, java.util.List.of(), metricsRefresh, METRICS_REFRESH);
        metrics.bindTo(registry);
        this.stateStoreMetrics = new StateStoreMetrics(streams::metrics, registry, metricsRefresh, METRICS_REFRESH);
    }

    void start() {
        streams.start();
    }

    Health health() {
        KafkaStreams.State state = streams.state();
        return switch (state) {
            case RUNNING -> Health.up("RUNNING");
            // a rebalance after the first start is routine (a restart, a new instance): degraded, not down
            case REBALANCING -> hasRun ? Health.degraded("REBALANCING") : Health.down("REBALANCING (starting)");
            case CREATED -> Health.down("CREATED (starting)");
            default -> Health.down(state.name());
        };
    }

    String name() {
        return name;
    }

    KafkaStreams streams() {
        return streams;
    }

    @Override
    public void close() {
        streams.close(Duration.ofSeconds(15));
        metricsRefresh.shutdownNow();
        metrics.close();
        stateStoreMetrics.close();
    }
}
