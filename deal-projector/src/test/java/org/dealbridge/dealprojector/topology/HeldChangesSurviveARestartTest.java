package org.dealbridge.dealprojector.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.dealbridge.dealprojector.topology.ProjectorScenario.MAPPING;
import static org.dealbridge.dealprojector.topology.ProjectorScenario.order;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.dealbridge.dealprojector.DealProjectorConfig;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.mapping.MappingProfiles;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.DealCommandKind;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.OrderChanged;
import org.dealbridge.schemas.Topics;
import org.dealbridge.schemas.registry.InMemorySchemaRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A change held for the link of its order's CREATE survives a restart that loses the local state: the held change and
 * the CREATE in flight come back from their changelogs, so the link that arrives afterwards still folds them into one
 * update (and no second CREATE goes out on restart).
 */
class HeldChangesSurviveARestartTest {

    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();

    private final Topics topics = new Topics(new InMemorySchemaRegistry());

    @Test
    void aHeldChangeIsRestoredFromItsChangelogAndBecomesOneUpdateWhenTheLinkArrives(@TempDir Path before, @TempDir Path after)
            throws Exception {
        KAFKA.createTopics(2, Topics.ORDER_CHANGES, Topics.DEAL_COMMANDS, Topics.DEAL_LINKS, Topics.SYNC_OUTCOMES, Topics.DEAD_LETTERS);
        KAFKA.createTopics(1, Topics.MAPPING_CONFIG);
        String key = Keys.order(ProjectorScenario.SITE, 5001);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(KAFKA.clientProperties(), new StringSerializer(),
                new ByteArraySerializer())) {
            send(producer, topics.mappingConfig(), ProjectorScenario.SITE,
                    MappingProfiles.build(ProjectorScenario.SITE, MAPPING, 1, "admin", Instant.now()));

            KafkaStreams projector = start(before);
            send(producer, topics.orderChanges(), key, order(5001).status("N").updatedAt("2026-11-29T09:00:00Z").build());
            await("the CREATE is sent", () -> commands().size() == 1);
            send(producer, topics.orderChanges(), key, order(5001).status("P").updatedAt("2026-11-29T09:00:05Z").build());
            KafkaStreams running = projector;
            await("the change to P is held", () -> "P".equals(pending(running, key)));
            stop(projector);

            // the local state is gone (another machine, a lost disk): the stores come back from their changelogs only
            projector = start(after);
            try {
                DealCommand create = commands().get(0);
                send(producer, topics.dealLinks(), key, ProjectorScenario.linkOfTheCreatedDeal(create, 812, "N", Instant.now()).build());
                await("the held change is decided on the link", () -> commands().size() >= 2);

                List<DealCommand> commands = commands();
                assertThat(commands).extracting(DealCommand::getKind).containsExactly(DealCommandKind.CREATE, DealCommandKind.UPDATE);
                assertThat(commands.get(1).getDealId()).isEqualTo(812L);
                assertThat(commands.get(1).getOrderStatusId()).isEqualTo("P");
                assertThat(commands.get(1).getFields()).containsEntry(DealFields.STAGE_ID, "EXECUTING");
            } finally {
                stop(projector);
            }
        }
    }

    private KafkaStreams start(Path stateDir) throws InterruptedException {
        Properties props = KAFKA.clientProperties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "held-changes-restart");
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "100");
        props.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
        DealProjectorConfig config = new DealProjectorConfig(Map.of(DealProjectorConfig.COALESCE_WINDOW, "200"));
        KafkaStreams streams = new KafkaStreams(DealProjectorTopology.build(config, topics, new SimpleMeterRegistry()), props);
        streams.start();
        await("the projector runs", () -> streams.state() == KafkaStreams.State.RUNNING);
        return streams;
    }

    /** Leaves the group on the way out, so the next start is not held up by the session timeout. */
    private static void stop(KafkaStreams streams) {
        streams.close(CloseOptions.timeout(Duration.ofSeconds(30)).withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
    }

    /** The status of the order's pending state in the projector's store, or null. */
    private static String pending(KafkaStreams streams, String key) {
        try {
            OrderChanged order = streams.store(StoreQueryParameters.fromNameAndType(DealProjectorTopology.PENDING_STORE,
                    QueryableStoreTypes.<String, OrderChanged>keyValueStore())).get(key);
            return order == null ? null : order.getStatusId().toString();
        } catch (InvalidStateStoreException e) {
            return null;  // rebalancing: not yet
        }
    }

    private List<DealCommand> commands() {
        return KAFKA.readCommitted(topics.dealCommands().name(), topics.dealCommands().keySerde().deserializer(),
                topics.dealCommands().valueSerde().deserializer()).stream().map(ConsumerRecord::value).toList();
    }

    private static <V> void send(KafkaProducer<String, byte[]> producer, Topics.Topic<String, V> topic, String key, V value)
            throws Exception {
        producer.send(new ProducerRecord<>(topic.name(), key, topic.valueSerde().serializer().serialize(topic.name(), value))).get();
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after 60 s waiting until " + what);
            }
            Thread.sleep(50);
        }
    }
}
