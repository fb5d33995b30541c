package org.dealbridge.dealevents;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.bitrix.PortalRateLimiter;
import org.dealbridge.bitrix.crm.CrmApi;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.emulator.Portal;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.schemas.ChangeSource;
import org.dealbridge.schemas.DealChanged;
import org.dealbridge.schemas.Topics;
import org.dealbridge.schemas.registry.InMemorySchemaRegistry;
import org.dealbridge.ingestion.ChangePoller;
import org.dealbridge.ingestion.KafkaCursorStore;
import org.dealbridge.ingestion.RefreshQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** CRM ingestion end to end: the emulator fires ONCRMDEAL* at our hook over HTTP, deals land on a real broker. */
class DealIngestionTest {

    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();
    private static final String TOKEN = "crm-hook-token-7f3a";

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final Topics topics = new Topics(new InMemorySchemaRegistry());
    private String dealTopic;
    private String cursorTopic;
    private BitrixEmulator emu;
    private BitrixClient client;
    private KafkaProducer<String, DealChanged> producer;
    private KafkaProducer<String, String> cursorProducer;
    private RefreshQueue queue;
    private final List<KafkaCursorStore> cursorStores = new ArrayList<>();
    private HttpServer server;
    private String hookUrl;
    private DealEventsConfig config;

