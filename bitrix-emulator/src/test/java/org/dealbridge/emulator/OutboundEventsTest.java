package org.dealbridge.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Events go to a real HTTP handler (the role our own service plays), not to a mock. */
class OutboundEventsTest {
    private BitrixEmulator emu;
    private HttpServer handler;
    private final List<Map<String, String>> received = new CopyOnWriteArrayList<>();
    private final List<String> contentTypes = new CopyOnWriteArrayList<>();
    private final AtomicInteger answerStatus = new AtomicInteger(200);

    @BeforeEach
    void start() throws IOException {
        emu = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled().eventDeliveryTimeout(Duration.ofSeconds(2)));
        handler = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        handler.createContext("/hook", ex -> {
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            Map<String, String> form = new LinkedHashMap<>();
            for (String pair : body.split("&")) {
                int eq = pair.indexOf('=');
                form.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                        URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
            received.add(form);
            contentTypes.add(ex.getRequestHeaders().getFirst("Content-Type"));
            ex.sendResponseHeaders(answerStatus.get(), -1);
            ex.close();
        });
        handler.start();
    }

    @AfterEach
    void stop() {
        emu.close();
        handler.stop(0);
    }

    private String hookUrl() {
        return "http://127.0.0.1:" + handler.getAddress().getPort() + "/hook";
    }

    private void awaitIdle() throws InterruptedException {
        assertThat(emu.events().awaitIdle(Duration.ofSeconds(10))).isTrue();
    }

    @Test
    void dealAddAndUpdateAreDeliveredOnceAsFormWithApplicationToken() throws Exception {
        int handlerId = emu.subscribeCrm(hookUrl(), "app-token-1", "ONCRMDEALADD", "ONCRMDEALUPDATE");
        long id = Rest.crm(emu, "crm.deal.add", Map.of("fields", Map.of("TITLE", "evt"))).result().asLong();
        Rest.crm(emu, "crm.deal.update", Map.of("id", id, "fields", Map.of("TITLE", "evt2")));
        awaitIdle();
        assertThat(received).hasSize(2);
        Map<String, String> add = received.get(0);
        assertThat(add.get("event")).isEqualTo("ONCRMDEALADD");
        assertThat(add.get("event_handler_id")).isEqualTo(Integer.toString(handlerId));
        assertThat(add.get("data[FIELDS][ID]")).isEqualTo(Long.toString(id));
        assertThat(add.get("auth[application_token]")).isEqualTo("app-token-1");
        assertThat(add.get("auth[client_endpoint]")).isEqualTo(emu.baseUrl() + "/rest/");
        assertThat(add.get("auth[domain]")).isEqualTo(emu.baseUrl().substring("http://".length()));
        assertThat(add.get("auth[server_endpoint]")).isEqualTo("https://oauth.bitrix.info/rest/");
        assertThat(add.get("auth[member_id]")).matches("[0-9a-f]{32}");
        assertThat(add.get("ts")).matches("\\d+");
        assertThat(received.get(1).get("event")).isEqualTo("ONCRMDEALUPDATE");
        assertThat(contentTypes).allMatch(ct -> ct.startsWith("application/x-www-form-urlencoded"));
        assertThat(emu.events().delivered()).isEqualTo(2);
        assertThat(emu.events().lost()).isZero();
        // the token is masked in the inspectable record
        assertThat(emu.events().deliveries().get(0).form().get("auth[application_token]")).isEqualTo("***");
    }

    @Test
    void humanEditsFireEventsAndPipelineMovesFireOnlyMoveToCategory() throws Exception {
        emu.crm().addPipeline(1, "Shop");
        emu.subscribeCrm(hookUrl(), "t", "ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE", "ONCRMDEALMOVETOCATEGORY");
        long id = emu.crm().addDealAsHuman(Map.of("TITLE", "manual"));
        emu.crm().updateDealAsHuman(id, Map.of("STAGE_ID", "EXECUTING"));
        Rest.crm(emu, "crm.item.update", Map.of("entityTypeId", 2, "id", id, "fields", Map.of("categoryId", 1)));
        emu.crm().deleteDealAsHuman(id);
        awaitIdle();
        assertThat(received).extracting(f -> f.get("event"))
                .containsExactly("ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALMOVETOCATEGORY", "ONCRMDEALDELETE");
        assertThat(received.get(2).get("data[FIELDS][CATEGORY_ID]")).isEqualTo("1");
        assertThat(received.get(2).get("data[FIELDS][STAGE_ID]")).isEqualTo("C1:NEW");
    }

