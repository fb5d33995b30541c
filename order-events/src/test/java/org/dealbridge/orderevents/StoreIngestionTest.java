package org.dealbridge.orderevents;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import java.util.Map;
import org.dealbridge.emulator.Fault;
import org.dealbridge.emulator.NewOrder;
import org.dealbridge.ingestion.ReadFailureListener;
import org.dealbridge.ingestion.RefreshQueue;
import org.dealbridge.schemas.DeadLetter;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.schemas.ChangeSource;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.OrderChanged;
import org.dealbridge.ingestion.KafkaCursorStore;
import org.dealbridge.emulator.Portal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The assembled ingestion side as the launcher runs it: hook mounted, pollers started, both feeding order-changes. */
class StoreIngestionTest {
    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();

    @org.junit.jupiter.api.BeforeAll
    static void topics() {
        StoreFixture.createTopics(KAFKA);
    }

    @Test
    void hookAndPollerBothPublishAndTheCursorIsStored() throws Exception {
        try (StoreFixture fx = new StoreFixture()) {
            StoreIngestionConfig config = StoreIngestionConfig.of(List.of("s1", "s2"), "hook-secret-123",
                    Duration.ofMillis(300), OffsetDateTime.of(2025, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC));
            HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            try (StoreIngestion ingestion = new StoreIngestion(config, fx.store, fx.producerConfig(KAFKA), fx.topics, fx.meters, Clock.systemUTC())) {
                server.createContext("/hooks/store", ingestion.hookHandler());
                server.start();
                fx.emulator.subscribeStore("http://127.0.0.1:" + server.getAddress().getPort() + "/hooks/store", "hook-secret-123",
                        "ONSALEORDERSAVED");
                ingestion.start();
                long s1 = fx.emulator.store().addOrder(NewOrder.create().site("s1").item(100, "Puzzle 500", "990.00", 1));
                long s2 = fx.emulator.store().addOrder(NewOrder.create().site("s2").item(201, "T-shirt M", "1500.00", 1));
                String k1 = Keys.order("s1", s1);
                String k2 = Keys.order("s2", s2);

                // whichever reads an order first publishes it; the other path does not read it again at the same dateUpdate
                List<ConsumerRecord<String, OrderChanged>> records = StoreFixture.read(KAFKA, fx.topics.orderChanges(), all ->
                        all.stream().anyMatch(r -> r.key().equals(k1)) && all.stream().anyMatch(r -> r.key().equals(k2)), Duration.ofSeconds(20));
                assertThat(records).anyMatch(r -> r.key().equals(k1));
                assertThat(records).anyMatch(r -> r.key().equals(k2));
                // a change the hook never names (its event lost) is the poller's
                fx.emulator.events().unsubscribeAll();
                fx.clock.advance(Duration.ofSeconds(5));
                fx.emulator.store().updateOrderAsHuman(s2, Map.of("statusId", "P"));
                List<ConsumerRecord<String, OrderChanged>> polled = StoreFixture.read(KAFKA, fx.topics.orderChanges(), all ->
                        all.stream().anyMatch(r -> r.key().equals(k2) && r.value().getCause().getSource() == ChangeSource.STORE_POLL
                                && "P".equals(r.value().getStatusId().toString())), Duration.ofSeconds(20));
                assertThat(polled).anyMatch(r -> r.key().equals(k2) && r.value().getCause().getSource() == ChangeSource.STORE_POLL);
            } finally {
                server.stop(0);
            }
            try (KafkaCursorStore cursors = new KafkaCursorStore(fx.producerConfig(KAFKA), fx.topics, "test-cursors", Duration.ofSeconds(10))) {
                assertThat(cursors.load(StorePoller.cursorKey("s1"))).isPresent();
                assertThat(cursors.load(StorePoller.cursorKey("s2"))).isPresent();
            }
        }
    }

