package org.dealbridge.orderevents;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.dealbridge.emulator.Fault;
import org.dealbridge.emulator.NewOrder;
import org.dealbridge.emulator.Portal;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.schemas.DeadLetter;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.OrderChanged;
import org.dealbridge.ingestion.ChangePoller;
import org.dealbridge.ingestion.CursorStore;
import org.dealbridge.ingestion.KafkaCursorStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The poll path against the store emulator and a real broker; each test uses its own site so they share the topics. */
class StorePollerTest {
    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();
    private static final OffsetDateTime LONG_AGO = OffsetDateTime.of(2025, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC);

    private StoreFixture fx;
    private OrderPublisher publisher;
    private OrderIngest ingest;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeAll
    static void topics() {
        StoreFixture.createTopics(KAFKA);
    }

    @BeforeEach
    void start() {
        fx = new StoreFixture();
        publisher = new OrderPublisher(fx.producerConfig(KAFKA), fx.topics, fx.metrics, Clock.systemUTC());
        ingest = new OrderIngest(fx.reader(), publisher);
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
        publisher.close();
        fx.close();
    }

    private KafkaCursorStore cursorStore() {
        KafkaCursorStore store = new KafkaCursorStore(fx.producerConfig(KAFKA), fx.topics, "test-cursors", Duration.ofSeconds(20));
        closeables.add(store);
        return store;
    }

    private ChangePoller poller(String site, CursorStore cursors) {
        return StorePoller.create(fx.store, ingest, cursors,
                new StorePoller.Settings(site, Duration.ofSeconds(30), Duration.ofSeconds(1), LONG_AGO));
    }

    /** A poller of a new process: what the last one published is only in Kafka, not in its memory. */
    private ChangePoller restartedPoller(String site, CursorStore cursors) {
        return StorePoller.create(fx.store, new OrderIngest(fx.reader(), publisher), cursors,
                new StorePoller.Settings(site, Duration.ofSeconds(30), Duration.ofSeconds(1), LONG_AGO));
    }