    @Test
    void aManagerAddingProductRowsSavesTheDealAndFiresOneUpdate() throws Exception {
        emu.subscribeCrm(hookUrl(), "t", "ONCRMDEALUPDATE");
        long id = emu.crm().addDealAsHuman(Map.of("TITLE", "walk-in"));
        emu.crm().setProductRowsAsHuman(id, java.util.List.of(Map.of("PRODUCT_ID", 201, "PRODUCT_NAME", "Phone X",
                "PRICE", "49990.00", "QUANTITY", 1)));
        awaitIdle();
        assertThat(received).extracting(f -> f.get("event")).containsExactly("ONCRMDEALUPDATE");
        assertThat(emu.crm().dealProductRows(id)).singleElement()
                .satisfies(r -> assertThat(r.get("PRODUCT_NAME")).isEqualTo("Phone X"));
    }

    @Test
    void onlySubscribedEventsAreSent() throws Exception {
        emu.subscribeCrm(hookUrl(), "t", "ONCRMDEALUPDATE");
        long id = emu.crm().addDealAsHuman(Map.of("TITLE", "x"));
        emu.crm().updateDealAsHuman(id, Map.of("TITLE", "y"));
        awaitIdle();
        assertThat(received).extracting(f -> f.get("event")).containsExactly("ONCRMDEALUPDATE");
    }

    @Test
    void storeOrderSavedCarriesIdXmlIdAndAction() throws Exception {
        emu.subscribeStore(hookUrl(), "store-token", "ONSALEORDERSAVED");
        emu.store().addStatus("P", "Paid");
        long order = emu.store().addOrder(NewOrder.create().xmlId("ext-9").item(0, "x", "5", 1));
        emu.store().updateOrderAsHuman(order, Map.of("statusId", "P"));
        Rest.store(emu, "sale.order.update", Map.of("id", order, "fields", Map.of("comments", "via rest")));
        awaitIdle();
        assertThat(received).hasSize(3);
        Map<String, String> saved = received.get(1);
        assertThat(saved.get("event")).isEqualTo("ONSALEORDERSAVED");
        assertThat(saved.get("data[FIELDS][ID]")).isEqualTo(Long.toString(order));
        assertThat(saved.get("data[FIELDS][XML_ID]")).isEqualTo("ext-9");
        assertThat(saved.get("data[FIELDS][ACTION]")).isEqualTo("save");
        assertThat(saved.get("auth[application_token]")).isEqualTo("store-token");
    }

    @Test
    void aBasketItemAddSavesTheOrderLikeTheOtherSaleWritesAndARejectedOneDoesNot() throws Exception {
        emu.store().addProduct(101, "Sofa", null, "1500.00");
        long order = Rest.store(emu, "sale.order.add", Map.of("fields", Map.of("lid", "s1", "personTypeId", 1, "currency", "RUB",
                "xmlId", "ext-b"))).result().get("order").get("id").asLong();
        emu.subscribeStore(hookUrl(), "store-token", "ONSALEORDERSAVED");
        Rest.Answer rejected = Rest.store(emu, "sale.basketitem.add", Map.of("fields", Map.of("orderId", order, "productId", 999,
                "quantity", 1, "currency", "RUB")));
        assertThat(rejected.status()).isEqualTo(400);
        Rest.Answer added = Rest.store(emu, "sale.basketitem.add", Map.of("fields", Map.of("orderId", order, "productId", 101,
                "quantity", 1, "currency", "RUB")));
        assertThat(added.status()).as(added.raw()).isEqualTo(200);
        Rest.store(emu, "sale.order.update", Map.of("id", order, "fields", Map.of("comments", "marker")));
        awaitIdle();
        // two saves: the accepted add and the marker update; the rejected add fired nothing
        assertThat(received).extracting(f -> f.get("event") + ":" + f.get("data[FIELDS][XML_ID]"))
                .containsExactly("ONSALEORDERSAVED:ext-b", "ONSALEORDERSAVED:ext-b");
    }

    @Test
    void aFailedDeliveryIsLostAndNeverRetried() throws Exception {
        int deadPort;
        try (ServerSocket s = new ServerSocket(0)) {
            deadPort = s.getLocalPort();
        }
        emu.subscribeCrm("http://127.0.0.1:" + deadPort + "/down", "t", "ONCRMDEALADD");
        emu.subscribeCrm(hookUrl(), "t", "ONCRMDEALADD");
        answerStatus.set(500);
        emu.crm().addDealAsHuman(Map.of("TITLE", "lost"));
        awaitIdle();
        Thread.sleep(300); // a retry, if there were one, would arrive now
        assertThat(received).hasSize(1); // the live handler got it exactly once although it answered 500
        assertThat(emu.events().lost()).isEqualTo(2);
        assertThat(emu.events().delivered()).isZero();
        assertThat(emu.events().deliveries()).allMatch(d -> !d.delivered() && d.failure() != null);
        answerStatus.set(200);
        emu.crm().addDealAsHuman(Map.of("TITLE", "next"));
        awaitIdle();
        assertThat(received).hasSize(2);
        assertThat(emu.events().delivered()).isEqualTo(1);
        assertThat(emu.events().lost()).isEqualTo(3);
    }
}
