package org.dealbridge.dealevents;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.bitrix.PortalRateLimiter;
import org.dealbridge.bitrix.crm.CrmApi;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.emulator.ManualClock;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.schemas.DealChanged;
import org.dealbridge.schemas.Topics;
import org.dealbridge.schemas.registry.InMemorySchemaRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The poller on a CRM with a controlled clock: paging, the overlap, and a cursor that moves and survives restarts. */
class CrmPollerTest {

    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();

    private final ManualClock clock = new ManualClock(Instant.parse("2026-11-29T10:00:00Z"));
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final Topics topics = new Topics(new InMemorySchemaRegistry());
    private BitrixEmulator emu;
    private BitrixClient client;
    private KafkaProducer<String, DealChanged> producer;
    private KafkaProducer<String, String> cursorProducer;
    private String dealTopic;
    private String cursorTopic;
    private final DealEventsConfig config = new DealEventsConfig(Map.of(DealEventsConfig.APPLICATION_TOKEN, "t",
            DealEventsConfig.POLL_OVERLAP, "1000"));

    @BeforeEach
    void start() {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        dealTopic = "deal-changes-" + suffix;
        cursorTopic = "ingest-cursors-" + suffix;
        KAFKA.createTopics(1, dealTopic, cursorTopic);
        emu = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled().clock(clock));
        emu.crm().addPipeline(1, "Shop orders");
        client = BitrixClient.builder(emu.crmWebhookUrl()).portal("crm").meterRegistry(new SimpleMeterRegistry())
                .rateLimiter(new PortalRateLimiter("crm", PortalRateLimiter.Options.of(1000, 1000).withInitialFill(0)))
                .callTimeout(Duration.ofSeconds(2)).retry(1, Duration.ofMillis(10), Duration.ofMillis(50)).build();
        Properties props = KAFKA.clientProperties();
        producer = new KafkaProducer<>(props, new StringSerializer(), topics.dealChanges().valueSerde().serializer());
        cursorProducer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    @AfterEach
    void stop() {
        producer.close();
        cursorProducer.close();
        client.close();
        emu.close();
    }

    private CrmPoller poller() {
        CursorStore cursors = CursorStore.load(KAFKA.clientProperties(), cursorTopic, cursorProducer);
        return new CrmPoller(new CrmApi(client), new DealReader(client), new DealPublisher(producer, dealTopic, meters), cursors, config);
    }

    @Test
    void pollingKeepsGoingThroughAnOutageAndCatchesUp() throws Exception {
        DealEventsConfig fast = new DealEventsConfig(Map.of(DealEventsConfig.APPLICATION_TOKEN, "t",
                DealEventsConfig.POLL_INTERVAL, "100", DealEventsConfig.POLL_OVERLAP, "1000"));
        emu.faults().outage(org.dealbridge.emulator.Portal.CRM, Duration.ofHours(1), org.dealbridge.emulator.Fault.HTTP_500);
        long id = emu.crm().addDealAsHuman(Map.of("TITLE", "While down", "CATEGORY_ID", 1, "STAGE_ID", "C1:NEW"));
        CursorStore cursors = CursorStore.load(KAFKA.clientProperties(), cursorTopic, cursorProducer);
        try (CrmPolling polling = new CrmPolling(new CrmPoller(new CrmApi(client), new DealReader(client),
                new DealPublisher(producer, dealTopic, meters), cursors, fast), fast)) {
            Thread.sleep(500);
            assertThat(cursors.read(CrmPoller.CURSOR_KEY)).as("no cursor while the CRM fails").isEmpty();
            assertThat(emu.calls().count(org.dealbridge.emulator.Portal.CRM, "crm.deal.list")).as("polls kept trying").isGreaterThan(1);
            emu.faults().endOutage(org.dealbridge.emulator.Portal.CRM);
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (cursors.read(CrmPoller.CURSOR_KEY).isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
        }
        assertThat(cursors.read(CrmPoller.CURSOR_KEY)).as("a poll after the outage published deal %d", id).isPresent();
        assertThat(meters.find(DealPublisher.EVENTS_METRIC).tag("source", "crm_poll").counter().count()).isEqualTo(1.0);
    }

    @Test
    void pagesPastFiftyThenOnlyReadsWhatChangedSinceTheCursorMinusTheOverlap() throws Exception {
        long first = 0;
        for (int i = 0; i < 60; i++) {
            long id = emu.crm().addDealAsHuman(Map.of("TITLE", "Deal " + i, "CATEGORY_ID", 1, "STAGE_ID", "C1:NEW"));
            first = first == 0 ? id : first;
        }
        CrmPoller poller = poller();
        assertThat(poller.pollOnce()).as("60 deals over two pages of crm.deal.list").isEqualTo(60);

        clock.advance(Duration.ofSeconds(10));
        emu.crm().updateDealAsHuman(first, Map.of("STAGE_ID", "C1:WON"));
        // the 1 s overlap lists the 59 unchanged deals again, but they were published with that DATE_MODIFY already
        assertThat(poller.pollOnce()).isEqualTo(1);
        assertThat(poller.pollOnce()).as("nothing new").isZero();
        // a restarted poller reads the cursor back: only the deal inside the overlap comes again, once
        CrmPoller restarted = poller();
        assertThat(restarted.pollOnce()).isEqualTo(1);
        assertThat(restarted.pollOnce()).isZero();
        assertThat(emu.calls().count(org.dealbridge.emulator.Portal.CRM, "crm.deal.get")).as("deals read in batches")
                .isEqualTo(60 + 1 + 1);
    }
}
