package org.dealbridge.kafka.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit 5 extension giving a test class a real KRaft Kafka in this JVM:
 * <pre>{@code
 * @RegisterExtension static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();
 * }</pre>
 * One node is the same {@link EmbeddedKafka} that {@code bin/dealbridge run} starts (on a temporary data dir);
 * three brokers (for fault tests: replication 3, {@code min.insync.replicas} 2) come from Kafka's own test kit,
 * with short heartbeats so a stopped broker is noticed and a restarted one rejoins within seconds.
 * Tests share the cluster of their class and keep apart by topic and group names.
 */
public final class EmbeddedKafkaCluster implements BeforeAllCallback, AfterAllCallback {
    private final int brokers;
    private final Map<String, String> brokerConfig;
    private EmbeddedKafka single;
    private KafkaClusterTestKit cluster;
    private Path dataDir;

    private EmbeddedKafkaCluster(int brokers, Map<String, String> brokerConfig) {
        this.brokers = brokers;
        this.brokerConfig = brokerConfig;
    }

    public static EmbeddedKafkaCluster singleNode() {
        return new EmbeddedKafkaCluster(1, Map.of());
    }

    public static EmbeddedKafkaCluster singleNode(Map<String, String> brokerConfig) {
        return new EmbeddedKafkaCluster(1, brokerConfig);
    }

    /** Three brokers and one controller; topics default to replication 3 and min.insync.replicas 2. */
    public static EmbeddedKafkaCluster threeBrokers() {
        return new EmbeddedKafkaCluster(3, Map.of());
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        stop();
    }

    /** Starts the cluster (the extension calls this; tests that manage it by hand may too). */
    public void start() throws Exception {
        if (brokers == 1) {
            dataDir = Files.createTempDirectory("dealbridge-kafka-");
            single = EmbeddedKafka.start(dataDir, 0, brokerConfig);
            return;
        }
        KafkaClusterTestKit.Builder builder = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
                .setCombined(false).setNumControllerNodes(1).setNumBrokerNodes(brokers).build())
                .setConfigProp("offsets.topic.replication.factor", "3")
                .setConfigProp("transaction.state.log.replication.factor", "3")
                .setConfigProp("transaction.state.log.min.isr", "2")
                .setConfigProp("min.insync.replicas", "2")
                .setConfigProp("group.initial.rebalance.delay.ms", "0")
                .setConfigProp("broker.heartbeat.interval.ms", "500")
                .setConfigProp("broker.session.timeout.ms", "3000")
                .setConfigProp("log.cleaner.dedupe.buffer.size", String.valueOf(16 << 20));
        brokerConfig.forEach(builder::setConfigProp);
        cluster = builder.build();
        cluster.format();
        cluster.startup();
        cluster.waitForReadyBrokers();
    }

    public void stop() {
        if (single != null) {
            single.close();
            single = null;
            deleteRecursively(dataDir);
        }
        if (cluster != null) {
            try {
                cluster.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing the test cluster failed", e);
            }
            cluster = null;
        }
    }

    public String bootstrapServers() {
        return single != null ? single.bootstrapServers() : cluster.bootstrapServers();
    }

    /** Broker ids are 0..2 in a three-broker cluster. Stops one broker; the cluster keeps serving with the others. */
    public void stopBroker(int id) {
        requireMulti();
        var broker = cluster.brokers().get(id);
        broker.shutdown();
        broker.awaitShutdown();
    }

    /** Starts a stopped broker again on its old port. */
    public void startBroker(int id) {
        requireMulti();
        cluster.brokers().get(id).startup();
    }

    private void requireMulti() {
        if (cluster == null) {
            throw new IllegalStateException("stopping and starting brokers needs EmbeddedKafkaCluster.threeBrokers()");
        }
    }

    /** Client properties pointing at this cluster. */
    public Properties clientProperties() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        return p;
    }

    /** Creates topics (idempotent) with the given partitions and the cluster's replication. */
    public void createTopics(int partitions, String... names) {
        createTopics(partitions, Map.of(), names);
    }

    public void createTopics(int partitions, Map<String, String> configs, String... names) {
        short replication = (short) Math.min(brokers, 3);
        try (Admin admin = Admin.create(clientProperties())) {
            for (String name : names) {
                try {
                    admin.createTopics(List.of(new NewTopic(name, partitions, replication).configs(new HashMap<>(configs))))
                            .all().get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException("cannot create topic " + name, e.getCause());
                    }
                }
            }
        } catch (Exception e) {
            if (e instanceof IllegalStateException ise) {
                throw ise;
            }
            throw new IllegalStateException("cannot create topics", e);
        }
    }

    /** Every committed record of a topic so far, read from the beginning of each partition without a group. */
    public <K, V> List<ConsumerRecord<K, V>> readCommitted(String topic, Deserializer<K> keys, Deserializer<V> values) {
        Properties props = clientProperties();
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<ConsumerRecord<K, V>> records = new ArrayList<>();
        try (KafkaConsumer<K, V> consumer = new KafkaConsumer<>(props, keys, values)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        return records;
    }

    private static void deleteRecursively(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
