package org.dealbridge.opschecks;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.dealbridge.app.config.ConfigLoader;
import org.dealbridge.app.runtime.DealBridgeRuntime;
import org.dealbridge.bitrix.BatchCommand;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.bitrix.PortalRateLimiter;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.mapping.MappingTable;
import org.dealbridge.orderevents.IngestMetrics;
import org.dealbridge.schemas.Topics;

/**
 * A running DealBridge (embedded broker, HTTP on a free port) with traffic, so that its /metrics carries the series
 * ops depends on:
 * <ul>
 *   <li>real Bitrix REST meters: a {@link BitrixClient} on the runtime's registry calls the CRM emulator over HTTP
 *       (rest calls, batch size, rate-limiter wait and rate, 503/429 and auth-failure counters);</li>
 *   <li>real consumer lag: a consumer in group {@value #LAG_GROUP} with {@link KafkaClientMetrics} bound reads
 *       {@value #CONSUMED} of {@value #PRODUCED} records on order-changes, leaving a known lag;</li>
 *   <li>the sync components' meters, registered here with the names and tags those components use, because
 *       {@link DealBridgeRuntime} does not start the projectors yet. Once it does, replace {@link #registerSyncMeters}
 *       by running an order through them.</li>
 * </ul>
 */
final class RunningDealBridge implements AutoCloseable {
    static final String LAG_GROUP = "ops-checks-lag";
    static final int PRODUCED = 40;
    static final int CONSUMED = 10;
    /** Sync outcomes counted as CREATED, read back through Prometheus. */
    static final int CREATED = 3;

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    final DealBridgeRuntime runtime;
    private final BitrixEmulator emulator;
    private final BitrixClient crm;
    private final KafkaConsumer<String, String> consumer;
    private final KafkaClientMetrics consumerMetrics;

    RunningDealBridge(Path dataDir) {
        Map<String, String> env = new HashMap<>(Map.of("DEALBRIDGE_DATA_DIR", dataDir.toString(), "DEALBRIDGE_HTTP_PORT", "0"));
        runtime = DealBridgeRuntime.start(ConfigLoader.load(null, env));
        try {
            emulator = BitrixEmulator.start();
            crm = BitrixClient.builder(emulator.crmWebhookUrl()).portal("crm").allowInsecureHttp(true)
                    .rateLimiter(new PortalRateLimiter("crm", PortalRateLimiter.Options.of(50, 50)))
                    .meterRegistry(runtime.metrics()).build();
            crm.call("crm.deal.list", Map.of());
            crm.batch(List.of(BatchCommand.of("a", "crm.deal.list", Map.of()), BatchCommand.of("b", "crm.category.list", Map.of())));

            produceOrderChanges();
            consumer = lagConsumer();
            consumeSome();
            // Micrometer registers the client's metrics when bound and looks for new ones only every 60 s; the
            // per-partition lag exists after the first fetch, so bind after it (DealBridge's long-running clients
            // show it from the first refresh on).
            consumerMetrics = new KafkaClientMetrics(consumer);
            consumerMetrics.bindTo(runtime.metrics());
            registerSyncMeters(runtime.metrics());
        } catch (RuntimeException | Error e) {
            runtime.close();
            throw e;
        }
    }

    private void produceOrderChanges() {
        // the values need not be Avro here: only offsets matter for lag
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(runtime.clientProperties(), new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < PRODUCED; i++) {
                producer.send(new ProducerRecord<>(Topics.ORDER_CHANGES, 0, "s1:" + (1000 + i), "x"));
            }
            producer.flush();
        }
    }

    private KafkaConsumer<String, String> lagConsumer() {
        Properties p = runtime.clientProperties();
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, LAG_GROUP + "-1");
        p.put(ConsumerConfig.GROUP_ID_CONFIG, LAG_GROUP);
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Integer.toString(CONSUMED));
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    private void consumeSome() {
        TopicPartition tp = new TopicPartition(Topics.ORDER_CHANGES, 0);
        consumer.assign(List.of(tp));
        consumer.seekToBeginning(List.of(tp));
        int read = 0;
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (read < CONSUMED && System.nanoTime() < deadline) {
            read += consumer.poll(Duration.ofMillis(200)).count();
        }
        if (read != CONSUMED) {
            throw new IllegalStateException("expected to read " + CONSUMED + " records but read " + read);
        }
    }

    /**
     * The meters of the sync components, by the names and tags they register them with (see the class comment), with
     * help texts: Prometheus wants one per metric. NOTE: OrderProjector (deal-projector) and DealProjector
     * (order-projector) register {@code dealbridge.sync.outcomes} and {@code dealbridge.commands} without a
     * description today, which {@link PromtoolMetricsTest} will report once they run in the runtime.
     */
    static void registerSyncMeters(MeterRegistry registry) {
        // deal-projector OrderProjector / order-projector DealProjector
        Counter.builder("dealbridge.sync.outcomes").description("Sync decisions and results, by direction and outcome")
                .tag("direction", "ORDER_TO_DEAL").tag("outcome", "CREATED").register(registry).increment(CREATED);
        Counter.builder("dealbridge.sync.outcomes").description("Sync decisions and results, by direction and outcome")
                .tag("direction", "ORDER_TO_DEAL").tag("outcome", "SKIPPED_UNMAPPED_STATUS").register(registry).increment();
        Counter.builder("dealbridge.commands").description("Commands written for the connectors, by topology and kind")
                .tag("topology", "deal-projector").tag("kind", "CREATE").register(registry).increment(CREATED);
        // deal-projector CrmConnector: end-to-end latency histogram
        Timer latency = Timer.builder("dealbridge.sync.latency").description("From the order change in the store to the deal write in the CRM")
                .tag("direction", "ORDER_TO_DEAL").publishPercentileHistogram().register(registry);
        latency.record(Duration.ofMillis(850));
        // order-events IngestMetrics
        Counter.builder(IngestMetrics.EVENTS_IN).description("OrderChanged events published, by the way in")
                .tag("source", "store_hook").register(registry).increment(PRODUCED);
        Counter.builder(IngestMetrics.DEAD_LETTERS).description("Records sent to the dead-letter topic")
                .tag("component", "deal-projector").register(registry).increment();
        // mapping-config MappingTable
        Gauge.builder(MappingTable.VERSION_METRIC, new AtomicLong(3), AtomicLong::get).description("Version of the site's mapping in force (0: none)")
                .tag("site", "s1").register(registry);
        Counter.builder(MappingTable.REJECTED_METRIC).description("Mapping records ignored because they failed validation")
                .tag("site", "s1").register(registry);
    }

    int httpPort() {
        return runtime.httpPort();
    }

    String scrape() {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            if (r.statusCode() != 200) {
                throw new IllegalStateException("/metrics answered " + r.statusCode());
            }
            return r.body();
        } catch (Exception e) {
            throw new IllegalStateException("cannot read /metrics: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            consumerMetrics.close();
            consumer.close(Duration.ofSeconds(5));
            crm.close();
            emulator.close();
        } finally {
            runtime.close();
        }
    }
}
