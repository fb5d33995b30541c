package org.dealbridge.dealevents;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
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
import org.dealbridge.ingestion.ChangePoller;
import org.dealbridge.ingestion.CursorStore;
import org.dealbridge.ingestion.KafkaCursorStore;
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
        emu.crm().addUser(7, "Egor", true);
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
        cursorStores.forEach(KafkaCursorStore::close);
        client.close();
        emu.close();
    }

    private static final OffsetDateTime FIRST_CURSOR = TestCursors.FIRST_CURSOR;
    private final List<KafkaCursorStore> cursorStores = new ArrayList<>();

    private KafkaCursorStore cursors() {
        KafkaCursorStore cursors = TestCursors.on(KAFKA, cursorTopic);
        cursorStores.add(cursors);
        return cursors;
    }

    private ChangePoller poller(DealEventsConfig config, CursorStore cursors) {
        return CrmPoller.create(new CrmApi(client), new DealReader(client), new DealPublisher(producer, dealTopic, meters), cursors, config,
                FIRST_CURSOR);
    }

    private ChangePoller poller() {
        return poller(config, cursors());
    }

    private OffsetDateTime stored(CursorStore cursors) {
        return cursors.load(CrmPoller.CURSOR_KEY).map(OffsetDateTime::parse).orElseThrow();
    }

    @Test
    void pollingKeepsGoingThroughAnOutageAndCatchesUp() throws Exception {
        DealEventsConfig fast = new DealEventsConfig(Map.of(DealEventsConfig.APPLICATION_TOKEN, "t",
                DealEventsConfig.POLL_INTERVAL, "100", DealEventsConfig.POLL_OVERLAP, "1000"));
        emu.faults().outage(org.dealbridge.emulator.Portal.CRM, Duration.ofHours(1), org.dealbridge.emulator.Fault.HTTP_500);
        long id = emu.crm().addDealAsHuman(Map.of("TITLE", "While down", "CATEGORY_ID", 1, "STAGE_ID", "C1:NEW"));
        clock.advance(Duration.ofSeconds(1));  // read after its second: known complete, so published once
        KafkaCursorStore cursors = cursors();
        try (ChangePoller polling = poller(fast, cursors)) {
            polling.start();
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (emu.calls().count(org.dealbridge.emulator.Portal.CRM, "crm.deal.list") < 3 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(emu.calls().count(org.dealbridge.emulator.Portal.CRM, "crm.deal.list")).as("polls kept trying").isGreaterThan(1);
            assertThat(stored(cursors)).as("the first cursor, stored at start, stays while the CRM fails").isEqualTo(FIRST_CURSOR);
            emu.faults().endOutage(org.dealbridge.emulator.Portal.CRM);
            while (stored(cursors).isEqual(FIRST_CURSOR) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
        }
        assertThat(stored(cursors)).as("a poll after the outage published deal %d", id).isAfter(FIRST_CURSOR);
        assertThat(meters.find(DealPublisher.EVENTS_METRIC).tag("source", "crm_poll").counter().count()).isEqualTo(1.0);
    }

    /**
     * Issue 14 item 4: the echo of DealBridge's own write (saved by the webhook's user) is read without its product
     * rows; a deal a person saved has its rows read, once per DATE_MODIFY.
     */
    @Test
    void anEchoOfOurOwnWriteIsReadWithoutItsRowsAPersonsEditWithThem() throws Exception {
        CrmApi crm = new CrmApi(client);
        long ours = crm.addDeal(Map.of("TITLE", "Order #5", "CATEGORY_ID", 1, "STAGE_ID", "C1:NEW", "ORIGINATOR_ID", "dealbridge:s1", "ORIGIN_ID", "5"));
        crm.setProductRows(ours, List.of(org.dealbridge.bitrix.crm.ProductRow.of(100, "Puzzle", java.math.BigDecimal.TEN, java.math.BigDecimal.ONE)));
        long theirs = emu.crm().addDealAsHuman(Map.of("TITLE", "By hand", "CATEGORY_ID", 1, "STAGE_ID", "C1:NEW", "ASSIGNED_BY_ID", 7));
        emu.crm().setProductRowsAsHuman(theirs, List.of(Map.of("PRODUCT_ID", 100, "PRODUCT_NAME", "Puzzle", "PRICE", "10", "QUANTITY", "2")));
        // made in the UI by the person whose account the webhook uses: no ORIGINATOR_ID, so not an echo
        long adminsOwn = emu.crm().addDealAsHuman(Map.of("TITLE", "By the admin", "CATEGORY_ID", 1, "STAGE_ID", "C1:NEW"));
        emu.crm().setProductRowsAsHuman(adminsOwn, List.of(Map.of("PRODUCT_ID", 100, "PRODUCT_NAME", "Puzzle", "PRICE", "10", "QUANTITY", "3")));
        DealReader reader = new DealReader(client);
        clock.advance(Duration.ofSeconds(1));  // rows read within their deal's second are not remembered
        emu.calls().clear();

        Map<Long, java.util.Optional<DealChanged>> read = reader.read(List.of(ours, theirs, adminsOwn, 999_999L),
                org.dealbridge.schemas.ChangeSource.CRM_HOOK);

        assertThat(read.get(999_999L)).as("not in the answer: gone").isEmpty();
        assertThat(read.get(ours)).hasValueSatisfying(d -> {
            assertThat(d.getOriginatorId()).isEqualTo("dealbridge:s1");
            assertThat(d.getDateModify()).isNotNull();
            assertThat(d.getProductRows()).as("not read: an echo").isEmpty();
        });
        assertThat(read.get(theirs)).hasValueSatisfying(d -> assertThat(d.getProductRows()).singleElement()
                .satisfies(r -> assertThat(r.getQuantity().toString()).startsWith("2")));
        assertThat(read.get(adminsOwn)).hasValueSatisfying(d -> assertThat(d.getProductRows()).singleElement()
                .satisfies(r -> assertThat(r.getQuantity().toString()).startsWith("3")));
        assertThat(emu.calls().all()).extracting(org.dealbridge.emulator.Call::method)  // a batch is logged after its commands
                .containsExactly("crm.deal.list", "crm.deal.productrows.get", "crm.deal.productrows.get", "batch");
        assertThat(emu.calls().of(org.dealbridge.emulator.Portal.CRM, "crm.deal.productrows.get")).extracting(c -> c.param("id"))
                .containsExactlyInAnyOrder(Long.toString(theirs), Long.toString(adminsOwn));

        emu.calls().clear();
        reader.read(List.of(ours, theirs, adminsOwn), org.dealbridge.schemas.ChangeSource.CRM_POLL);
        assertThat(emu.calls().all()).as("unchanged since its rows were read: the list alone").extracting(org.dealbridge.emulator.Call::method)
                .containsExactly("crm.deal.list");
    }

    @Test
    void pagesPastFiftyThenOnlyReadsWhatChangedSinceTheCursorMinusTheOverlap() throws Exception {
        long first = 0;
        for (int i = 0; i < 60; i++) {
            long id = emu.crm().addDealAsHuman(Map.of("TITLE", "Deal " + i, "CATEGORY_ID", 1, "STAGE_ID", "C1:NEW", "ASSIGNED_BY_ID", 7));
            first = first == 0 ? id : first;
        }
        clock.advance(Duration.ofSeconds(1));  // read after their second: known complete
        ChangePoller poller = poller();
        assertThat(poller.pollOnce().published()).as("60 deals over two pages of crm.deal.list").isEqualTo(60);

        clock.advance(Duration.ofSeconds(10));
        emu.crm().updateDealAsHuman(first, Map.of("STAGE_ID", "C1:WON"));
        clock.advance(Duration.ofSeconds(1));
        // the 1 s overlap lists the 59 unchanged deals again, but they were published with that DATE_MODIFY already
        assertThat(poller.pollOnce().published()).isEqualTo(1);
        assertThat(poller.pollOnce().published()).as("nothing new").isZero();
        // a restarted poller reads the cursor back: only the deal inside the overlap comes again, once
        ChangePoller restarted = poller();
        assertThat(restarted.pollOnce().published()).isEqualTo(1);
        assertThat(restarted.pollOnce().published()).isZero();
        assertThat(emu.calls().count(org.dealbridge.emulator.Portal.CRM, "crm.deal.get")).as("no deal read on its own").isZero();
        assertThat(emu.calls().count(org.dealbridge.emulator.Portal.CRM, "crm.deal.list",
                c -> c.params().get("filter") instanceof Map<?, ?> f && f.containsKey("@ID")))
                .as("deals read 50 per crm.deal.list").isEqualTo(2 + 1 + 1);
        // a person saved them, so their rows may have changed: read (the restarted poller's reader knows none of them)
        assertThat(emu.calls().count(org.dealbridge.emulator.Portal.CRM, "crm.deal.productrows.get")).isEqualTo(60 + 1 + 1);
    }

    /**
     * Issue 13, the 10 000-order crash loop's {@code s1:2502} / deal 488: DealBridge made the deal, a poll published it
     * at {@code C2:NEW}, and a manager moved it to {@code C2:WON} within the same second, so its {@code DATE_MODIFY} did
     * not change; the hook event of the move was lost (here: no hook at all). The poller skipped the deal as "published
     * with that DATE_MODIFY" and the move never reached {@code deal-changes}. Now the listing's content tells the move
     * apart, and a deal published unchanged is still only listed.
     */
    @Test
    void aDealSavedAgainWithinTheSecondThePollerPublishedItInReachesDealChangesOnTheNextPoll() throws Exception {
        CrmApi crm = new CrmApi(client);
        long id = crm.addDeal(Map.of("TITLE", "Order #2502", "CATEGORY_ID", 1, "STAGE_ID", "C1:NEW", "ORIGINATOR_ID", "dealbridge:s1",
                "ORIGIN_ID", "2502"));
        ChangePoller poller = poller();
        assertThat(poller.pollOnce().published()).isEqualTo(1);
        String published = (String) emu.crm().deal(id).get("DATE_MODIFY");

        emu.crm().updateDealAsHuman(id, Map.of("STAGE_ID", "C1:WON"));  // the clock stands: the same second
        assertThat(emu.crm().deal(id).get("DATE_MODIFY")).as("DATE_MODIFY has second precision").isEqualTo(published);
        assertThat(poller.pollOnce().published()).as("the manager's move, read again").isEqualTo(1);
        assertThat(stagesPublished(id, 2)).containsExactly("C1:NEW", "C1:WON");

        clock.advance(Duration.ofSeconds(1));
        assertThat(poller.pollOnce().published()).as("read within its second: read once more after it").isEqualTo(1);
        emu.calls().clear();
        assertThat(poller.pollOnce().published()).as("published unchanged: not read again").isZero();
        assertThat(emu.calls().all()).extracting(org.dealbridge.emulator.Call::method).containsExactly("crm.deal.list");
        assertThat(emu.calls().all()).allSatisfy(c -> assertThat(((Map<?, ?>) c.params().get("filter")).containsKey("@ID")).isFalse());
    }

    /**
     * A person saves a deal's product rows twice within one second: the second save changes only the rows, so the deal
     * lists with the same {@code DATE_MODIFY} and the same fields. The poller had read it within that second and
     * remembered the rows as of that date; it skipped the deal as published and the new rows never reached
     * {@code deal-changes}. A read within the second of its date is now not taken as the second's last state.
     */
    @Test
    void aPersonsSecondSaveWithinOneSecondThatChangesOnlyTheRowsReachesDealChanges() throws Exception {
        long id = emu.crm().addDealAsHuman(Map.of("TITLE", "By hand", "CATEGORY_ID", 1, "STAGE_ID", "C1:NEW", "ASSIGNED_BY_ID", 7));
        emu.crm().setProductRowsAsHuman(id, List.of(Map.of("PRODUCT_ID", 100, "PRODUCT_NAME", "Puzzle", "PRICE", "10", "QUANTITY", "1")));
        ChangePoller poller = poller();
        assertThat(poller.pollOnce().published()).isEqualTo(1);
        String published = (String) emu.crm().deal(id).get("DATE_MODIFY");

        emu.crm().setProductRowsAsHuman(id, List.of(Map.of("PRODUCT_ID", 100, "PRODUCT_NAME", "Puzzle", "PRICE", "10", "QUANTITY", "4")));
        assertThat(emu.crm().deal(id).get("DATE_MODIFY")).as("the clock stands: the same second").isEqualTo(published);
        assertThat(poller.pollOnce().published()).as("the rows' save, read again").isEqualTo(1);
        assertThat(eventsPublished(id, 2)).extracting(e -> e.getProductRows().get(0).getQuantity().toString())
                .satisfiesExactly(q -> assertThat(q).startsWith("1"), q -> assertThat(q).startsWith("4"));

        clock.advance(Duration.ofSeconds(1));
        assertThat(poller.pollOnce().published()).as("read once more after the second ended: now known complete").isEqualTo(1);
        emu.calls().clear();
        assertThat(poller.pollOnce().published()).as("published and settled: only listed").isZero();
        assertThat(emu.calls().all()).extracting(org.dealbridge.emulator.Call::method).containsExactly("crm.deal.list");
    }

    /**
     * The hook's read of a deal saved again must not be overtaken by the poller's older read: the poller read the deal,
     * its product rows are slow to come, a manager moves the deal meanwhile, the hook's queue reads and sends the move;
     * the poller's older state, sent after it, was then last on the partition and recorded as published, so nothing
     * read the deal again. Both paths now read and send a deal under its lock ({@code PublishedVersions}).
     */
    @Test
    void aPollerReadOfAnOlderStateCannotLandAfterTheHooksNewerOne() throws Exception {
        long id = emu.crm().addDealAsHuman(Map.of("TITLE", "By hand", "CATEGORY_ID", 1, "STAGE_ID", "C1:NEW", "ASSIGNED_BY_ID", 7));
        org.dealbridge.ingestion.PublishedVersions published = new org.dealbridge.ingestion.PublishedVersions();
        DealReader reader = new DealReader(client);
        DealPublisher publisher = new DealPublisher(producer, dealTopic, meters);
        // a person saved it, so its rows are read: slow, while the poller holds the state it listed
        emu.faults().slow(org.dealbridge.emulator.Portal.CRM, "crm.deal.productrows.get", Duration.ofMillis(1500));
        java.util.concurrent.CompletableFuture<?> poll = java.util.concurrent.CompletableFuture.runAsync(
                () -> CrmIngestion.refresher(reader, publisher, org.dealbridge.schemas.ChangeSource.CRM_POLL, published).refresh(List.of(id)));
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (emu.calls().count(org.dealbridge.emulator.Portal.CRM, "crm.deal.list") < 1 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        Thread.sleep(200);  // the poller is now inside its slow rows read
        emu.faults().clear(org.dealbridge.emulator.Portal.CRM);
        clock.advance(Duration.ofSeconds(1));
        emu.crm().updateDealAsHuman(id, Map.of("STAGE_ID", "C1:WON"));
        CrmIngestion.refresher(reader, publisher, org.dealbridge.schemas.ChangeSource.CRM_HOOK, published).refresh(List.of(id));
        poll.get(10, java.util.concurrent.TimeUnit.SECONDS);

        assertThat(stagesPublished(id, 2)).as("the state read last is the record written last").containsExactly("C1:NEW", "C1:WON");
    }

    /**
     * Issue 13's crash on the CRM side: the CRM's webhooks name 10 new deals, the hook accepts them all (200), and the
     * ingestion goes away with its Kafka producer before it published them. A new ingestion started later against the
     * same broker, with a first cursor of its own start time, must publish every accepted deal.
     */
    @Test
    void dealsTheHookAcceptedAreAllPublishedAfterTheProcessDiesWithThemQueued() throws Exception {
        DealEventsConfig hooked = new DealEventsConfig(Map.of(DealEventsConfig.APPLICATION_TOKEN, "crm-kill-9",
                DealEventsConfig.COALESCE_WINDOW, "100", DealEventsConfig.POLL_INTERVAL, "3600000", DealEventsConfig.POLL_OVERLAP, "1000"));
        KafkaProducer<String, DealChanged> doomed = new KafkaProducer<>(KAFKA.clientProperties(), new StringSerializer(),
                topics.dealChanges().valueSerde().serializer());
        CrmIngestion first = new CrmIngestion(hooked, client, new DealPublisher(doomed, dealTopic, meters), cursors(), clock.instant().atOffset(java.time.ZoneOffset.UTC));
        com.sun.net.httpserver.HttpServer server = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext(CrmHookHandler.PATH, first.hookHandler());
        server.start();
        emu.subscribeCrm("http://127.0.0.1:" + server.getAddress().getPort() + CrmHookHandler.PATH, "crm-kill-9", "ONCRMDEALADD");
        first.start();
        // reading a deal takes a while, so the deals are still being read or waiting when the process goes away
        emu.faults().slow(org.dealbridge.emulator.Portal.CRM, "crm.deal.productrows.get", Duration.ofMillis(150));
        List<Long> deals = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            clock.advance(Duration.ofSeconds(1));
            deals.add(emu.crm().addDealAsHuman(Map.of("TITLE", "Hooked " + i, "CATEGORY_ID", 1, "STAGE_ID", "C1:NEW")));
        }
        assertThat(emu.events().awaitIdle(Duration.ofSeconds(20))).isTrue();
        assertThat(emu.events().deliveries()).hasSize(10).allSatisfy(d -> assertThat(d.httpStatus()).as("accepted").isEqualTo(200));
        // the process dies: its producer first, then everything else
        doomed.close(Duration.ZERO);
        server.stop(0);
        first.close();
        assertThat(publishedDeals(deals, Duration.ofMillis(500))).as("accepted, but not in Kafka").hasSizeLessThan(10);

        clock.advance(Duration.ofMinutes(10));
        emu.faults().clear(org.dealbridge.emulator.Portal.CRM);
        try (CrmIngestion second = new CrmIngestion(hooked, client, new DealPublisher(producer, dealTopic, meters), cursors(),
                clock.instant().atOffset(java.time.ZoneOffset.UTC))) {
            second.start();
            assertThat(publishedDeals(deals, Duration.ofSeconds(30))).as("every accepted deal").containsExactlyInAnyOrderElementsOf(deals);
        }
    }

    /** The stages of {@code dealId}'s events on the deal topic, in order, once {@code expected} of them are there (at most 30 s). */
    private List<String> stagesPublished(long dealId, int expected) {
        return eventsPublished(dealId, expected).stream().map(e -> e.getStageId().toString()).toList();
    }

    /** {@code dealId}'s events on the deal topic, in order, once {@code expected} of them are there (at most 30 s). */
    private List<DealChanged> eventsPublished(long dealId, int expected) {
        Properties props = KAFKA.clientProperties();
        props.put(org.apache.kafka.clients.consumer.ConsumerConfig.GROUP_ID_CONFIG, "reader-" + UUID.randomUUID());
        props.put(org.apache.kafka.clients.consumer.ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<DealChanged> events = new ArrayList<>();
        try (org.apache.kafka.clients.consumer.KafkaConsumer<String, DealChanged> consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<>(
                props, new org.apache.kafka.common.serialization.StringDeserializer(), topics.dealChanges().valueSerde().deserializer())) {
            consumer.subscribe(List.of(dealTopic));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline && events.size() < expected) {
                consumer.poll(Duration.ofMillis(100)).forEach(r -> {
                    if (r.value().getDealId() == dealId) {
                        events.add(r.value());
                    }
                });
            }
        }
        return events;
    }

    /** Which of {@code deals} are on the deal topic, waiting up to {@code wait} for all of them. */
    private java.util.Set<Long> publishedDeals(List<Long> deals, Duration wait) {
        Properties props = KAFKA.clientProperties();
        props.put(org.apache.kafka.clients.consumer.ConsumerConfig.GROUP_ID_CONFIG, "reader-" + UUID.randomUUID());
        props.put(org.apache.kafka.clients.consumer.ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        java.util.Set<Long> seen = new java.util.HashSet<>();
        try (org.apache.kafka.clients.consumer.KafkaConsumer<String, DealChanged> consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<>(
                props, new org.apache.kafka.common.serialization.StringDeserializer(), topics.dealChanges().valueSerde().deserializer())) {
            consumer.subscribe(List.of(dealTopic));
            long deadline = System.nanoTime() + wait.toNanos();
            while (System.nanoTime() < deadline && !seen.containsAll(deals)) {
                consumer.poll(Duration.ofMillis(100)).forEach(r -> seen.add(r.value().getDealId()));
            }
        }
        seen.retainAll(deals);
        return seen;
    }
}
