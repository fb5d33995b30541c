package org.dealbridge.orderevents;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.dealbridge.emulator.EventDelivery;
import org.dealbridge.emulator.NewOrder;
import org.dealbridge.emulator.Portal;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.schemas.ChangeSource;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.OrderChanged;
import org.dealbridge.ingestion.RefreshQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The whole push path: the emulator fires ONSALEORDERSAVED at our hook over HTTP, the event lands on a real broker. */
class StoreHookTest {
    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();
    private static final String TOKEN = "t0k3n-for-the-store-hook-42";

    private StoreFixture fx;
    private OrderPublisher publisher;
    private RefreshQueue queue;
    private HttpServer server;
    private String hookUrl;

    @BeforeAll
    static void topics() {
        StoreFixture.createTopics(KAFKA);
    }

    @BeforeEach
    void start() throws Exception {
        fx = new StoreFixture();
        publisher = new OrderPublisher(fx.producerConfig(KAFKA), fx.topics, fx.metrics, Clock.systemUTC());
        OrderIngest ingest = new OrderIngest(fx.reader(), publisher);
        queue = new RefreshQueue(ids -> ingest.refresh(ids, ChangeSource.STORE_HOOK, StoreHookHandler.COMPONENT, null),
                new RefreshQueue.Settings("test-refresh", Duration.ZERO, 1, 1000, Duration.ofMillis(100), Duration.ofSeconds(1)));
        queue.open();
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/hooks/store", new StoreHookHandler(TOKEN, StoreHookHandler.DEFAULT_MAX_BODY_BYTES, queue, fx.metrics,
                orderId -> publisher.publishDeleted("h9", orderId)));
        server.start();
        hookUrl = "http://127.0.0.1:" + server.getAddress().getPort() + "/hooks/store";
    }

    @AfterEach
    void stop() {
        server.stop(0);
        queue.close();
        publisher.close();
        fx.close();
    }

    private void settle() throws InterruptedException {
        assertThat(fx.emulator.events().awaitIdle(Duration.ofSeconds(10))).isTrue();
        assertThat(queue.awaitIdle(10, TimeUnit.SECONDS)).isTrue();
        publisher.flush();
    }

    private List<ConsumerRecord<String, OrderChanged>> eventsFor(String site, long orderId, int atLeast, Duration wait) {
        String key = Keys.order(site, orderId);
        return StoreFixture.read(KAFKA, fx.topics.orderChanges(),
                all -> all.stream().filter(r -> r.key().equals(key)).count() >= atLeast, wait)
                .stream().filter(r -> r.key().equals(key)).toList();
    }

    @Test
    void theRightTokenPublishesTheOrderWithCauseStoreHook() throws Exception {
        fx.emulator.subscribeStore(hookUrl, TOKEN, "ONSALEORDERSAVED");
        long id = fx.emulator.store().addOrder(NewOrder.create().site("h1").status("N").item(201, "T-shirt M", "1500.00", 1)
                .property("EMAIL", "a@b.c"));
        settle();

        List<ConsumerRecord<String, OrderChanged>> events = eventsFor("h1", id, 1, Duration.ofSeconds(10));
        assertThat(events).hasSize(1);
        OrderChanged event = events.get(0).value();
        assertThat(event.getCause().getSource()).isEqualTo(ChangeSource.STORE_HOOK);
        assertThat(event.getItems().get(0).getParentProductId()).isEqualTo(200L);
        assertThat(event.getBuyer().getEmail()).isEqualTo("a@b.c");
        assertThat(fx.meters.find(IngestMetrics.EVENTS_IN).tag("source", "store_hook").counter().count()).isEqualTo(1);
    }

    @Test
    void anOrderDeletedInTheStoreIsPublishedAsADeletionWithoutReadingIt() throws Exception {
        long id = fx.emulator.store().addOrder(NewOrder.create().site("h9").status("N").item(100, "Puzzle 500", "990.00", 1));
        fx.emulator.subscribeStore(hookUrl, TOKEN, "ONSALEBEFOREORDERDELETE");
        int reads = fx.orderReads();

        fx.emulator.store().deleteOrderAsHuman(id);
        settle();

        List<ConsumerRecord<String, OrderChanged>> events = eventsFor("h9", id, 1, Duration.ofSeconds(10));
        assertThat(events).singleElement().satisfies(r -> {
            assertThat(r.value().getDeleted()).isTrue();
            assertThat(r.value().getCause().getSource()).isEqualTo(ChangeSource.STORE_HOOK);
        });
        assertThat(fx.orderReads()).as("a deleted order cannot be read").isEqualTo(reads);
        assertThat(fx.emulator.events().deliveries()).allSatisfy(d -> assertThat(d.httpStatus()).isEqualTo(200));
    }

    @Test
    void aWrongTokenIs401AndNothingIsPublished() throws Exception {
        fx.emulator.subscribeStore(hookUrl, "not-the-token", "ONSALEORDERSAVED");
        long id = fx.emulator.store().addOrder(NewOrder.create().site("h2").item(100, "Puzzle 500", "990.00", 1));
        settle();

        List<EventDelivery> deliveries = fx.emulator.events().deliveries();
        assertThat(deliveries).isNotEmpty().allSatisfy(d -> assertThat(d.httpStatus()).isEqualTo(401));
        assertThat(fx.orderReads()).isZero();
        assertThat(eventsFor("h2", id, 1, Duration.ofSeconds(2))).isEmpty();
        assertThat(fx.meters.find(IngestMetrics.HOOK_REJECTED).tag("reason", "bad_token").counter().count()).isEqualTo(1);
    }

    @Test
    void aBurstOfTenSavesForOneOrderCostsAtMostTwoReadsAndEndsInTheLastState() throws Exception {
        long id = fx.emulator.store().addOrder(NewOrder.create().site("h3").status("N").item(100, "Puzzle 500", "990.00", 1));
        fx.emulator.subscribeStore(hookUrl, TOKEN, "ONSALEORDERSAVED");
        // a slow read keeps the first refresh busy while the rest of the burst arrives
        fx.emulator.faults().slow(Portal.STORE, "sale.basketitem.list", Duration.ofMillis(400));
        String[] statuses = {"P", "N", "P", "S", "P", "N", "P", "S", "P", "F"};
        for (String status : statuses) {
            fx.emulator.store().updateOrderAsHuman(id, Map.of("statusId", status));
        }
        settle();

        assertThat(fx.emulator.events().deliveries()).hasSize(10).allSatisfy(d -> assertThat(d.delivered()).isTrue());
        int reads = fx.orderReads(id);
        assertThat(reads).isBetween(1, 2);
        List<ConsumerRecord<String, OrderChanged>> events = eventsFor("h3", id, reads, Duration.ofSeconds(10));
        assertThat(events).hasSize(reads);
        assertThat(events.get(events.size() - 1).value().getStatusId()).isEqualTo("F");
    }

    @Test
    void aPollerReadOfAnOlderStateCannotLandAfterTheHooksNewerOne() throws Exception {
        long id = fx.emulator.store().addOrder(NewOrder.create().site("h4").status("N").item(100, "Puzzle 500", "990.00", 1));
        OrderIngest ingest = new OrderIngest(fx.reader(), publisher);
        // the poller's read of the order is quick, its catalog lookup slow: it holds the old state for a while
        fx.emulator.faults().slow(Portal.STORE, "catalog.product.get", Duration.ofMillis(1500));
        java.util.concurrent.CompletableFuture<OrderIngest.Outcome> poll = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> ingest.ingest(id, ChangeSource.STORE_POLL, StorePoller.COMPONENT, "h4"));
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (fx.emulator.calls().count(Portal.STORE, "sale.order.get") < 1 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        Thread.sleep(200); // the poller is now inside its slow catalog call
        fx.emulator.faults().clear(Portal.STORE);
        fx.emulator.store().updateOrderAsHuman(id, Map.of("statusId", "P"));
        ingest.ingest(id, ChangeSource.STORE_HOOK, StoreHookHandler.COMPONENT, null); // the hook path reads the new state while the poller still holds the old one
        poll.get(10, TimeUnit.SECONDS);
        publisher.flush();

        List<ConsumerRecord<String, OrderChanged>> events = eventsFor("h4", id, 2, Duration.ofSeconds(10));
        assertThat(events).hasSize(2);
        assertThat(events.get(1).value().getStatusId()).as("the state read last is the record written last").isEqualTo("P");
    }

    @Test
    void anOrderThatVanishesBeforeItIsReadBecomesADeadLetter() throws Exception {
        fx.emulator.subscribeStore(hookUrl, TOKEN, "ONSALEORDERSAVED");
        // an event naming an order the store no longer has (deleted between save and read)
        String body = "event=ONSALEORDERSAVED&data%5BFIELDS%5D%5BID%5D=777777&auth%5Bapplication_token%5D=" + TOKEN;
        var http = java.net.http.HttpClient.newHttpClient();
        var response = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(hookUrl))
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        settle();

        var letters = StoreFixture.read(KAFKA, fx.topics.deadLetters(),
                all -> all.stream().anyMatch(r -> r.value().getReason().contains("777777")), Duration.ofSeconds(10));
        assertThat(letters).filteredOn(r -> r.value().getReason().contains("777777")).singleElement().satisfies(r -> {
            assertThat(r.value().getComponent()).isEqualTo(StoreHookHandler.COMPONENT);
            assertThat(r.value().getReason()).contains("order 777777 does not exist");
        });
        assertThat(eventsFor("s1", 777777, 1, Duration.ofSeconds(1))).isEmpty();
    }
}
