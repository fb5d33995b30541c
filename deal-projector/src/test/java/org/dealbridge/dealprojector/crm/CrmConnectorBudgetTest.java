package org.dealbridge.dealprojector.crm;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.bitrix.PortalRateLimiter;
import org.dealbridge.dealprojector.DealProjectorConfig;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.Call;
import org.dealbridge.emulator.Portal;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.Outcome;
import org.dealbridge.schemas.SyncOutcome;
import org.dealbridge.schemas.Topics;
import org.dealbridge.schemas.registry.InMemorySchemaRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The CRM connector against a real broker and the CRM emulator over HTTP, with the portal's rate budget on a clock the
 * test holds: what the connector does while the budget holds its next call (issue 14 item 3).
 */
class CrmConnectorBudgetTest {

    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();

    static final Topics topics = new Topics(new InMemorySchemaRegistry());
    private static final Duration WAIT = Duration.ofSeconds(60);

    private BitrixEmulator crm;
    private BitrixClient client;
    private CrmConnector connector;
    private Thread connectorThread;
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    /** The rate budget's clock: frozen until the test lets it run, so the bucket stays as full as it starts. */
    private final AtomicLong budgetClock = new AtomicLong(1_000_000_000L);
    private final AtomicInteger budgetClockReads = new AtomicInteger();

    @BeforeAll
    static void topics() {
        KAFKA.createTopics(1, Topics.DEAL_COMMANDS, Topics.DEAL_LINKS, Topics.BUYER_CONTACTS, Topics.SYNC_OUTCOMES,
                Topics.DEAD_LETTERS, Topics.ORDER_COMMANDS);
    }

    @BeforeEach
    void start() {
        crm = DealWriterTest.theShopsCrm();
        // the portal's standard bucket, full (less the headroom) at start: every call would wait for a token
        PortalRateLimiter budget = new PortalRateLimiter("crm", PortalRateLimiter.Options.standard().withInitialFill(1), () -> {
            budgetClockReads.incrementAndGet();
            return budgetClock.get();
        });
        client = BitrixClient.builder(crm.crmWebhookUrl()).portal("crm").meterRegistry(meters).rateLimiter(budget)
                .callTimeout(Duration.ofSeconds(5)).retry(2, Duration.ofMillis(10), Duration.ofMillis(50)).build();
        DealProjectorConfig config = new DealProjectorConfig(Map.of(
                DealProjectorConfig.CONNECTOR.pollTimeout(), "100",
                DealProjectorConfig.CONNECTOR.groupId(), "budget-test-crm"));
        Properties kafka = new Properties();
        kafka.put("bootstrap.servers", KAFKA.bootstrapServers());
        connector = new CrmConnector(config, topics, kafka, new DealWriter(client, config, Clock.systemUTC()), meters,
                Clock.systemUTC());
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (connectorThread != null) {
            connector.close();
            connectorThread.join(30_000);
        }
        client.close();
        crm.close();
    }

    /**
     * Ten new orders, the first polled while the portal's budget holds the next call, the other nine arriving during
     * that wait: the connector gathers them as the next round and reads them ahead, in the first order's write call (one
     * shared look-up for the nine), so their round is their write call alone: three calls. Before the rounds were
     * gathered, the first order went alone (a read and a write call) and the nine followed in a round of their own: four
     * calls; gathered into one round without reading ahead, two, but every later round under load then costs two calls
     * (its reads, then its writes) where a round read ahead costs one.
     */
    @Test
    void ordersArrivingWhileTheBudgetHoldsTheNextCallTravelInThatCall() throws Exception {
        try (KafkaProducer<String, byte[]> producer = producer()) {
            send(producer, DealWriterTest.create(8001, Map.of(), null, false));
            int readsBeforeStart = budgetClockReads.get();
            connectorThread = new Thread(connector, "crm-connector");
            connectorThread.start();
            DealBridgeUnderTest.await("the connector holds order 8001 and asks the budget for its call", WAIT,
                    () -> budgetClockReads.get() > readsBeforeStart);
            for (long order = 8002; order <= 8010; order++) {
                send(producer, DealWriterTest.create(order, Map.of(), null, false));
            }
            DealBridgeUnderTest.await("the connector's consumer has returned all ten commands", WAIT,
                    () -> recordsConsumed() >= 10);
            assertThat(crm.calls().count(Portal.CRM, "batch")).as("no call went out while the budget held it").isZero();

            budgetClock.addAndGet(Duration.ofHours(1).toNanos());  // the bucket drains: the calls may go
            DealBridgeUnderTest.await("every order has its deal", WAIT, () -> createdOutcomes() == 10);
        }

        assertThat(crm.calls().count(Portal.CRM, "batch"))
                .as("the first order's read and write calls, the nine read ahead in its write call, then their writes")
                .isEqualTo(3);
        assertThat(crm.calls().all().stream().filter(Call::inBatch).filter(c -> c.method().equals("crm.deal.list")))
                .as("the first order's look-up and one shared by the nine").hasSize(2);
        for (long order = 8001; order <= 8010; order++) {
            assertThat(crm.crm().dealsByOrigin("dealbridge:s1", Long.toString(order))).as("order %d", order).hasSize(1);
        }
    }

    private static KafkaProducer<String, byte[]> producer() {
        Properties props = new Properties();
        props.put("bootstrap.servers", KAFKA.bootstrapServers());
        return new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
    }

    private static void send(KafkaProducer<String, byte[]> producer, DealCommand command) throws Exception {
        Topics.Topic<String, DealCommand> commands = topics.dealCommands();
        producer.send(new ProducerRecord<>(commands.name(), Keys.order(command.getSiteId(), command.getOrderId()),
                commands.valueSerde().serializer().serialize(commands.name(), command))).get();
    }

    /** The records the connector's consumer has returned from its polls (its own Kafka metric, bound by the runtime). */
    private double recordsConsumed() {
        return meters.find("kafka.consumer.fetch.manager.records.consumed.total").functionCounters().stream()
                .mapToDouble(FunctionCounter::count).max().orElse(0);
    }

    private long createdOutcomes() {
        return KAFKA.readCommitted(topics.syncOutcomes().name(), topics.syncOutcomes().keySerde().deserializer(),
                        topics.syncOutcomes().valueSerde().deserializer()).stream()
                .map(ConsumerRecord::value).map(SyncOutcome::getOutcome).filter(Outcome.CREATED::equals).count();
    }
}