    /**
     * A shop that sets no application token runs on polling alone (the launcher says so in its log): the ingestion
     * must start, its poller publish, and only the hook be off. It used to refuse to start at all.
     */
    @Test
    void withoutAnApplicationTokenTheHookIsOffAndThePollerStillPublishes() throws Exception {
        try (StoreFixture fx = new StoreFixture()) {
            StoreIngestionConfig config = StoreIngestionConfig.of(List.of("k2"), null, Duration.ofHours(1),
                    fx.clock.instant().atOffset(ZoneOffset.UTC));
            try (StoreIngestion ingestion = new StoreIngestion(config, fx.store, fx.producerConfig(KAFKA), fx.topics, fx.meters, Clock.systemUTC())) {
                assertThatThrownBy(ingestion::hookHandler).isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("store.application-token").hasMessageContaining("polling only");
                ingestion.start();
                fx.clock.advance(Duration.ofSeconds(1));
                long order = fx.emulator.store().addOrder(NewOrder.create().site("k2").item(100, "Puzzle 500", "990.00", 1));
                assertThat(ingestion.pollers().get(0).pollOnce().listed()).isEqualTo(1);
                assertThat(ordersPublished(fx, "k2", List.of(order), Duration.ofSeconds(30))).isEqualTo(1);
            }
        }
    }

    /**
     * Issue 14 item 0: N orders placed in the store are read in bulk, about N/50 {@code sale.order.list} calls with an
     * {@code @id} filter (plus the poller's own listing), not one {@code sale.order.get} each.
     */
    @Test
    void ordersPlacedInTheStoreAreReadFiftyPerStoreListCall() throws Exception {
        try (StoreFixture fx = new StoreFixture()) {
            StoreIngestionConfig config = StoreIngestionConfig.of(List.of("b1"), null, Duration.ofHours(1), fx.clock.instant().atOffset(ZoneOffset.UTC));
            try (StoreIngestion ingestion = new StoreIngestion(config, fx.store, fx.producerConfig(KAFKA), fx.topics, fx.meters, Clock.systemUTC())) {
                ingestion.start();
                assertThat(ingestion.pollers().get(0).pollOnce().listed()).isZero();
                List<Long> orders = new java.util.ArrayList<>();
                for (int i = 0; i < 120; i++) {
                    fx.clock.advance(Duration.ofSeconds(1));
                    orders.add(fx.emulator.store().addOrder(NewOrder.create().site("b1").item(100 + (i % 2) * 101, "item", "990.00", 1 + i % 3)
                            .property("EMAIL", "buyer" + i + "@example.com").property("PHONE", "+7999000" + i)));
                }
                int requestsBefore = fx.emulator.calls().all().size();

                // (the started poller's own first round may still be listing a few of them meanwhile)
                ingestion.pollers().get(0).pollOnce();

                assertThat(ordersPublished(fx, "b1", orders, Duration.ofSeconds(30))).isEqualTo(120);
                assertThat(fx.emulator.calls().count(Portal.STORE, "sale.order.get")).as("no order read on its own").isZero();
                assertThat(fx.orderReads()).as("bulk sale.order.list calls for 120 orders").isBetween(3, 4);
                assertThat(fx.emulator.calls().count(Portal.STORE, "batch")).as("store requests that read them").isBetween(3, 8);
                List<ConsumerRecord<String, OrderChanged>> events = StoreFixture.withKeyPrefix(
                        StoreFixture.read(KAFKA, fx.topics.orderChanges(), all -> false, Duration.ofMillis(500)), "b1:");
                assertThat(events).allSatisfy(e -> {
                    int i = orders.indexOf(e.value().getOrderId());
                    // two properties per order: 100 per 50 orders, so the property values take a second page
                    assertThat(e.value().getItems()).singleElement().satisfies(line ->
                            assertThat(new java.math.BigDecimal(line.getQuantity().toString())).isEqualByComparingTo(Integer.toString(1 + i % 3)));
                    assertThat(e.value().getBuyer().getPhone()).isEqualTo("+7999000" + i);
                    assertThat(e.value().getBuyer().getEmail()).isEqualTo("buyer" + i + "@example.com");
                });
                // the listing's pages, the bulk reads, the catalog look-ups (cached): once it was 120 sale.order.get on top
                assertThat(fx.emulator.calls().all().subList(requestsBefore, fx.emulator.calls().all().size()))
                        .as("store requests of the round").filteredOn(c -> !c.inBatch()).hasSizeLessThan(20);
            }
        }
    }