    /** Seeds orders one second apart (dateUpdate has second precision); returns their ids. */
    private List<Long> seed(String site, int count) {
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            fx.clock.advance(Duration.ofSeconds(1));
            ids.add(fx.emulator.store().addOrder(NewOrder.create().site(site).status("N").item(100, "Puzzle 500", "990.00", 1 + i % 3)));
        }
        return ids;
    }

    private OffsetDateTime dateUpdateOf(long orderId) {
        return OffsetDateTime.parse(String.valueOf(fx.emulator.store().order(orderId).get("dateUpdate")));
    }

    private Map<String, Long> publishedPerKey(String site, int atLeast) {
        List<ConsumerRecord<String, OrderChanged>> records = StoreFixture.withKeyPrefix(StoreFixture.read(KAFKA, fx.topics.orderChanges(),
                all -> StoreFixture.withKeyPrefix(all, site + ":").size() >= atLeast, Duration.ofSeconds(15)), site + ":");
        return records.stream().collect(Collectors.groupingBy(ConsumerRecord::key, Collectors.counting()));
    }

    @Test
    void pagesThroughMoreThanFiftyOrdersAndStoresTheCursorAfterPublishing() {
        List<Long> ids = seed("p1", 120);
        ChangePoller poller = poller("p1", cursorStore());

        ChangePoller.Round round = poller.pollOnce();

        assertThat(round.listed()).isEqualTo(120);
        assertThat(round.published()).isEqualTo(120);
        assertThat(round.interrupted()).isFalse();
        // walked by keyset: three pages of ">dateUpdate after the last row", never start=50/100
        assertThat(fx.emulator.calls().of(Portal.STORE, "sale.order.list"))
                .filteredOn(c -> c.param("filter", ">dateUpdate") != null).hasSize(3)
                .allSatisfy(c -> assertThat(c.param("start")).isEqualTo("-1"));
        Map<String, Long> perKey = publishedPerKey("p1", 120);
        assertThat(perKey).hasSize(120).containsKeys(Keys.order("p1", ids.get(0)), Keys.order("p1", ids.get(119)));
        assertThat(perKey.values()).containsOnly(1L);
        OffsetDateTime last = dateUpdateOf(ids.get(119));
        assertThat(round.cursor().toInstant()).isEqualTo(last.toInstant());
        assertThat(cursorStore().load(StorePoller.cursorKey("p1"))).map(OffsetDateTime::parse).map(OffsetDateTime::toInstant)
                .hasValue(last.toInstant());
        assertThat(fx.meters.find(IngestMetrics.EVENTS_IN).tag("source", "store_poll").counter().count()).isEqualTo(120);
    }

    @Test
    void moreThanAPageOfOrdersInOneSecondAreAllRead() {
        fx.clock.advance(Duration.ofSeconds(1));
        List<Long> sameSecond = new ArrayList<>();
        for (int i = 0; i < 73; i++) {
            sameSecond.add(fx.emulator.store().addOrder(NewOrder.create().site("m1").item(100, "Puzzle 500", "990.00", 1)));
        }
        List<Long> later = seed("m1", 2);
        assertThat(dateUpdateOf(sameSecond.get(0))).isEqualTo(dateUpdateOf(sameSecond.get(72)));

        ChangePoller.Round round = poller("m1", cursorStore()).pollOnce();

        assertThat(round.listed()).isEqualTo(75);
        Map<String, Long> perKey = publishedPerKey("m1", 75);
        assertThat(perKey).hasSize(75).containsKeys(Keys.order("m1", sameSecond.get(72)), Keys.order("m1", later.get(1)));
        assertThat(perKey.values()).containsOnly(1L);
    }

    @Test
    void anOrderSavedWhileThePagesAreWalkedDoesNotPushAnotherOutOfView() throws Exception {
        List<Long> ids = seed("w1", 100);
        // each list call takes 1 s, so the save below lands while the second page is being computed
        fx.emulator.faults().slow(Portal.STORE, "sale.order.list", Duration.ofMillis(1000));
        java.util.concurrent.CompletableFuture<ChangePoller.Round> round =
                java.util.concurrent.CompletableFuture.supplyAsync(() -> poller("w1", cursorStore()).pollOnce());
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (fx.emulator.calls().count(Portal.STORE, "sale.order.list") < 1 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        fx.clock.advance(Duration.ofMinutes(1));
        fx.emulator.store().updateOrderAsHuman(ids.get(0), Map.of("statusId", "P"));

        assertThat(round.get(30, java.util.concurrent.TimeUnit.SECONDS).published()).isEqualTo(100);
        Map<String, Long> perKey = publishedPerKey("w1", 100);
        // with offset pages, order 51 would have shifted onto page one after it was read, and been skipped
        assertThat(perKey).containsOnlyKeys(ids.stream().map(id -> Keys.order("w1", id)).toList());
    }

    @Test
    void aCrashBetweenPublishAndCursorWriteReReadsAndSkipsNothing() {
        List<Long> ids = seed("c1", 3);
        KafkaCursorStore real = cursorStore();
        CursorStore crashesOnWrite = new CursorStore() {
            @Override
            public Optional<String> load(String key) {
                return real.load(key);
            }

            @Override
            public void store(String key, String value) {
                if (!value.startsWith(LONG_AGO.toString().substring(0, 10))) {
                    throw new IllegalStateException("process killed before the cursor write");
                }
                real.store(key, value); // the first cursor, stored at the first start
            }
        };
        assertThatThrownBy(() -> poller("c1", crashesOnWrite).pollOnce()).hasMessageContaining("killed");
        // the events are in Kafka, the cursor has not moved past the first one
        assertThat(publishedPerKey("c1", 3)).hasSize(3);
        assertThat(real.load(StorePoller.cursorKey("c1"))).map(OffsetDateTime::parse).map(OffsetDateTime::toInstant)
                .hasValue(LONG_AGO.toInstant());

        ChangePoller restarted = restartedPoller("c1", cursorStore());
        assertThat(restarted.cursor().toInstant()).isEqualTo(LONG_AGO.toInstant());
        ChangePoller.Round round = restarted.pollOnce();

        assertThat(round.published()).isEqualTo(3);
        Map<String, Long> perKey = publishedPerKey("c1", 6);
        assertThat(perKey).containsOnlyKeys(ids.stream().map(id -> Keys.order("c1", id)).toList());
        assertThat(perKey.values()).as("each order re-read once, none skipped").containsOnly(2L);
        assertThat(real.load(StorePoller.cursorKey("c1"))).isPresent();
    }

    @Test
    void aRestartedPollerResumesFromTheStoredCursor() {
        List<Long> first = seed("r1", 5);
        ChangePoller.Round before = poller("r1", cursorStore()).pollOnce();
        assertThat(before.published()).isEqualTo(5);

        fx.clock.advance(Duration.ofMinutes(1));
        List<Long> later = seed("r1", 2);
        int readsBefore = fx.orderReads();

        ChangePoller restarted = restartedPoller("r1", cursorStore());
        assertThat(restarted.cursor().toInstant()).isEqualTo(dateUpdateOf(first.get(4)).toInstant());
        ChangePoller.Round round = restarted.pollOnce();

        // the cursor's own second is re-read (overlap), nothing older is
        assertThat(round.listed()).isEqualTo(3);
        assertThat(fx.orderReads() - readsBefore).as("the three read with one bulk read").isEqualTo(1);
        assertThat(fx.orderReads(first.get(4))).isEqualTo(2);
        Map<String, Long> perKey = publishedPerKey("r1", 8);
        assertThat(perKey.get(Keys.order("r1", first.get(3)))).isEqualTo(1L);
        assertThat(perKey.get(Keys.order("r1", first.get(4)))).isEqualTo(2L);
        assertThat(perKey.get(Keys.order("r1", later.get(0)))).isEqualTo(1L);
        assertThat(perKey.get(Keys.order("r1", later.get(1)))).isEqualTo(1L);
        assertThat(round.cursor().toInstant()).isEqualTo(dateUpdateOf(later.get(1)).toInstant());
    }

    @Test
    void anOrderTheHookPublishedIsNotReadAgainByThePollerWhoseCursorMovesPastIt() {
        List<Long> ids = seed("v1", 3);
        ingest.refresh(ids, org.dealbridge.schemas.ChangeSource.STORE_HOOK, StoreHookHandler.COMPONENT, null);
        int reads = fx.orderReads();

        ChangePoller.Round round = poller("v1", cursorStore()).pollOnce();

        assertThat(round.listed()).isEqualTo(3);
        assertThat(round.published()).isZero();
        assertThat(fx.orderReads()).as("in Kafka at that dateUpdate already: not read again").isEqualTo(reads);
        assertThat(round.cursor().toInstant()).isEqualTo(dateUpdateOf(ids.get(2)).toInstant());
        assertThat(publishedPerKey("v1", 3)).allSatisfy((key, count) -> assertThat(count).isEqualTo(1L));
    }

    /**
     * The store side of issue 13's deal 488: {@code dateUpdate} has second precision, so an order saved again within the
     * second the poller published it in lists with the same date; its hook event lost, the poller skipped it by date and
     * the save never reached {@code order-changes}.
     */
    @Test
    void anOrderSavedAgainWithinTheSecondThePollerPublishedItInIsPublishedOnTheNextPoll() {
        List<Long> ids = seed("z1", 1);
        ChangePoller poller = poller("z1", cursorStore());
        assertThat(poller.pollOnce().published()).isEqualTo(1);

        OffsetDateTime published = dateUpdateOf(ids.get(0));
        fx.emulator.store().updateOrderAsHuman(ids.get(0), Map.of("statusId", "P"));
        assertThat(dateUpdateOf(ids.get(0))).as("saved within the same second").isEqualTo(published);
        assertThat(poller.pollOnce().published()).as("the second save, read again").isEqualTo(1);
        assertThat(publishedOf("z1", 2)).extracting(r -> String.valueOf(r.getStatusId())).containsExactly("N", "P");

        int reads = fx.orderReads();
        assertThat(poller.pollOnce().published()).as("published unchanged: only listed").isZero();
        assertThat(fx.orderReads()).isEqualTo(reads);
    }

    /**
     * What the order's own fields do not show: a same-second save of the basket alone (the total unchanged) lists with
     * the date and the fields it was published with; only its {@code version} (reference §11.2, "increments on save")
     * tells. Without it in the listed digest the poller skipped the save for good.
     */
    @Test
    void aSameSecondSaveOfTheBasketAloneIsPublishedOnTheNextPoll() {
        long id = seed("b1", 1).get(0);
        ChangePoller poller = poller("b1", cursorStore());
        assertThat(poller.pollOnce().published()).isEqualTo(1);
        Map<String, Object> before = fx.emulator.store().order(id);

        fx.emulator.store().updateOrderAsHuman(id, Map.of("basketItems",
                List.of(Map.of("productId", 201, "name", "T-shirt M", "price", "495.00", "quantity", 2))));
        Map<String, Object> after = fx.emulator.store().order(id);
        assertThat(after.get("dateUpdate")).as("saved within the same second").isEqualTo(before.get("dateUpdate"));
        assertThat(String.valueOf(after.get("price"))).as("the total unchanged").isEqualTo(String.valueOf(before.get("price")));
        int reads = fx.orderReads();

        ChangePoller.Round round = poller.pollOnce();

        assertThat(round.published()).as("the basket save, read and published").isEqualTo(1);
        assertThat(fx.orderReads() - reads).as("one bulk read").isEqualTo(1);
        List<OrderChanged> events = publishedOf("b1", 2);
        assertThat(events).hasSize(2);
        assertThat(events.get(0).getItems()).extracting(i -> i.getProductId()).containsExactly(100L);
        assertThat(events.get(1).getItems()).singleElement().satisfies(line -> {
            assertThat(line.getProductId()).isEqualTo(201L);
            assertThat(new java.math.BigDecimal(String.valueOf(line.getQuantity()))).isEqualByComparingTo("2");
        });
        assertThat(events.get(1).getVersion()).as("the store's version of the save")
                .isEqualTo(((Number) after.get("version")).longValue()).isGreaterThan(events.get(0).getVersion());
    }

    /** The control of the test above: listed again within its second, an order published unchanged is neither read nor republished. */
    @Test
    void anUnchangedOrderListedAgainWithinItsSecondIsNotReadOrRepublished() {
        long id = seed("u1", 1).get(0);
        ChangePoller poller = poller("u1", cursorStore());
        assertThat(poller.pollOnce().published()).isEqualTo(1);
        int reads = fx.orderReads();

        for (int round = 0; round < 3; round++) {
            ChangePoller.Round again = poller.pollOnce();
            assertThat(again.listed()).as("the cursor's own second, listed again").isEqualTo(1);
            assertThat(again.published()).isZero();
        }

        assertThat(fx.orderReads()).as("no read: the listed version is the published one").isEqualTo(reads);
        assertThat(publishedOf("u1", 1)).hasSize(1).singleElement()
                .satisfies(e -> assertThat(e.getVersion()).isEqualTo(((Number) fx.emulator.store().order(id).get("version")).longValue()));
    }

    /**
     * A store that does not answer {@code version} (a repair in its database emptied it here) keeps the rule of before:
     * the order's own fields tell a same-second save, and an unchanged listing is not read.
     */
    @Test
    void withoutAVersionTheOrdersOwnFieldsStillTellASameSecondSave() {
        long id = seed("n1", 1).get(0);
        java.util.HashMap<String, Object> noVersion = new java.util.HashMap<>();
        noVersion.put("version", null);
        fx.emulator.store().repairOrderBehindTheApi(id, noVersion);
        ChangePoller poller = poller("n1", cursorStore());
        assertThat(poller.pollOnce().published()).isEqualTo(1);
        int reads = fx.orderReads();
        assertThat(poller.pollOnce().published()).as("unchanged: only listed").isZero();
        assertThat(fx.orderReads()).isEqualTo(reads);

        fx.emulator.store().repairOrderBehindTheApi(id, Map.of("statusId", "P"));  // the date kept, as a same-second save
        assertThat(poller.pollOnce().published()).isEqualTo(1);
        assertThat(publishedOf("n1", 2)).extracting(e -> String.valueOf(e.getStatusId()), OrderChanged::getVersion)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("N", null), org.assertj.core.groups.Tuple.tuple("P", null));
    }

    /** The events published for a site's orders, in topic order, once at least {@code atLeast} are there. */
    private List<OrderChanged> publishedOf(String site, int atLeast) {
        return StoreFixture.withKeyPrefix(StoreFixture.read(KAFKA, fx.topics.orderChanges(),
                all -> StoreFixture.withKeyPrefix(all, site + ":").size() >= atLeast, Duration.ofSeconds(15)), site + ":").stream()
                .map(ConsumerRecord::value).toList();
    }

    @Test
    void anIdlePollerListsButReadsAndRepublishesNothing() {
        // issue 14: the overlap window re-included the newest order, which was read and republished every interval
        List<Long> ids = seed("i1", 3);
        ChangePoller poller = poller("i1", cursorStore());
        assertThat(poller.pollOnce().published()).isEqualTo(3);
        int callsBefore = fx.emulator.calls().all().size();

        for (int round = 0; round < 3; round++) {
            fx.clock.advance(Duration.ofSeconds(30));
            ChangePoller.Round idle = poller.pollOnce();
            assertThat(idle.published()).isZero();
        }

        // the listing alone: one sale.order.list with >dateUpdate per round, no read of any order
        List<org.dealbridge.emulator.Call> since = fx.emulator.calls().all().subList(callsBefore, fx.emulator.calls().all().size());
        assertThat(since).allSatisfy(c -> {
            assertThat(c.method()).isEqualTo("sale.order.list");
            assertThat(c.param("filter", ">dateUpdate")).isNotNull();
        });
        assertThat(since).hasSize(3);
        assertThat(publishedPerKey("i1", 3)).containsOnlyKeys(ids.stream().map(id -> Keys.order("i1", id)).toList())
                .allSatisfy((key, count) -> assertThat(count).isEqualTo(1L));
    }

    @Test
    void aPoisonOrderGoesToTheDeadLettersAndTheCursorMovesOn() {
        long good = seed("x1", 1).get(0);
        fx.clock.advance(Duration.ofSeconds(1));
        long poison = fx.emulator.store().addOrder(Map.of("lid", "x1", "currency", "",
                "basketItems", List.of(Map.of("productId", 100, "price", "990.00", "quantity", 1))));
        long after = seed("x1", 1).get(0);

        ChangePoller poller = poller("x1", cursorStore());
        ChangePoller.Round round = poller.pollOnce();

        assertThat(round.published()).isEqualTo(2);
        assertThat(round.deadLettered()).isEqualTo(1);
        assertThat(round.cursor().toInstant()).isEqualTo(dateUpdateOf(after).toInstant());
        Map<String, Long> perKey = publishedPerKey("x1", 2);
        assertThat(perKey).containsOnlyKeys(Keys.order("x1", good), Keys.order("x1", after));
        List<ConsumerRecord<String, DeadLetter>> letters = StoreFixture.read(KAFKA, fx.topics.deadLetters(),
                all -> all.stream().anyMatch(r -> "x1".equals(r.value().getSiteId())), Duration.ofSeconds(10));
        assertThat(letters).filteredOn(r -> "x1".equals(r.value().getSiteId())).singleElement().satisfies(r -> {
            assertThat(r.value().getComponent()).isEqualTo(StorePoller.COMPONENT);
            assertThat(r.value().getReason()).contains("order " + poison).contains("currency");
        });
        assertThat(fx.meters.find(IngestMetrics.DEAD_LETTERS).tag("component", StorePoller.COMPONENT).counter().count()).isEqualTo(1);

        // the next round starts past the poison order: only the cursor's own second is listed again
        assertThat(poller.pollOnce().listed()).isEqualTo(1);
    }

    @Test
    void aPortalOutageEndsTheRoundWithoutMovingTheCursorAndTheNextRoundCatchesUp() {
        List<Long> ids = seed("t1", 3);
        ChangePoller poller = poller("t1", cursorStore());
        // more failures than the client's two attempts: the first order cannot be read in this round
        fx.emulator.faults().failNext(Portal.STORE, "batch", 2, Fault.HTTP_500);

        ChangePoller.Round failed = poller.pollOnce();
        assertThat(failed.interrupted()).isTrue();
        assertThat(failed.published()).isZero();
        assertThat(failed.cursor().toInstant()).isEqualTo(LONG_AGO.toInstant());

        ChangePoller.Round next = poller.pollOnce();
        assertThat(next.interrupted()).isFalse();
        assertThat(next.published()).isEqualTo(3);
        assertThat(publishedPerKey("t1", 3)).containsOnlyKeys(ids.stream().map(id -> Keys.order("t1", id)).toList());
        assertThat(StoreFixture.read(KAFKA, fx.topics.deadLetters(), all -> false, Duration.ofMillis(500)))
                .noneMatch(r -> "t1".equals(r.value().getSiteId()));
    }

    @Test
    void settingsRefuseAnOverlapBelowTheDatePrecision() {
        assertThatThrownBy(() -> new StorePoller.Settings("s1", Duration.ofSeconds(30), Duration.ofMillis(500), LONG_AGO))
                .hasMessageContaining("at least 1 s");
        assertThatThrownBy(() -> new StorePoller.Settings("s:1", Duration.ofSeconds(30), Duration.ofSeconds(1), LONG_AGO))
                .hasMessageContaining("'s:1'");
    }

}
