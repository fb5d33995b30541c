package org.dealbridge.orderprojector.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.bitrix.PortalRateLimiter;
import org.dealbridge.bitrix.crm.CrmApi;
import org.dealbridge.bitrix.store.StoreApi;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.emulator.NewOrder;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.mapping.MappingProfiles;
import org.dealbridge.orderprojector.OrderProjectorConfig;
import org.dealbridge.mapping.PairDecision;
import org.dealbridge.schemas.DeadLetter;
import org.dealbridge.schemas.LinkOrigin;
import org.dealbridge.schemas.OrderCommand;
import org.dealbridge.schemas.OrderCommandKind;
import org.dealbridge.schemas.Outcome;
import org.dealbridge.schemas.ProductRow;
import org.dealbridge.schemas.SyncLink;
import org.dealbridge.schemas.SyncOutcome;
import org.dealbridge.schemas.Topics;
import org.dealbridge.schemas.registry.InMemorySchemaRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The connector's Kafka side on a real broker: links, outcomes and dead letters published with the offsets. */
class StoreConnectorTest {

    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();

    static final Topics topics = new Topics(new InMemorySchemaRegistry());
    static BitrixEmulator emu;
    static BitrixClient crmClient;
    static BitrixClient storeClient;
    static KafkaProducer<String, byte[]> producer;
    static StoreConnector connector;
    static Thread thread;

