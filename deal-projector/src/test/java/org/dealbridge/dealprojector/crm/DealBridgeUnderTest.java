package org.dealbridge.dealprojector.crm;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import java.util.Properties;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.bitrix.BitrixClientConfig;
import org.dealbridge.bitrix.PortalRateLimiter;
import org.dealbridge.dealprojector.DealProjectorConfig;
import org.dealbridge.dealprojector.topology.DealProjectorTopology;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.mapping.MappingProfiles;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.OrderChanged;
import org.dealbridge.schemas.Topics;
import org.dealbridge.schemas.registry.InMemorySchemaRegistry;

/**
 * The deal projector and the CRM connector running against a real broker and the CRM emulator over HTTP: what the
 * launcher wires, in a test.
 */
final class DealBridgeUnderTest implements AutoCloseable {

    final Topics topics = new Topics(new InMemorySchemaRegistry());
    final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    final DealProjectorConfig config;
    private final String bootstrap;
    private final BitrixClient client;
    private final KafkaProducer<String, byte[]> producer;
    private final KafkaStreams streams;
    private CrmConnector connector;
    private Thread connectorThread;

    /**
     * @param rateLimited true to use the portal's standard budget (2 requests/s, burst 50) in the client; false for a
     *                    client that never waits (functional tests)
     */
    DealBridgeUnderTest(String bootstrap, BitrixEmulator crm, Path stateDir, String appId, boolean rateLimited) {
        this.bootstrap = bootstrap;
        this.config = new DealProjectorConfig(Map.of(
                DealProjectorConfig.COALESCE_WINDOW, "200",
                DealProjectorConfig.CONNECTOR.initialBackoff(), "50",
                DealProjectorConfig.CONNECTOR.maxBackoff(), "1000",
                DealProjectorConfig.CONNECTOR.pollTimeout(), "100",
                DealProjectorConfig.CONNECTOR.groupId(), appId + "-crm"));
        BitrixClientConfig.Builder builder = BitrixClient.builder(crm.crmWebhookUrl()).portal("crm")
                .meterRegistry(meters)
                .callTimeout(Duration.ofSeconds(3))
                .retry(4, Duration.ofMillis(50), Duration.ofMillis(500));
        if (!rateLimited) {
            builder.rateLimiter(new PortalRateLimiter("crm", PortalRateLimiter.Options.of(1000, 1000).withInitialFill(0)));
        }
        this.client = builder.build();
        Properties producerProps = new Properties();
        producerProps.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        producerProps.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        this.producer = new KafkaProducer<>(producerProps, topics.orderChanges().keySerde().serializer(),
                new org.apache.kafka.common.serialization.ByteArraySerializer());
        Properties streamsProps = new Properties();
        streamsProps.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
        streamsProps.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        streamsProps.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        streamsProps.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        streamsProps.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "100");
        streamsProps.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
        this.streams = new KafkaStreams(DealProjectorTopology.build(config, topics, meters), streamsProps);
    }

    DealBridgeUnderTest start() {
        // the global store needs the topic's partitions at start-up: wait until a fresh topic's metadata is visible
        for (String topic : List.of(topics.mappingConfig().name(), topics.orderChanges().name(), topics.dealLinks().name())) {
            await("topic " + topic + " is visible", Duration.ofSeconds(30), () -> !producer.partitionsFor(topic).isEmpty());
        }
        streams.start();
        await("the projector is running", Duration.ofSeconds(60), () -> streams.state() == KafkaStreams.State.RUNNING);
        startConnector();
        return this;
    }

    void startConnector() {
        startConnector(config);
    }

    /** A connector in another consumer group: it consumes every command from the start again (a worst-case replay). */
    void startReplayingConnector(String groupId) {
        Map<String, Object> settings = new java.util.HashMap<>(config.originals());
        settings.put(DealProjectorConfig.CONNECTOR.groupId(), groupId);
        startConnector(new DealProjectorConfig(settings));
    }

    private void startConnector(DealProjectorConfig connectorConfig) {
        Properties kafka = new Properties();
        kafka.put("bootstrap.servers", bootstrap);
        connector = new CrmConnector(connectorConfig, topics, kafka, new DealWriter(client, connectorConfig, Clock.systemUTC()),
                meters, Clock.systemUTC());
        connectorThread = new Thread(connector, "crm-connector");
        connectorThread.start();
    }

    /** True while the connector waits for an unreachable CRM (its command uncommitted, its partitions paused). */
    boolean connectorWaitsForTheCrm() {
        return connector != null && connector.unreachableSince().isPresent();
    }

    void stopConnector() throws InterruptedException {
        connector.close();
        connectorThread.join(30_000);
    }

    void publishMapping(String siteId, String yaml, long version) {
        byte[] value = topics.mappingConfig().valueSerde().serializer().serialize(topics.mappingConfig().name(),
                MappingProfiles.build(siteId, yaml, version, "test", Instant.now()));
        producer.send(new ProducerRecord<>(topics.mappingConfig().name(), siteId, value));
        producer.flush();
    }

    void storeReports(OrderChanged order) {
        byte[] value = topics.orderChanges().valueSerde().serializer().serialize(topics.orderChanges().name(), order);
        producer.send(new ProducerRecord<>(topics.orderChanges().name(), Keys.order(order.getSiteId(), order.getOrderId()), value));
        producer.flush();
    }

    /** A deal command as the projector would emit it (decided on a link of the test's choosing). */
    void projectorDecided(org.dealbridge.schemas.DealCommand command) {
        byte[] value = topics.dealCommands().valueSerde().serializer().serialize(topics.dealCommands().name(), command);
        producer.send(new ProducerRecord<>(topics.dealCommands().name(), Keys.order(command.getSiteId(), command.getOrderId()), value));
        producer.flush();
    }

    /** True when the projector's link store has the order's link (so its next change is decided as an UPDATE). */
    boolean projectorHasLink(String orderKey) {
        try {
            return streams.store(StoreQueryParameters.fromNameAndType(DealProjectorTopology.LINKS_STORE,
                    QueryableStoreTypes.<String, org.dealbridge.schemas.SyncLink>keyValueStore())).get(orderKey) != null;
        } catch (org.apache.kafka.streams.errors.InvalidStateStoreException e) {
            return false;  // rebalancing: not yet
        }
    }

    /** Every record on a topic so far (committed ones only), read from the beginning without a group. */
    <V> List<V> readAll(Topics.Topic<String, V> topic) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<V> values = new ArrayList<>();
        try (KafkaConsumer<String, V> consumer = new KafkaConsumer<>(props, topic.keySerde().deserializer(),
                topic.valueSerde().deserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic.name()).stream()
                    .map(p -> new TopicPartition(topic.name(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                consumer.poll(Duration.ofMillis(200)).forEach(record -> values.add(record.value()));
            }
        }
        return values;
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting until " + what);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting until " + what);
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (connector != null) {
            stopConnector();
        }
        streams.close(Duration.ofSeconds(10));
        producer.close();
        client.close();
    }
}
