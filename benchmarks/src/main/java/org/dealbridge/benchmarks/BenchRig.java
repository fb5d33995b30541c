package org.dealbridge.benchmarks;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.dealbridge.app.runtime.KafkaTopicsSetup;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.bitrix.BitrixClientConfig;
import org.dealbridge.bitrix.PortalRateLimiter;
import org.dealbridge.dealprojector.DealProjectorConfig;
import org.dealbridge.dealprojector.crm.CrmConnector;
import org.dealbridge.dealprojector.crm.DealWriter;
import org.dealbridge.dealprojector.topology.DealProjectorTopology;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.kafka.embedded.EmbeddedKafka;
import org.dealbridge.mapping.MappingProfiles;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.OrderChanged;
import org.dealbridge.schemas.Topics;
import org.dealbridge.schemas.registry.InMemorySchemaRegistry;

/**
 * The order → deal half of DealBridge wired as the launcher wires it (deal projector on an in-process broker, CRM
 * connector, Bitrix client) but held directly, so a benchmark can time each part and read the emulator's call log.
 */
final class BenchRig implements AutoCloseable {
    final Path dir;
    final EmbeddedKafka broker;
    final Topics topics = new Topics(new InMemorySchemaRegistry());
    final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    final KafkaProducer<String, byte[]> producer;
    private KafkaStreams projector;
    /** When the projector last became RUNNING (System.nanoTime), set by its state listener. */
    volatile long projectorRunningSince;
    /** Records the projector's stores restored from their changelogs since it last started. */
    final java.util.concurrent.atomic.AtomicLong restoredRecords = new java.util.concurrent.atomic.AtomicLong();
    private CrmConnector connector;
    private Thread connectorThread;
    private BitrixClient client;