    @BeforeAll
    static void start() throws Exception {
        for (Topics.Definition d : Topics.DEFINITIONS) {
            KAFKA.createTopics(1, d.configs(), d.name());
        }
        emu = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled());
        emu.crm().addPipeline(1, "Shop orders");
        for (String status : List.of("N", "P", "F")) {
            emu.store().addStatus(status, "Status " + status);
        }
        emu.store().addPaySystem(3, "Cash");
        emu.store().addPersonType(1, "Person");
        emu.store().addProduct(1, "Sofa", null, "10.00");
        crmClient = client(emu.crmWebhookUrl(), "crm");
        storeClient = client(emu.storeWebhookUrl(), "store");
        Properties kafka = new Properties();
        kafka.put("bootstrap.servers", KAFKA.bootstrapServers());
        producer = new KafkaProducer<>(kafka, new StringSerializer(), new ByteArraySerializer());
        producer.send(new ProducerRecord<>(topics.mappingConfig().name(), "s1", topics.mappingConfig().valueSerde().serializer()
                .serialize(topics.mappingConfig().name(), MappingProfiles.build("s1", OrderWriterTest.MAPPING
                        .replace("\"C1:WON\", status: F }", "\"C1:WON\", status: F }\n    - { stage: \"C1:LOSE\", status: Z }"), 1, "test", Instant.now()))));
        producer.flush();
        OrderProjectorConfig config = new OrderProjectorConfig(Map.of(OrderProjectorConfig.CONNECTOR.maxAttempts(), "2",
                OrderProjectorConfig.CONNECTOR.initialBackoff(), "10", OrderProjectorConfig.CONNECTOR.maxBackoff(), "50", OrderProjectorConfig.CONNECTOR.pollTimeout(), "100",
                OrderProjectorConfig.CONNECTOR.unreachableBackoffMax(), "300"));
        connector = new StoreConnector(config, topics, kafka, new OrderWriter(config, new StoreApi(storeClient), new CrmApi(crmClient),
                PairDecision.UNDER_MAPPING, Clock.systemUTC()), new SimpleMeterRegistry(), Clock.systemUTC());
        thread = new Thread(connector, "store-connector-test");
        thread.start();
    }

    private static BitrixClient client(String url, String portal) {
        return BitrixClient.builder(url).portal(portal).meterRegistry(new SimpleMeterRegistry())
                .rateLimiter(new PortalRateLimiter(portal, PortalRateLimiter.Options.of(1000, 1000).withInitialFill(0)))
                .callTimeout(Duration.ofSeconds(2)).retry(1, Duration.ofMillis(10), Duration.ofMillis(50)).build();
    }

    @AfterAll
    static void stop() throws Exception {
        connector.close();
        thread.join(30_000);
        producer.close();
        crmClient.close();
        storeClient.close();
        emu.close();
    }

    private static void send(OrderCommand command) {
        producer.send(new ProducerRecord<>(topics.orderCommands().name(), Long.toString(command.getDealId()),
                topics.orderCommands().valueSerde().serializer().serialize(topics.orderCommands().name(), command)));
        producer.flush();
    }

    /** A CREATE of an order (one sofa, cash) from a deal made by hand. */
    private static OrderCommand createOrderFrom(long dealId, String commandId) {
        return OrderCommand.newBuilder().setCommandId(commandId).setKind(OrderCommandKind.CREATE).setSiteId("s1").setDealId(dealId)
                .setStatusId("N").setCurrency("RUB").setPaySystemId(3L)
                .setItems(List.of(ProductRow.newBuilder().setProductId(1L).setName("Sofa").setPrice("10.00").setQuantity("1").build()))
                .setMappingVersion(1).setSourceTime(Instant.now()).build();
    }

    private static void link(SyncLink link) {
        producer.send(new ProducerRecord<>(topics.dealLinks().name(), link.getSiteId() + ":" + link.getOrderId(),
                topics.dealLinks().valueSerde().serializer().serialize(topics.dealLinks().name(), link)));
        producer.flush();
    }

    /** Every committed record of a topic so far. */
    private static <V> List<V> readAll(Topics.Topic<String, V> topic) {
        // as bytes, skipping what is not a record of the topic: one test puts unreadable records on deal-links on purpose
        List<V> values = new java.util.ArrayList<>();
        for (var record : KAFKA.readCommitted(topic.name(), topic.keySerde().deserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            try {
                values.add(topic.valueSerde().deserializer().deserialize(topic.name(), record.value()));
            } catch (org.apache.kafka.common.errors.SerializationException unreadable) {
                // not ours to read
            }
        }
        return values;
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(50);
        }
    }

    @Test
    void anUpdateIsWrittenAndItsLinkAndOutcomeArePublished() throws Exception {
        long orderId = emu.store().addOrder(NewOrder.create().site("s1").status("N").item(1, "Sofa", "10.00", 1));
        long dealId = emu.crm().addDealAsHuman(Map.of("TITLE", "D", "CATEGORY_ID", 1, "STAGE_ID", "C1:WON"));
        link(SyncLink.newBuilder().setSiteId("s1").setOrderId(orderId).setDealId(dealId).setCategoryId(1).setStageId("C1:NEW")
                .setStatusId("N").setOrigin(LinkOrigin.ORDER).setUpdatedAt(Instant.now()).build());
        send(OrderCommand.newBuilder().setCommandId("u1").setKind(OrderCommandKind.UPDATE_STATUS).setSiteId("s1").setDealId(dealId)
                .setOrderId(orderId).setStatusId("F").setExpectedStatusId("N").setMappingVersion(1).setSourceTime(Instant.now()).build());

        await("the order is written", () -> "F".equals(emu.store().order(orderId).get("statusId")));
        await("the link is published", () -> readAll(topics.dealLinks()).stream()
                .anyMatch(l -> l.getOrderId() == orderId && "F".contentEquals(l.getStatusId())));
        SyncLink latest = readAll(topics.dealLinks()).stream().filter(l -> l.getOrderId() == orderId).reduce((a, b) -> b).orElseThrow();
        assertThat(latest.getStageId()).isEqualTo("C1:WON");
        assertThat(latest.getOrigin()).isEqualTo(LinkOrigin.ORDER);
        assertThat(readAll(topics.syncOutcomes())).filteredOn(o -> "u1".contentEquals(o.getCommandId())).singleElement()
                .satisfies(o -> assertThat(o.getOutcome()).isEqualTo(Outcome.UPDATED));
    }

    @Test
    void aLinkThatCountsFewerWritesArrivingLateDoesNotHideTheNewerOne() throws Exception {
        // the newer link (revision 5) says the pair agreed on C1:WON / F, so the manager's move to C1:NEW is the change;
        // an older write (revision 4, C1:NEW / N) reaching deal-links after it must not make the shop's F read as one
        long orderId = emu.store().addOrder(NewOrder.create().site("s1").status("F").item(1, "Sofa", "10.00", 1));
        long dealId = emu.crm().addDealAsHuman(Map.of("TITLE", "D", "CATEGORY_ID", 1, "STAGE_ID", "C1:NEW"));
        SyncLink newer = SyncLink.newBuilder().setSiteId("s1").setOrderId(orderId).setDealId(dealId).setCategoryId(1)
                .setStageId("C1:WON").setStatusId("F").setOrigin(LinkOrigin.ORDER).setRevision(5).setUpdatedAt(Instant.now()).build();
        link(newer);
        link(SyncLink.newBuilder(newer).setStageId("C1:NEW").setStatusId("N").setRevision(4).setUpdatedAt(Instant.now()).build());
        send(OrderCommand.newBuilder().setCommandId("late-link").setKind(OrderCommandKind.UPDATE_STATUS).setSiteId("s1")
                .setDealId(dealId).setOrderId(orderId).setStatusId("N").setExpectedStatusId("F").setMappingVersion(1)
                .setSourceTime(Instant.now()).build());

        await("the command's outcome", () -> readAll(topics.syncOutcomes()).stream().anyMatch(o -> "late-link".contentEquals(o.getCommandId())));
        assertThat(emu.store().order(orderId).get("statusId")).as("the manager's move reaches the order").isEqualTo("N");
        assertThat(emu.crm().deal(dealId).get("STAGE_ID")).isEqualTo("C1:NEW");
    }

    /** The store is down for longer than the connector's attempts: the commands wait, then run once each; no dead letter. */
    @Test
    void commandsWaitThroughAStoreOutageLongerThanTheirAttemptsAndRunOnceItIsBack() throws Exception {
        long first = emu.crm().addDealAsHuman(Map.of("TITLE", "During the outage", "CATEGORY_ID", 1, "STAGE_ID", "C1:NEW"));
        long second = emu.crm().addDealAsHuman(Map.of("TITLE", "Also during it", "CATEGORY_ID", 1, "STAGE_ID", "C1:NEW"));
        emu.faults().outage(org.dealbridge.emulator.Portal.STORE, Duration.ofMinutes(5), org.dealbridge.emulator.Fault.HTTP_500);
        try {
            send(createOrderFrom(first, "outage-1"));
            send(createOrderFrom(second, "outage-2"));
            await("the connector waits for the store", () -> connector.unreachableSince().isPresent());
            Thread.sleep(1_000);  // a few more waits and tries while it is still down (what is asserted is nothing published)
            assertThat(readAll(topics.syncOutcomes())).noneMatch(o -> o.getCommandId().toString().startsWith("outage-"));
            assertThat(connector.state()).isEqualTo(StoreConnector.State.RUNNING);
        } finally {
            emu.faults().endOutage(org.dealbridge.emulator.Portal.STORE);
        }

        await("both commands ran once the store is back", () -> readAll(topics.syncOutcomes()).stream()
                .filter(o -> o.getCommandId().toString().startsWith("outage-") && o.getOutcome() == Outcome.CREATED).count() == 2);
        assertThat(readAll(topics.syncOutcomes())).filteredOn(o -> o.getCommandId().toString().startsWith("outage-")).hasSize(2);
        assertThat(readAll(topics.deadLetters())).noneMatch(d -> d.getReason().toString().contains("deal " + first)
                || d.getReason().toString().contains("deal " + second));
        assertThat(emu.store().orders().stream().filter(o -> OrderWriter.xmlId(first).equals(o.get("xmlId")))).hasSize(1);
        await("the connector no longer waits", () -> connector.unreachableSince().isEmpty());
    }

    @Test
    void anUnreadableLinkOrMappingRecordDoesNotStopTheConnector() throws Exception {
        for (String topic : List.of(topics.dealLinks().name(), topics.mappingConfig().name())) {
            producer.send(new ProducerRecord<>(topic, "s1", "not an Avro record".getBytes(java.nio.charset.StandardCharsets.UTF_8))).get();
        }
        long madeFrom = emu.crm().addDealAsHuman(Map.of("TITLE", "After the bad link", "CATEGORY_ID", 1, "STAGE_ID", "C1:NEW"));
        send(createOrderFrom(madeFrom, "after-bad-link"));
        await("the next command created its order", () -> readAll(topics.syncOutcomes()).stream()
                .anyMatch(o -> "after-bad-link".contentEquals(o.getCommandId()) && o.getOutcome() == Outcome.CREATED));
        assertThat(connector.state()).as("the connector did not die on them").isEqualTo(StoreConnector.State.RUNNING);
    }

    @Test
    void anUnreadableCommandIsDeadLetteredAndTheNextCommandStillRuns() throws Exception {
        long offset = producer.send(new ProducerRecord<>(topics.orderCommands().name(), "poison",
                "not an Avro order command".getBytes(java.nio.charset.StandardCharsets.UTF_8))).get().offset();
        long madeFrom = emu.crm().addDealAsHuman(Map.of("TITLE", "After the poison pill", "CATEGORY_ID", 1, "STAGE_ID", "C1:NEW"));
        send(createOrderFrom(madeFrom, "after-poison"));

        await("the unreadable command is dead-lettered", () -> readAll(topics.deadLetters()).stream()
                .anyMatch(d -> d.getSourceOffset() != null && d.getSourceOffset() == offset && d.getSiteId() == null));
        DeadLetter letter = readAll(topics.deadLetters()).stream()
                .filter(d -> d.getSourceOffset() != null && d.getSourceOffset() == offset && d.getSiteId() == null).findFirst().orElseThrow();
        assertThat(letter.getComponent().toString()).isEqualTo("store-connector");
        assertThat(letter.getSourceTopic().toString()).isEqualTo(topics.orderCommands().name());
        assertThat(letter.getSourcePartition()).isZero();
        assertThat(letter.getReason().toString()).contains("cannot be read");
        assertThat(new String(letter.getValue().array(), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("not an Avro order command");
        await("the next command created its order", () -> readAll(topics.syncOutcomes()).stream()
                .anyMatch(o -> "after-poison".contentEquals(o.getCommandId()) && o.getOutcome() == Outcome.CREATED));
        assertThat(connector.state()).as("the connector did not die on it").isEqualTo(StoreConnector.State.RUNNING);
    }

    @Test
    void aPermanentFailureIsDeadLetteredWithTheCommandAndTheNextCommandStillRuns() throws Exception {
        long orderId = emu.store().addOrder(NewOrder.create().site("s1").status("N").item(1, "Sofa", "10.00", 1));
        long dealId = emu.crm().addDealAsHuman(Map.of("TITLE", "D", "CATEGORY_ID", 1, "STAGE_ID", "C1:LOSE"));
        link(SyncLink.newBuilder().setSiteId("s1").setOrderId(orderId).setDealId(dealId).setCategoryId(1).setStageId("C1:NEW")
                .setStatusId("N").setOrigin(LinkOrigin.ORDER).setUpdatedAt(Instant.now()).build());
        // status Z is mapped but the store has no such status: sale.order.update refuses it
        send(OrderCommand.newBuilder().setCommandId("bad").setKind(OrderCommandKind.UPDATE_STATUS).setSiteId("s1").setDealId(dealId)
                .setOrderId(orderId).setStatusId("Z").setExpectedStatusId("N").setMappingVersion(1).setSourceTime(Instant.now()).build());
        long madeFrom = emu.crm().addDealAsHuman(Map.of("TITLE", "By hand", "CATEGORY_ID", 1, "STAGE_ID", "C1:NEW"));
        send(createOrderFrom(madeFrom, "c1"));

        await("a dead letter is published", () -> readAll(topics.deadLetters()).stream().anyMatch(d -> "store-connector".contentEquals(d.getComponent())));
        DeadLetter letter = readAll(topics.deadLetters()).stream().filter(d -> d.getSiteId() != null).findFirst().orElseThrow();
        assertThat(letter.getReason().toString()).contains("permanent failure", "Z");
        assertThat(letter.getSourceTopic()).isEqualTo(topics.orderCommands().name());
        OrderCommand original = topics.orderCommands().valueSerde().deserializer().deserialize(topics.orderCommands().name(),
                letter.getValue().array());
        assertThat(original.getCommandId()).isEqualTo("bad");
        await("the next command created its order", () -> readAll(topics.syncOutcomes()).stream()
                .anyMatch(o -> "c1".contentEquals(o.getCommandId()) && o.getOutcome() == Outcome.CREATED));
        assertThat(readAll(topics.dealLinks())).anySatisfy(l -> {
            assertThat(l.getDealId()).isEqualTo(madeFrom);
            assertThat(l.getOrigin()).isEqualTo(LinkOrigin.DEAL);
        });
        assertThat(emu.store().order(orderId).get("statusId")).isEqualTo("N");
    }
}
