package org.dealbridge.opschecks;

import java.io.IOException;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.dealbridge.app.config.DealBridgeConfig;
import org.dealbridge.app.runtime.DealBridgeRuntime;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.emulator.NewOrder;
import org.dealbridge.mapping.DocumentCheck;
import org.dealbridge.mapping.MappingPublisher;
import org.dealbridge.mapping.MappingTable;
import org.dealbridge.mapping.MappingTopics;
import org.dealbridge.schemas.MappingProfile;
import org.dealbridge.schemas.SyncOutcome;
import org.dealbridge.schemas.Topics;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * DealBridge as it runs in production, with traffic, so that its /metrics carries the series ops depends on: the
 * runtime against the Bitrix emulators (store and CRM events delivered to its hooks over HTTP), a mapping published,
 * a stale mapping record that DealBridge rejects, {@value #ORDERS_MAPPED} orders in mapped statuses,
 * {@value #ORDERS_UNMAPPED} in a status the mapping leaves out, and one stage change a manager makes in the CRM, which
 * flows back to its order.
 *
 * <p>Starting this and waiting for its effects takes a while, and Micrometer's Kafka binder picks up the Streams
 * consumers' per-partition lag only on its periodic refresh (60 s, see {@link #awaitStreamsLagSeries}): the test
 * classes share one instance through {@link Shared}, closed when the test run ends.
 */
final class RunningDealBridge implements AutoCloseable {
    static final String SITE = "s1";
    static final int ORDERS_MAPPED = 3;
    static final int ORDERS_UNMAPPED = 1;
    private static final long SECTION_BOOKS = 11;
    private static final long PRODUCT_NOVEL = 101;
    /** Books go to the default pipeline 0; status W ("waiting for the supplier") is deliberately not mapped. */
    private static final String MAPPING = """
            site: s1
            pipelines:
              default: 0
            stages:
              "0":
                - { stage: NEW, status: N }
                - { stage: EXECUTING, status: P }
                - { stage: WON, status: F }
            responsible:
              default: 1
            payment:
              default: 1
            """;
    private static final Duration EFFECTS_TIMEOUT = Duration.ofSeconds(60);
    /** The binder's refresh interval (60 s, counted from the runtime's start) plus slack. */
    private static final Duration LAG_SERIES_TIMEOUT = Duration.ofSeconds(75);
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    final DealBridgeRuntime runtime;
    private final BitrixEmulator emulator;
    private final Path dataDir;
    private final Map<String, Integer> outcomes = new HashMap<>();

    private RunningDealBridge(Path dataDir) {
        this.dataDir = dataDir;
        emulator = BitrixEmulator.start(EmulatorOptions.defaults().port(0).rateLimitDisabled());
        try {
            seed(emulator);
            String crmToken = UUID.randomUUID().toString().replace("-", "");
            String storeToken = UUID.randomUUID().toString().replace("-", "");
            Map<String, Object> values = new HashMap<>();
            values.put(DealBridgeConfig.DATA_DIR, dataDir.toString());
            values.put(DealBridgeConfig.HTTP_PORT, "0");
            values.put(DealBridgeConfig.KAFKA_PARTITIONS, "1");
            values.put(DealBridgeConfig.CRM_WEBHOOK_URL, emulator.crmWebhookUrl());
            values.put(DealBridgeConfig.CRM_APPLICATION_TOKEN, crmToken);
            values.put(DealBridgeConfig.CRM_RATE_RPS, "100");
            values.put(DealBridgeConfig.STORE_WEBHOOK_URL, emulator.storeWebhookUrl());
            values.put(DealBridgeConfig.STORE_APPLICATION_TOKEN, storeToken);
            values.put(DealBridgeConfig.STORE_RATE_RPS, "100");
            // orders arrive through the hook; a poller re-reading them would add outcomes the counts here do not expect
            values.put(DealBridgeConfig.STORE_POLL_INTERVAL, "PT1H");
            runtime = DealBridgeRuntime.start(new DealBridgeConfig(values));
        } catch (RuntimeException | Error e) {
            emulator.close();
            throw e;
        }
        try {
            String base = "http://127.0.0.1:" + runtime.httpPort();
            emulator.subscribeStore(base + "/hooks/store", runtime.config().secret(DealBridgeConfig.STORE_APPLICATION_TOKEN), "ONSALEORDERSAVED");
            emulator.subscribeCrm(base + "/hooks/bitrix24", runtime.config().secret(DealBridgeConfig.CRM_APPLICATION_TOKEN),
                    "ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE");
            publishMapping();
            driveTraffic();
            outcomeReader.close(Duration.ofSeconds(5));
            outcomeReader = null;
            awaitStreamsLagSeries();
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    private static void seed(BitrixEmulator emu) {
        emu.crm().addUser(1, "Anna Admin", true);
        var store = emu.store();
        store.addStatus("N", "Accepted");
        store.addStatus("P", "Paid, assembling");
        store.addStatus("F", "Delivered");
        store.addStatus("W", "Waiting for the supplier");
        store.addPaySystem(1, "Cash on delivery", true);
        store.addSection(SECTION_BOOKS, null, "Books");
        store.addProduct(PRODUCT_NOVEL, "War and Peace", SECTION_BOOKS, new BigDecimal("890.00"));
    }

    private void publishMapping() {
        MappingTopics mappingTopics = MappingTopics.of(runtime.schemaRegistry());
        MappingPublisher publisher = new MappingPublisher(runtime.clientProperties(), mappingTopics, Clock.systemUTC());
        MappingProfile published = publisher.publish(MAPPING, "ops-checks", false, DocumentCheck.NONE).profile();
        // an order decided before the projector has the mapping would be SKIPPED_NO_MAPPING
        await("the mapping in force", () -> runtime.metrics().find(MappingTable.VERSION_METRIC).tag("site", SITE).gauges().stream()
                .anyMatch(g -> g.value() >= 1));

        // A second publisher working from a stale view writes its own document under the version already in force:
        // DealBridge keeps the mapping in force and counts the record as rejected.
        String staleDocument = MAPPING + "# W mapped by a colleague who had not seen version 1\n";
        MappingProfile stale = MappingProfile.newBuilder(published).setAuthor("ops-checks-stale").setDocument(staleDocument)
                .setContentHash(sha256Hex(staleDocument)).build();
        try (KafkaProducer<String, MappingProfile> producer = new KafkaProducer<>(runtime.clientProperties(),
                mappingTopics.keySerde().serializer(), mappingTopics.valueSerde().serializer())) {
            producer.send(new ProducerRecord<>(mappingTopics.current(), SITE, stale)).get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot write the stale mapping record: " + e.getCause(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        await("the stale mapping record rejected", () -> runtime.metrics().find(MappingTable.REJECTED_METRIC).tag("site", SITE).counters().stream()
                .anyMatch(c -> c.count() >= 1));
    }

    private static String sha256Hex(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private void driveTraffic() {
        List<Long> mapped = new ArrayList<>();
        for (int i = 0; i < ORDERS_MAPPED; i++) {
            mapped.add(emulator.store().addOrder(order("N", "Buyer " + i)));
        }
        for (int i = 0; i < ORDERS_UNMAPPED; i++) {
            emulator.store().addOrder(order("W", "Waiting buyer " + i));
        }
        await(ORDERS_MAPPED + " deals created and " + ORDERS_UNMAPPED + " order skipped", () -> {
            readOutcomes();
            return outcomes("ORDER_TO_DEAL", "CREATED") >= ORDERS_MAPPED && outcomes("ORDER_TO_DEAL", "SKIPPED_UNMAPPED_STATUS") >= ORDERS_UNMAPPED;
        });

        // a manager closes the first deal as won: the order follows to status F
        long order = mapped.get(0);
        long dealId = Long.parseLong(String.valueOf(emulator.crm().dealsByOrigin("dealbridge:" + SITE, Long.toString(order)).get(0).get("ID")));
        emulator.crm().updateDealAsHuman(dealId, Map.of("STAGE_ID", "WON"));
        await("order " + order + " in status F after the manager's stage change", () -> {
            readOutcomes();
            return "F".equals(String.valueOf(emulator.store().order(order).get("statusId"))) && outcomes("DEAL_TO_ORDER", "UPDATED") >= 1;
        });
    }

    /**
     * Micrometer's Kafka binder (bound to each Streams app at start-up) registers the metrics a client has when bound
     * and looks for new ones every 60 s; a Streams consumer's per-partition lag exists only once it has partitions and
     * has fetched. So the lag of the projectors' input topics appears in /metrics on the binder's first refresh, up
     * to 60 s after start: wait for it (bounded) so every check sees what a long-running DealBridge exports.
     */
    private void awaitStreamsLagSeries() {
        long deadline = System.nanoTime() + LAG_SERIES_TIMEOUT.toNanos();
        while (!hasLagSeries(scrape(), Topics.ORDER_CHANGES) || !hasLagSeries(scrape(), Topics.DEAL_CHANGES)
                || !hasLagSeries(scrape(), Topics.DEAL_COMMANDS) || !hasLagSeries(scrape(), Topics.ORDER_COMMANDS)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no kafka_consumer_fetch_manager_records_lag series for each of " + Topics.ORDER_CHANGES + ", "
                        + Topics.DEAL_CHANGES + ", " + Topics.DEAL_COMMANDS + " (CRM connector) and " + Topics.ORDER_COMMANDS
                        + " (store connector) in /metrics within " + LAG_SERIES_TIMEOUT.toSeconds() + " s");
            }
            sleep(500);
        }
    }

    static boolean hasLagSeries(String exposition, String topic) {
        return exposition.lines().anyMatch(l -> l.startsWith("kafka_consumer_fetch_manager_records_lag{") && l.contains("topic=\"" + topic + "\""));
    }

    private static NewOrder order(String status, String buyer) {
        return NewOrder.create().status(status).item(PRODUCT_NOVEL, "War and Peace", new BigDecimal("890.00"), 1)
                .property("FIO", buyer).payment(1, new BigDecimal("890.00"), false);
    }

    private KafkaConsumer<String, SyncOutcome> outcomeReader;

    /** Counts the committed records on sync-outcomes read so far, by direction and outcome. */
    private void readOutcomes() {
        if (outcomeReader == null) {
            Properties p = runtime.clientProperties();
            p.put(ConsumerConfig.CLIENT_ID_CONFIG, "ops-checks-outcomes");
            p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            outcomeReader = new KafkaConsumer<>(p, new StringDeserializer(), runtime.topics().syncOutcomes().valueSerde().deserializer());
            List<TopicPartition> partitions = outcomeReader.partitionsFor(Topics.SYNC_OUTCOMES).stream()
                    .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            outcomeReader.assign(partitions);
            outcomeReader.seekToBeginning(partitions);
        }
        for (ConsumerRecord<String, SyncOutcome> r : outcomeReader.poll(Duration.ofMillis(200))) {
            if (r.value() != null) {
                outcomes.merge(r.value().getDirection() + "/" + r.value().getOutcome(), 1, Integer::sum);
            }
        }
    }

    /** How many outcomes of this kind DealBridge published on sync-outcomes (what the traffic produced). */
    int outcomes(String direction, String outcome) {
        return outcomes.getOrDefault(direction + "/" + outcome, 0);
    }

    private static void await(String what, BooleanSupplier done) {
        long deadline = System.nanoTime() + EFFECTS_TIMEOUT.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("DealBridge did not get to " + what + " within " + EFFECTS_TIMEOUT.toSeconds() + " s");
            }
            sleep(100);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
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
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /metrics: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        try {
            if (outcomeReader != null) {
                outcomeReader.close(Duration.ofSeconds(5));
            }
            if (runtime != null) {
                runtime.close();
            }
        } finally {
            emulator.close();
            deleteQuietly(dataDir);
        }
    }

    private static void deleteQuietly(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp dir under target/: left for mvn clean
        }
    }

    /**
     * Resolves a {@link RunningDealBridge} parameter with the one instance of this test run, started on first use and
     * closed by JUnit when the run ends.
     */
    static final class Shared implements ParameterResolver {
        @Override
        public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
            return parameter.getParameter().getType() == RunningDealBridge.class;
        }

        @Override
        public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
            return context.getRoot().getStore(ExtensionContext.Namespace.create(RunningDealBridge.class))
                    .getOrComputeIfAbsent(RunningDealBridge.class, k -> start(), RunningDealBridge.class);
        }

        private static RunningDealBridge start() {
            try {
                return new RunningDealBridge(Files.createTempDirectory("ops-checks-dealbridge"));
            } catch (IOException e) {
                throw new IllegalStateException("cannot create a data dir: " + e.getMessage(), e);
            }
        }
    }
}