    @BeforeEach
    void start() throws Exception {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        dealTopic = "deal-changes-" + suffix;
        cursorTopic = "ingest-cursors-" + suffix;
        KAFKA.createTopics(1, dealTopic, cursorTopic);
        emu = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled());
        emu.crm().addPipeline(1, "Shop orders");
        client = BitrixClient.builder(emu.crmWebhookUrl()).portal("crm").meterRegistry(new SimpleMeterRegistry())
                .rateLimiter(new PortalRateLimiter("crm", PortalRateLimiter.Options.of(1000, 1000).withInitialFill(0)))
                .callTimeout(Duration.ofSeconds(2)).retry(1, Duration.ofMillis(10), Duration.ofMillis(50)).build();
        Properties props = KAFKA.clientProperties();
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        producer = new KafkaProducer<>(props, new StringSerializer(), topics.dealChanges().valueSerde().serializer());
        cursorProducer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
        config = new DealEventsConfig(Map.of(DealEventsConfig.APPLICATION_TOKEN, TOKEN, DealEventsConfig.COALESCE_WINDOW, "200",
                DealEventsConfig.POLL_OVERLAP, "1000"));
        queue = CrmIngestion.hookQueue(config, new DealReader(client), publisher());
        queue.open();
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext(CrmHookHandler.PATH, new CrmHookHandler(config, queue, CrmIngestion.deletions(publisher(), queue)));
        server.start();
        hookUrl = "http://127.0.0.1:" + server.getAddress().getPort() + CrmHookHandler.PATH;
    }

    /** Publishes to this test's own deal topic, so tests stay independent on one broker. */
    private DealPublisher publisher() {
        return new DealPublisher(producer, dealTopic, meters);
    }

    @AfterEach
    void stop() {
        server.stop(0);
        queue.close();
        cursorStores.forEach(KafkaCursorStore::close);
        producer.close();
        cursorProducer.close();
        client.close();
        emu.close();
    }

    private List<DealChanged> published(int atLeast, Duration wait) {
        Properties props = KAFKA.clientProperties();
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<DealChanged> out = new ArrayList<>();
        try (KafkaConsumer<String, DealChanged> consumer = new KafkaConsumer<>(props,
                new org.apache.kafka.common.serialization.StringDeserializer(), topics.dealChanges().valueSerde().deserializer())) {
            consumer.subscribe(List.of(dealTopic));
            long deadline = System.nanoTime() + wait.toNanos();
            while (System.nanoTime() < deadline && out.size() < atLeast) {
                for (ConsumerRecord<String, DealChanged> r : consumer.poll(Duration.ofMillis(200))) {
                    assertThat(r.key()).isEqualTo(Long.toString(r.value().getDealId()));
                    out.add(r.value());
                }
            }
            // anything else already there
            for (ConsumerRecord<String, DealChanged> r : consumer.poll(Duration.ofMillis(500))) {
                out.add(r.value());
            }
        }
        return out;
    }

    private void settle() throws InterruptedException {
        assertThat(emu.events().awaitIdle(Duration.ofSeconds(10))).isTrue();
        Thread.sleep(config.coalesceWindow().toMillis() * 3);
    }

    private int post(String body) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(hookUrl))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        return r.statusCode();
    }

    @Test
    void aBurstOfEditsIsReadOnceOrTwiceAndEndsInTheLastStageWithRows() throws Exception {
        emu.subscribeCrm(hookUrl, TOKEN, "ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE");
        // a manager's deal (their edits carry their id, not the webhook's: not echoes, so their rows are read)
        emu.crm().addUser(7, "Egor", true);
        long id = emu.crm().addDealAsHuman(Map.of("TITLE", "By hand", "CATEGORY_ID", 1, "STAGE_ID", "C1:NEW", "ASSIGNED_BY_ID", 7));
        new CrmApi(client).setProductRows(id, List.of(org.dealbridge.bitrix.crm.ProductRow.of(101, "Sofa",
                new java.math.BigDecimal("1500.00"), new java.math.BigDecimal("2"))));
        for (String stage : List.of("C1:PREPARATION", "C1:NEW", "C1:PREPARATION", "C1:WON")) {
            emu.crm().updateDealAsHuman(id, Map.of("STAGE_ID", stage));
        }
        settle();

        List<DealChanged> events = published(1, Duration.ofSeconds(10));
        assertThat(events).isNotEmpty().hasSizeLessThanOrEqualTo(2);
        DealChanged last = events.get(events.size() - 1);
        assertThat(last.getDealId()).isEqualTo(id);
        assertThat(last.getStageId()).isEqualTo("C1:WON");
        assertThat(last.getCategoryId()).isEqualTo(1L);
        assertThat(last.getProductRows()).singleElement().satisfies(r -> {
            assertThat(r.getProductId()).isEqualTo(101L);
            assertThat(new java.math.BigDecimal(r.getPrice().toString())).isEqualByComparingTo("1500");
        });
        assertThat(last.getCause().getSource()).isEqualTo(ChangeSource.CRM_HOOK);
        assertThat(meters.find(DealPublisher.EVENTS_METRIC).tag("source", "crm_hook").counter().count()).isEqualTo(events.size());
    }

    /**
     * Issue 13 item 1, the CRM side: for 8 s the CRM answers every call with an HTML 502 page (its gateway) while a
     * manager makes 3 deals. The hook's queue must neither give them up nor hammer the CRM: it pauses as a whole,
     * longer after each failed read (1 s doubling, ±50 % jitter), so at most 5 reads reach the CRM during the outage,
     * where the queue before read again every second (7 or more). Afterwards all three deals are published.
     */
    @Test
    void hookEventsDuringACrmOutageWaitWithAGrowingPauseAndArePublishedAfterIt() throws Exception {
        emu.subscribeCrm(hookUrl, TOKEN, "ONCRMDEALADD");
        emu.faults().outage(Portal.CRM, Duration.ofSeconds(8), org.dealbridge.emulator.Fault.HTTP_502_HTML);
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.add(emu.crm().addDealAsHuman(Map.of("TITLE", "During the outage " + i, "CATEGORY_ID", 1, "STAGE_ID", "C1:NEW")));
        }
        assertThat(emu.events().awaitIdle(Duration.ofSeconds(10))).isTrue();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (emu.calls().count(Portal.CRM, "crm.deal.list", c -> c.httpStatus() == 502) < 2) {
            assertThat(System.nanoTime()).as("reads during the outage").isLessThan(deadline);
            Thread.sleep(20);
        }
        assertThat(meters.get(org.dealbridge.ingestion.RefreshQueue.READS_WAITING).tag("queue", "deal-refresh").gauge().value())
                .as("the deals wait").isEqualTo(3);

        List<DealChanged> events = published(3, Duration.ofSeconds(40));
        assertThat(events).extracting(DealChanged::getDealId).containsAll(ids);
        assertThat(emu.calls().count(Portal.CRM, "crm.deal.list", c -> c.httpStatus() == 502)).as("reads that met the 502 page").isBetween(2, 5);
        assertThat(meters.get(org.dealbridge.ingestion.RefreshQueue.READS_WAITING).tag("queue", "deal-refresh").gauge().value()).isZero();
    }

    @Test
    void aWrongTokenIs401AndNothingIsReadOrPublished() throws Exception {
        emu.subscribeCrm(hookUrl, "not-the-token", "ONCRMDEALADD", "ONCRMDEALUPDATE");
        emu.crm().addDealAsHuman(Map.of("TITLE", "By hand", "CATEGORY_ID", 1, "STAGE_ID", "C1:NEW"));
        settle();

        assertThat(emu.events().deliveries()).isNotEmpty().allSatisfy(d -> assertThat(d.httpStatus()).isEqualTo(401));
        assertThat(emu.calls().count(Portal.CRM, "crm.deal.list")).isZero();
        assertThat(published(1, Duration.ofSeconds(2))).isEmpty();
    }

    @Test
    void badCallsAreRefusedWithTheirReason() throws Exception {
        String auth = "&auth%5Bapplication_token%5D=" + TOKEN;
        assertThat(post("event=ONCRMDEALUPDATE&data%5BFIELDS%5D%5BID%5D=5" + "&auth%5Bapplication_token%5D=wrong")).isEqualTo(401);
        assertThat(post("event=ONCRMDEALUPDATE&data%5BFIELDS%5D%5BID%5D=%ZZ" + auth)).isEqualTo(400);
        assertThat(post("event=ONCRMDEALUPDATE&data%5BFIELDS%5D%5BID%5D=abc" + auth)).isEqualTo(400);
        assertThat(post("event=ONCRMDEALUPDATE" + auth + "&pad=" + "x".repeat(20_000))).isEqualTo(413);
        assertThat(post("event=ONCRMCONTACTADD&data%5BFIELDS%5D%5BID%5D=5" + auth)).isEqualTo(200);
        assertThat(post("event=ONCRMDEALDELETE&data%5BFIELDS%5D%5BID%5D=77" + auth)).isEqualTo(200);

        List<DealChanged> events = published(1, Duration.ofSeconds(5));
        assertThat(events).singleElement().satisfies(d -> {
            assertThat(d.getDealId()).isEqualTo(77L);
            assertThat(d.getDeleted()).isTrue();
        });
    }

    @Test
    void noApplicationTokenReachesTheLogsAtAnyLevel() throws Exception {
        String wrong = "wr0ng-t0ken-93b1";
        try (LogCapture logs = new LogCapture()) {
            emu.subscribeCrm(hookUrl, TOKEN, "ONCRMDEALADD", "ONCRMDEALUPDATE");
            long id = emu.crm().addDealAsHuman(Map.of("TITLE", "Logged", "CATEGORY_ID", 1, "STAGE_ID", "C1:NEW"));
            post("event=ONCRMDEALUPDATE&data%5BFIELDS%5D%5BID%5D=" + id + "&auth%5Bapplication_token%5D=" + wrong);
            post("event=ONCRMDEALUPDATE&data%5BFIELDS%5D%5BID%5D=%ZZ&auth%5Bapplication_token%5D=" + TOKEN);
            settle();
            assertThat(published(1, Duration.ofSeconds(5))).isNotEmpty();
            assertThat(logs.lines()).as("something was logged").isNotEmpty()
                    .noneMatch(line -> line.contains(TOKEN) || line.contains(wrong));
        }
    }

    private static final OffsetDateTime FIRST_CURSOR = TestCursors.FIRST_CURSOR;

    private KafkaCursorStore cursors() {
        KafkaCursorStore cursors = TestCursors.on(KAFKA, cursorTopic);
        cursorStores.add(cursors);
        return cursors;
    }

    @Test
    void thePollerFindsDealsWhoseHooksWereLostAndStoresItsCursorAfterPublishing() throws Exception {
        long first = emu.crm().addDealAsHuman(Map.of("TITLE", "Lost 1", "CATEGORY_ID", 1, "STAGE_ID", "C1:NEW"));
        long second = emu.crm().addDealAsHuman(Map.of("TITLE", "Lost 2", "CATEGORY_ID", 1, "STAGE_ID", "C1:NEW"));
        ChangePoller poller = CrmPoller.create(new CrmApi(client), new DealReader(client), publisher(), cursors(), config, FIRST_CURSOR);

        assertThat(poller.pollOnce().published()).isEqualTo(2);
        List<DealChanged> events = published(2, Duration.ofSeconds(5));
        assertThat(events).extracting(DealChanged::getDealId).containsExactlyInAnyOrder(first, second);
        assertThat(events).allSatisfy(d -> assertThat(d.getCause().getSource()).isEqualTo(ChangeSource.CRM_POLL));

        assertThat(cursors().load(CrmPoller.CURSOR_KEY)).as("cursor survives a restart").map(OffsetDateTime::parse)
                .hasValueSatisfying(c -> assertThat(c).isAfter(FIRST_CURSOR));
        assertThat(meters.find(DealPublisher.EVENTS_METRIC).tag("source", "crm_poll").counter().count()).isEqualTo(2.0);
    }

    @Test
    void aFailedReadLeavesTheCursorWhereItWas() {
        KafkaCursorStore cursors = cursors();
        emu.faults().outage(Portal.CRM, Duration.ofSeconds(5), org.dealbridge.emulator.Fault.HTTP_500);
        ChangePoller poller = CrmPoller.create(new CrmApi(client), new DealReader(client), publisher(), cursors, config, FIRST_CURSOR);
        emu.crm().addDealAsHuman(Map.of("TITLE", "During outage", "CATEGORY_ID", 1, "STAGE_ID", "C1:NEW"));

        org.assertj.core.api.Assertions.assertThatThrownBy(poller::pollOnce).isInstanceOf(RuntimeException.class);
        assertThat(cursors.load(CrmPoller.CURSOR_KEY)).as("the first cursor, stored at the first start").map(OffsetDateTime::parse)
                .hasValue(FIRST_CURSOR);
    }
}