    /** A broker with every DealBridge topic ({@code partitions} each; mapping-config has one). */
    BenchRig(int partitions) {
        try {
            this.dir = Files.createTempDirectory("dealbridge-bench");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.broker = EmbeddedKafka.start(dir.resolve("kafka"), 0, Map.of());
        try (Admin admin = Admin.create(clientProperties())) {
            KafkaTopicsSetup.ensureTopics(admin, Topics.DEFINITIONS, partitions, (short) 1);
        }
        Properties props = clientProperties();
        props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        // fresh partitions answer NOT_LEADER_OR_FOLLOWER for a moment; with 5 batches in flight the retried first batch
        // was once refused as OUT_OF_ORDER_SEQUENCE forever (seen preloading 100k orders), so one batch at a time
        props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
        // so one request carries what gathered while the one before it was in flight (16 KB batches took 25 requests,
        // over half a second, for a burst of 5000 changes)
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(256 * 1024));
        this.producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
        for (String topic : List.of(Topics.MAPPING_CONFIG, Topics.ORDER_CHANGES, Topics.DEAL_LINKS, Topics.DEAL_COMMANDS)) {
            await("topic " + topic + " has leaders", Duration.ofSeconds(30), () -> {
                var infos = producer.partitionsFor(topic);
                return !infos.isEmpty() && infos.stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty());
            });
        }
    }

    Properties clientProperties() {
        Properties props = new Properties();
        props.put("bootstrap.servers", broker.bootstrapServers());
        return props;
    }

    /** The projector's production defaults, with the given coalesce window and the connector's own group. */
    static DealProjectorConfig projectorConfig(Duration coalesceWindow, String connectorGroup) {
        return new DealProjectorConfig(Map.of(
                DealProjectorConfig.COALESCE_WINDOW, Long.toString(coalesceWindow.toMillis()),
                DealProjectorConfig.CONNECTOR.groupId(), connectorGroup));
    }

    /**
     * The settings every Kafka Streams app of the benchmarks runs with: the guarantee asked for, a commit every 100 ms,
     * reading order-changes from its start.
     */
    Properties streamsProperties(String appId, boolean exactlyOnce, Path stateDir) {
        Properties props = clientProperties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, exactlyOnce ? StreamsConfig.EXACTLY_ONCE_V2 : StreamsConfig.AT_LEAST_ONCE);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "100");
        props.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
        return props;
    }

    /** Starts the deal projector (Kafka Streams) and waits until it runs. */
    KafkaStreams startProjector(DealProjectorConfig config, String appId, boolean exactlyOnce, Path stateDir) {
        Properties props = streamsProperties(appId, exactlyOnce, stateDir);
        projector = new KafkaStreams(DealProjectorTopology.build(config, topics, meters), props);
        projector.setStateListener((now, before) -> {
            if (now == KafkaStreams.State.RUNNING && before != KafkaStreams.State.RUNNING) {
                projectorRunningSince = System.nanoTime();
            }
        });
        restoredRecords.set(0);
        // with the state updater a stream thread is RUNNING while its stores still restore: count the restore itself
        projector.setGlobalStateRestoreListener(new org.apache.kafka.streams.processor.StateRestoreListener() {
            @Override
            public void onRestoreStart(org.apache.kafka.common.TopicPartition partition, String store, long start, long end) {
            }

            @Override
            public void onBatchRestored(org.apache.kafka.common.TopicPartition partition, String store, long batchEnd, long restored) {
                restoredRecords.addAndGet(restored);
            }

            @Override
            public void onRestoreEnd(org.apache.kafka.common.TopicPartition partition, String store, long totalRestored) {
            }
        });
        projector.start();
        await("the deal projector runs", Duration.ofMinutes(10), () -> projector.state() == KafkaStreams.State.RUNNING);
        return projector;
    }

    /** Stops the projector and leaves its group, so a restart is not held up by the session timeout (45 s). */
    void stopProjector() {
        if (projector != null) {
            projector.close(org.apache.kafka.streams.CloseOptions.timeout(Duration.ofSeconds(30))
                    .withGroupMembershipOperation(org.apache.kafka.streams.CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
            projector = null;
        }
    }

    /**
     * Starts the CRM connector against the emulator.
     *
     * @param standardBudget true for the client's standard rate budget (2 requests/s, burst 50, as a real portal);
     *                       false for a client that never waits (when only call counts matter)
     */
    void startConnector(DealProjectorConfig config, BitrixEmulator crm, boolean standardBudget) {
        startConnector(config, crm, standardBudget ? PortalRateLimiter.Options.standard()
                : PortalRateLimiter.Options.of(1000, 1000).withInitialFill(0));
    }

    /** The connector with a client that keeps to this bucket (the portal's: {@code standard()}, {@code enterprise()}). */
    void startConnector(DealProjectorConfig config, BitrixEmulator crm, PortalRateLimiter.Options budget) {
        // the launcher's call timeout (65 s, the cloud cuts a request at 60 s): a full batch of list look-ups takes the
        // emulator seconds on a busy machine, and a timed-out read fails its whole round
        BitrixClientConfig.Builder builder = BitrixClient.builder(crm.crmWebhookUrl()).portal("crm").meterRegistry(meters)
                .retry(4, Duration.ofMillis(50), Duration.ofMillis(500));
        builder.rateLimiter(new PortalRateLimiter("crm", budget));
        client = builder.build();
        connector = new CrmConnector(config, topics, clientProperties(), new DealWriter(client, config, Clock.systemUTC()),
                meters, Clock.systemUTC());
        connectorThread = new Thread(connector, "bench-crm-connector");
        connectorThread.start();
    }

    /** A CRM portal as the benchmarks' mapping expects it: pipeline 2 with its manager and the pay-system field. */
    static void seed(BitrixEmulator crm) {
        crm.crm().addPipeline(2, "Sofas");
        crm.crm().addUser(9, "Sofa", "Manager", "sofas@example.com", true);
        crm.crm().addDealUserField("UF_CRM_PAY_SYSTEM", "string");
    }

    static final String MAPPING = """
            site: s1
            pipelines:
              default: 0
              bySection:
                - { section: 12, pipeline: 2 }
            stages:
              "0":
                - { stage: NEW, status: N }
                - { stage: EXECUTING, status: P }
                - { stage: WON, status: F }
              "2":
                - { stage: "C2:NEW", status: N }
                - { stage: "C2:EXECUTING", status: P }
            responsible:
              default: 1
              byPipeline: { "2": 9 }
              contactOwner: false
            dealFields:
              paySystemId: UF_CRM_PAY_SYSTEM
            payment: { default: 1 }
            """;

    void publishMapping() {
        byte[] value = topics.mappingConfig().valueSerde().serializer().serialize(Topics.MAPPING_CONFIG,
                MappingProfiles.build("s1", MAPPING, 1, "bench", Instant.now()));
        producer.send(new ProducerRecord<>(Topics.MAPPING_CONFIG, "s1", value));
        producer.flush();
    }

    /** A store order of site s1 with one buyer and one sofa; section 12 puts it in pipeline 2, others in 0. */
    static OrderChanged order(long orderId, String status, long section, String price) {
        return order(orderId, status, section, price, orderId);
    }

    /** The same, bought by buyer {@code buyerId} ({@code buyer<id>@example.com}): orders of one buyer share the e-mail. */
    static OrderChanged order(long orderId, String status, long section, String price, long buyerId) {
        return OrderChanged.newBuilder().setSiteId("s1").setOrderId(orderId).setAccountNumber("A-" + orderId)
                .setStatusId(status).setCurrency("RUB").setPrice(price).setPaySystemIds(List.of(4L))
                .setBuyer(org.dealbridge.schemas.Buyer.newBuilder().setName("Buyer " + buyerId)
                        .setEmail("buyer" + buyerId + "@example.com").build())
                .setItems(List.of(org.dealbridge.schemas.BasketItem.newBuilder().setProductId(77).setName("Sofa")
                        .setPrice(price).setQuantity("1").setSectionPath(List.of(10L, section)).build()))
                .setDateUpdate(Instant.now())
                .setCause(org.dealbridge.schemas.ChangeCause.newBuilder()
                        .setSource(org.dealbridge.schemas.ChangeSource.STORE_HOOK).build())
                .build();
    }

    byte[] serialize(OrderChanged order) {
        return topics.orderChanges().valueSerde().serializer().serialize(Topics.ORDER_CHANGES, order);
    }

    /**
     * Readies the sender of order changes without sending one: its schema registered, the topic's partitions known, the
     * serializer run hot. A burst's changes are then sent as fast as the producer goes (a cold one took over a second
     * for 5000), so what a benchmark times is the sync, not its own first sends.
     */
    void warmUpSender() {
        producer.partitionsFor(Topics.ORDER_CHANGES);
        OrderChanged sample = order(1, "N", 99, "1500");
        for (int i = 0; i < 20_000; i++) {
            serialize(sample);
        }
    }

    /** Sends an order change (not flushed: the caller flushes once for a burst). */
    void send(OrderChanged order) {
        producer.send(new ProducerRecord<>(Topics.ORDER_CHANGES, Keys.order(order.getSiteId(), order.getOrderId()), serialize(order)));
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out after " + timeout.toSeconds() + " s waiting until " + what);
            }
            sleep(20);
        }
    }

    /** True when the group's committed offsets on the topic reach its end (transaction markers included), or it is empty. */
    static boolean caughtUp(Admin admin, String group, String topic) {
        try {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get();
            List<TopicPartition> partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions()
                    .stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(
                    partitions.stream().collect(Collectors.toMap(p -> p, p -> OffsetSpec.latest()))).all().get();
            // a partition nothing was ever written to has no committed offset to wait for
            return partitions.stream().allMatch(p -> ends.get(p).offset() == 0
                    || committed.get(p) != null && committed.get(p).offset() >= ends.get(p).offset());
        } catch (ExecutionException e) {
            return false;  // the group is still forming
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    static long sizeOf(Path root) {
        if (!Files.exists(root)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(Files::isRegularFile).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    return 0;  // a RocksDB file compacted away while walking
                }
            }).sum();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void delete(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        if (connector != null) {
            try {
                connector.close();
                connectorThread.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        stopProjector();
        producer.close();
        if (client != null) {
            client.close();
        }
        broker.close();
        delete(dir);
    }
}