    /**
     * Issue 13's crash, in-process: the store's webhooks name 30 orders at once, the hook accepts them all (200), and
     * the process goes away while most of them still wait in the in-memory refresh queue. A new ingestion, started
     * later against the same broker with a first cursor of its own start time (as the launcher computes it), must
     * publish every accepted order: it resumes from the cursor the first start stored.
     */
    @Test
    void ordersTheHookAcceptedAreAllPublishedAfterTheProcessDiesWithThemQueued() throws Exception {
        String token = "hook-secret-kill-9";
        try (StoreFixture fx = new StoreFixture()) {
            // reads are slow, so the queue still holds most orders when the process goes away
            // every bulk read takes 10 s: the first takes the first order alone and the other 29 wait behind it until
            // well after the process is gone (with 2 s, a CI run's slower hooks let the second read take all 29 first)
            fx.emulator.faults().slow(Portal.STORE, "sale.basketitem.list", Duration.ofSeconds(10));
            StoreIngestionConfig firstStart = StoreIngestionConfig.of(List.of("k1"), token, Duration.ofHours(1), fx.clock.instant().atOffset(ZoneOffset.UTC));
            HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            StoreIngestion first = new StoreIngestion(firstStart, fx.store, fx.producerConfig(KAFKA), fx.topics, fx.meters, Clock.systemUTC());
            server.createContext(StoreHookHandler.PATH, first.hookHandler());
            server.start();
            fx.emulator.subscribeStore("http://127.0.0.1:" + server.getAddress().getPort() + StoreHookHandler.PATH, token, "ONSALEORDERSAVED");
            first.start();
            // waits for the start-up round (the poller is synchronized) and finds nothing: the next round is an hour away
            assertThat(first.pollers().get(0).pollOnce().listed()).isZero();
            List<Long> orders = new java.util.ArrayList<>();
            for (int i = 0; i < 30; i++) {
                fx.clock.advance(Duration.ofSeconds(1));
                orders.add(fx.emulator.store().addOrder(NewOrder.create().site("k1").item(100, "Puzzle 500", "990.00", 1)));
            }
            assertThat(fx.emulator.events().awaitIdle(Duration.ofSeconds(20))).isTrue();
            assertThat(fx.emulator.events().deliveries()).filteredOn(d -> orders.contains(Long.parseLong(d.entityId())))
                    .hasSize(30).allSatisfy(d -> assertThat(d.httpStatus()).as("accepted by the hook").isEqualTo(200));
            // the process dies: the hook's queue goes with it, the poller's next round never comes
            server.stop(0);
            first.close();
            long publishedBefore = ordersPublished(fx, "k1", orders, Duration.ofMillis(500));
            assertThat(publishedBefore).as("most accepted orders were only in memory").isLessThan(30);

            // restarted ten minutes later: a first cursor taken now would lie after every one of those orders
            fx.clock.advance(Duration.ofMinutes(10));
            fx.emulator.faults().clear(Portal.STORE);
            StoreIngestionConfig restart = StoreIngestionConfig.of(List.of("k1"), token, Duration.ofHours(1), fx.clock.instant().atOffset(ZoneOffset.UTC));
            try (StoreIngestion second = new StoreIngestion(restart, fx.store, fx.producerConfig(KAFKA), fx.topics, fx.meters, Clock.systemUTC())) {
                second.start();
                assertThat(ordersPublished(fx, "k1", orders, Duration.ofSeconds(30))).as("every accepted order, published before the kill or after the restart")
                        .isEqualTo(30);
            }
        }
    }

