package org.dealbridge.mapping;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.schemas.MappingProfile;
import org.dealbridge.schemas.registry.InMemorySchemaRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The global store on a real broker with real KafkaStreams: a bad record written straight to mapping-config (around
 * the CLI) never replaces the mapping in force, neither while running nor when an instance starts and restores the
 * store from the topic (same state dir or a wiped one).
 */
class MappingTableRestoreTest {

    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();
    private static final AtomicInteger SEQ = new AtomicInteger();

    private final InMemorySchemaRegistry registry = new InMemorySchemaRegistry();
    private MappingTopics topics;
    private MappingPublisher publisher;
    private Path stateDir;
    private String applicationId;

    @BeforeEach
    void setUp() throws Exception {
        int n = SEQ.incrementAndGet();
        topics = MappingTopics.named(registry, "restore-config-" + n, "restore-history-" + n);
        publisher = new MappingPublisher(KAFKA.clientProperties(), topics, Clock.systemUTC());
        stateDir = Files.createTempDirectory("mapping-restore-");
        applicationId = "mapping-restore-" + n;
    }

    @AfterEach
    void cleanUp() throws Exception {
        deleteRecursively(stateDir);
    }

    private final class Instance implements AutoCloseable {
        final SimpleMeterRegistry meters = new SimpleMeterRegistry();
        final MappingTable table = new MappingTable(topics, meters);
        final KafkaStreams streams;

        Instance() {
            StreamsBuilder builder = new StreamsBuilder();
            table.addTo(builder);
            Properties props = KAFKA.clientProperties();
            props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
            props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
            streams = new KafkaStreams(builder.build(), props);
            streams.start();
            await(() -> streams.state() == KafkaStreams.State.RUNNING, "RUNNING");
        }

        Optional<CompiledMapping> mapping() {
            return table.lookup(streams).forSite("s1");
        }

        double rejected() {
            Counter c = meters.find(MappingTable.REJECTED_METRIC).tag("site", "s1").counter();
            return c == null ? 0 : c.count();
        }

        double versionGauge() {
            return meters.find(MappingTable.VERSION_METRIC).tag("site", "s1").gauge().value();
        }

        @Override
        public void close() {
            streams.close(Duration.ofSeconds(30));
        }
    }

    private void writeAroundTheCli(MappingProfile profile) {
        try (KafkaProducer<String, MappingProfile> producer = new KafkaProducer<>(KAFKA.clientProperties(),
                new StringSerializer(), topics.valueSerde().serializer())) {
            producer.send(new ProducerRecord<>(topics.current(), "s1", profile)).get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void writeBytes(byte[] value) {
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(KAFKA.clientProperties(),
                new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topics.current(), "s1", value)).get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void badRecordWhileRunningLeavesThePreviousMappingInForce() {
        publisher.publish(MappingTableTest.V1, "a", false, DocumentCheck.NONE);
        try (Instance instance = new Instance()) {
            await(() -> instance.mapping().isPresent(), "version 1 in force");
            writeAroundTheCli(MappingTableTest.profile(MappingTableTest.INVALID, 2));
            await(() -> instance.rejected() == 1, "the bad record rejected");
            assertThat(instance.mapping().orElseThrow().version()).isEqualTo(1);
            assertThat(instance.versionGauge()).isEqualTo(1);

            publisher.publish(MappingTableTest.V2, "a", false, DocumentCheck.NONE);  // version 3 (2 was taken on the topic)
            await(() -> instance.mapping().map(CompiledMapping::version).orElse(0L) == 3, "version 3 in force");
        }
    }

    @Test
    void restartRestoresTheLastGoodVersionEvenWhenTheLatestRecordIsBad() throws Exception {
        publisher.publish(MappingTableTest.V1, "a", false, DocumentCheck.NONE);
        publisher.publish(MappingTableTest.V2, "a", false, DocumentCheck.NONE);
        writeAroundTheCli(MappingTableTest.profile(MappingTableTest.INVALID, 3));
        writeBytes("garbage".getBytes());

        // Every record on the topic predates these instances, so all of it goes through the global store's restore.
        try (Instance first = new Instance()) {
            await(() -> first.rejected() == 2, "both bad records rejected on restore");
            assertThat(first.mapping().orElseThrow().version()).isEqualTo(2);
            assertThat(first.mapping().orElseThrow().stageFor(0, "F")).contains("WON");
        }
        try (Instance sameStateDir = new Instance()) {
            await(() -> sameStateDir.mapping().isPresent(), "a mapping after restart");
            assertThat(sameStateDir.mapping().orElseThrow().version()).isEqualTo(2);
            assertThat(sameStateDir.versionGauge()).isEqualTo(2);
        }
        deleteRecursively(stateDir);
        Files.createDirectories(stateDir);
        try (Instance wiped = new Instance()) {
            await(() -> wiped.mapping().isPresent(), "a mapping after a wiped restart");
            assertThat(wiped.mapping().orElseThrow().version()).isEqualTo(2);
        }
    }

    @Test
    void tombstoneStopsTheSiteAndStaysStoppedAfterRestart() {
        publisher.publish(MappingTableTest.V1, "a", false, DocumentCheck.NONE);
        try (Instance instance = new Instance()) {
            await(() -> instance.mapping().isPresent(), "version 1 in force");
            publisher.withdraw("s1");
            await(() -> instance.mapping().isEmpty(), "the site removed");
            assertThat(instance.versionGauge()).isZero();
        }
        try (Instance restarted = new Instance()) {
            await(() -> restarted.meters.find(MappingTable.VERSION_METRIC).tag("site", "s1").gauge() != null,
                    "the removal replayed");
            assertThat(restarted.mapping()).isEmpty();
        }
    }

    static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    static void deleteRecursively(Path dir) throws Exception {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