    /**
     * Issue 13 item 1, the store side: the store answers 500 to every call while its webhooks name 5 orders, and goes
     * on doing so for several refreshes of the hook's queue (each one already the REST client's whole retry budget).
     * Nothing may be dead-lettered for it: the orders wait in the queue and are published once the store is back. The
     * poller is an hour away, so only the hook's queue can publish them. A sixth order, malformed (empty currency),
     * waits through the outage too, and afterwards, read at last, is a dead letter naming it: only its own flaw is.
     * On the code before, every order read during the outage became a dead letter and was never published.
     */
    @Test
    void hookEventsAcceptedDuringAStoreOutageArePublishedAfterItWithoutDeadLetters() throws Exception {
        String token = "hook-secret-outage";
        String site = "o1";
        try (StoreFixture fx = new StoreFixture()) {
            StoreIngestionConfig config = StoreIngestionConfig.of(List.of(site), token, Duration.ofHours(1), fx.clock.instant().atOffset(ZoneOffset.UTC));
            HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            try (StoreIngestion ingestion = new StoreIngestion(config, fx.store, fx.producerConfig(KAFKA), fx.topics, fx.meters, Clock.systemUTC())) {
                server.createContext(StoreHookHandler.PATH, ingestion.hookHandler());
                server.start();
                fx.emulator.subscribeStore("http://127.0.0.1:" + server.getAddress().getPort() + StoreHookHandler.PATH, token, "ONSALEORDERSAVED");
                List<String> heard = new java.util.concurrent.CopyOnWriteArrayList<>();
                ingestion.addReadFailureListener(new ReadFailureListener() {
                    @Override
                    public void readsFailing(String reader, RuntimeException cause) {
                        heard.add("failing " + reader);
                    }

                    @Override
                    public void readsRecovered(String reader, Duration failedFor) {
                        heard.add("recovered " + reader);
                    }
                });
                ingestion.start();
                assertThat(ingestion.pollers().get(0).pollOnce().listed()).isZero();

                // until endOutage: the emulator's clock is the test's and does not move
                fx.emulator.faults().outage(Portal.STORE, Duration.ofDays(1), Fault.HTTP_500);
                List<Long> orders = new java.util.ArrayList<>();
                for (int i = 0; i < 5; i++) {
                    fx.clock.advance(Duration.ofSeconds(1));
                    orders.add(fx.emulator.store().addOrder(NewOrder.create().site(site).item(100, "Puzzle 500", "990.00", 1)));
                }
                long malformed = fx.emulator.store().addOrder(Map.of("lid", site, "currency", "",
                        "basketItems", List.of(Map.of("productId", 100, "price", "990.00", "quantity", 1))));
                assertThat(fx.emulator.events().awaitIdle(Duration.ofSeconds(20))).isTrue();
                assertThat(fx.emulator.events().deliveries()).filteredOn(d -> d.entityId().equals(Long.toString(malformed)) || orders.contains(Long.parseLong(d.entityId())))
                        .hasSize(6).allSatisfy(d -> assertThat(d.httpStatus()).as("accepted by the hook").isEqualTo(200));

                // four refreshes failed, each after the client's own two tries: the old code gave up after one
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (fx.emulator.calls().count(Portal.STORE, "batch") < 8) {
                    assertThat(System.nanoTime()).as("the queue keeps reading during the outage").isLessThan(deadline);
                    Thread.sleep(50);
                }
                assertThat(waiting(fx)).as("every accepted order still waits").isEqualTo(6);
                assertThat(fx.meters.get(RefreshQueue.READS_RETRYING).tag("queue", "store-order-refresh").gauge().value()).isGreaterThan(0);
                assertThat(deadLettersNaming(fx, orders, malformed, Duration.ofMillis(500))).as("dead letters during the outage").isEmpty();
                // (the poller's first round may run into the outage too, and says so for store-poller-o1)
                assertThat(heard).as("told that the store's reads fail").filteredOn(h -> h.endsWith("store-order-refresh"))
                        .containsExactly("failing store-order-refresh");

                fx.emulator.faults().endOutage(Portal.STORE);
                assertThat(ordersPublished(fx, site, orders, Duration.ofSeconds(60))).as("published after the outage").isEqualTo(5);
                List<ConsumerRecord<String, DeadLetter>> letters = deadLettersNaming(fx, orders, malformed, Duration.ofSeconds(30));
                assertThat(letters).as("dead letters once the store is back").isNotEmpty();
                assertThat(letters).singleElement().satisfies(l -> {
                    assertThat(l.value().getComponent()).isEqualTo(StoreHookHandler.COMPONENT);
                    assertThat(l.value().getReason()).contains("order " + malformed).contains("currency");
                });
                assertThat(heard).filteredOn(h -> h.endsWith("store-order-refresh"))
                        .containsExactly("failing store-order-refresh", "recovered store-order-refresh");
                assertThat(fx.meters.get(IngestMetrics.DEAD_LETTERS).tag("component", StoreHookHandler.COMPONENT).counter().count()).isEqualTo(1);
            } finally {
                server.stop(0);
            }
        }
    }

    private static double waiting(StoreFixture fx) {
        return fx.meters.get(RefreshQueue.READS_WAITING).tag("queue", "store-order-refresh").gauge().value();
    }

    /**
     * Dead letters whose reason names one of these orders, read until the malformed order's is there or {@code wait}
     * passes; then read once more briefly, so that a letter written right after it shows too.
     */
    private static List<ConsumerRecord<String, DeadLetter>> deadLettersNaming(StoreFixture fx, List<Long> orders, long malformed, Duration wait) {
        java.util.function.Predicate<ConsumerRecord<String, DeadLetter>> names = r -> r.value() != null
                && java.util.stream.Stream.concat(orders.stream(), java.util.stream.Stream.of(malformed))
                .anyMatch(id -> r.value().getReason().toString().contains("order " + id + " "));
        java.util.function.Predicate<ConsumerRecord<String, DeadLetter>> namesMalformed = r -> r.value() != null
                && r.value().getReason().toString().contains("order " + malformed + " ");
        StoreFixture.read(KAFKA, fx.topics.deadLetters(), all -> all.stream().anyMatch(namesMalformed), wait);
        return StoreFixture.read(KAFKA, fx.topics.deadLetters(), all -> false, Duration.ofMillis(500)).stream().filter(names).toList();
    }

    /** How many of {@code orders} have at least one event on order-changes, waiting up to {@code wait} for all. */
    private static long ordersPublished(StoreFixture fx, String site, List<Long> orders, Duration wait) {
        java.util.function.Function<List<ConsumerRecord<String, OrderChanged>>, Long> count = records -> orders.stream()
                .filter(id -> records.stream().anyMatch(r -> r.key().equals(Keys.order(site, id)))).count();
        return count.apply(StoreFixture.read(KAFKA, fx.topics.orderChanges(), all -> count.apply(all) == orders.size(), wait));
    }

    @Test
    void theConfigNeverPrintsTheTokenAndRefusesNoSites() {
        StoreIngestionConfig config = StoreIngestionConfig.of(List.of("s1"), "hook-secret-123", Duration.ofSeconds(30),
                OffsetDateTime.of(2025, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC));
        assertThat(config.toString()).doesNotContain("hook-secret-123").contains("applicationToken=***");
        assertThatThrownBy(() -> StoreIngestionConfig.of(List.of(), "t", Duration.ofSeconds(30), OffsetDateTime.now()))
                .hasMessageContaining("store.sites");
    }
}
