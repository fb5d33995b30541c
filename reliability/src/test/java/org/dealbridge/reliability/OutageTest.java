package org.dealbridge.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.dealbridge.app.config.ConfigLoader;
import org.dealbridge.app.runtime.DealBridgeRuntime;
import org.dealbridge.dealprojector.crm.CrmConnector;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.emulator.Fault;
import org.dealbridge.emulator.NewOrder;
import org.dealbridge.emulator.Portal;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.schemas.OrderChanged;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * An outage longer than the connectors' retry budget (shortened here to a few seconds): the port is closed for 10 s
 * (connections refused), then the CRM answers HTML 502 pages and the store 500 until 25 s (at the same time, to keep CI
 * short); then the CRM applies writes and drops the connection, and holds requests until they time out. The CRM
 * connector waits instead of dead-lettering: everything that arrived meanwhile - orders published to Kafka and orders
 * placed in the store - is synced afterwards with exactly one correct deal each (product rows included), no command is
 * dead-lettered, and {@code /health/ready} says DEGRADED, with the connector waiting, while the outage lasts.
 */
class OutageTest {
    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dir;

    @Test
    void ordersArrivingDuringAnOutageLongerThanTheRetryBudgetWaitAndAreSyncedAfterwardsOnceEachWithoutDeadLetters() throws Exception {
        String storeToken = "storetoken" + UUID.randomUUID().toString().replace("-", "");
        try (BitrixEmulator emulator = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled().timeoutHold(Duration.ofSeconds(20)))) {
            SyncScenario.seedCrm(emulator);
            emulator.store().addStatus("N", "Accepted");
            emulator.store().addPaySystem(1, "Cash", true);
            emulator.store().addSection(10, null, "Catalog");
            emulator.store().addSection(OrderStream.BOOKS, 10L, "Books");
            emulator.store().addProduct(1101, "Novel", OrderStream.BOOKS, new BigDecimal("300.00"));
            Map<String, String> env = SyncScenario.runtimeEnv(dir.resolve("data"), KAFKA.bootstrapServers(), emulator);
            env.put("DEALBRIDGE_KAFKA_TOPIC_PARTITIONS", "2");
            env.put("DEALBRIDGE_STORE_APPLICATION_TOKEN", storeToken);
            env.put("DEALBRIDGE_STORE_POLL_INTERVAL", "PT3S");
            env.put("DEALBRIDGE_CRM_RATE_REQUESTS_PER_SECOND", "50");
            // a retry budget of a few seconds, so that the outage outlasts it many times over within CI's time
            for (String side : List.of("CRM", "STORE")) {
                env.put("DEALBRIDGE_" + side + "_MAX_ATTEMPTS", "3");
                env.put("DEALBRIDGE_" + side + "_INITIAL_BACKOFF", "200");
                env.put("DEALBRIDGE_" + side + "_MAX_BACKOFF", "1000");
                env.put("DEALBRIDGE_" + side + "_UNREACHABLE_BACKOFF_MAX", "3000");
            }
            try (DealBridgeRuntime runtime = DealBridgeRuntime.start(ConfigLoader.load(null, env));
                 SyncScenario scenario = new SyncScenario(KAFKA.bootstrapServers(), emulator)) {
                emulator.subscribeStore("http://127.0.0.1:" + runtime.httpPort() + "/hooks/store", storeToken, "ONSALEORDERSAVED");
                scenario.publishMapping();
                Map<Long, OrderChanged> expected = new HashMap<>();
                try (KafkaProducer<String, byte[]> producer = scenario.producer()) {
                    OrderChanged before = OrderStream.order(1000, "N", OrderStream.BOOKS, 300, Instant.now());
                    producer.send(scenario.record(before)).get();
                    expected.put(1000L, before);
                }
                assertThat(scenario.awaitExact(expected, Duration.ofSeconds(60)).exact()).as("synced before the outage").isTrue();

                // connections refused for 10 s; when the port listens again, HTML 502 pages (CRM) and 500s (store) until 25 s
                Instant outageEnds = Instant.now().plusSeconds(25);
                emulator.faults().outage(Portal.CRM, Duration.ofSeconds(25), Fault.HTTP_502_HTML);
                emulator.faults().outage(Portal.STORE, Duration.ofSeconds(25), Fault.HTTP_500);
                emulator.refuseConnections(Duration.ofSeconds(10));
                List<Long> storeOrders = new ArrayList<>();
                try (KafkaProducer<String, byte[]> producer = scenario.producer()) {
                    for (long id = 1001; id <= 1020; id++) {  // store order ids start at 1: no overlap
                        OrderChanged change = OrderStream.order(id, id % 2 == 0 ? "N" : "P", id % 3 == 0 ? OrderStream.ELECTRONICS : OrderStream.BOOKS,
                                100 + (int) id, Instant.now());
                        producer.send(scenario.record(change)).get();
                        expected.put(id, change);
                        if (id % 4 == 0) {  // and orders placed in the store while it fails
                            storeOrders.add(emulator.store().addOrder(NewOrder.create().status("N").item(1101, "Novel", new BigDecimal("300.00"), 1)
                                    .payment(1, new BigDecimal("300.00"), false)));
                        }
                        Thread.sleep(500);
                    }
                }
                String waiting = awaitHealthContaining(runtime, "\"crm-connector\" : {\n      \"status\" : \"DEGRADED\"", outageEnds);
                assertThat(waiting).as("/health/ready during the outage: the CRM connector waits for the CRM")
                        .startsWith("{\n  \"status\" : \"DEGRADED\"")
                        .contains("\"crm-connector\" : {\n      \"status\" : \"DEGRADED\"", "waiting: the side it writes has been unreachable")
                        .doesNotContain(emulator.crmWebhookUrl());
                assertThat(emulator.crm().deals()).as("nothing reached the CRM during its outage").hasSize(1);

                Thread.sleep(Math.max(0, Duration.between(Instant.now(), outageEnds).toMillis()));
                // the CRM is back but flaky: writes applied with the answer lost, requests held until they time out
                emulator.faults().failNext(Portal.CRM, "crm.deal.add", 3, Fault.APPLY_THEN_DROP);
                emulator.faults().failNext(Portal.CRM, "crm.deal.update", 2, Fault.APPLY_THEN_DROP);
                emulator.faults().failNext(Portal.CRM, "batch", 1, Fault.TIMEOUT);

                java.util.function.BooleanSupplier storeOrdersSynced = () -> storeOrders.stream().allMatch(
                        o -> !emulator.crm().dealsByOrigin(SyncScenario.ORIGINATOR, Long.toString(o)).isEmpty());
                long deadline = System.nanoTime() + Duration.ofSeconds(150).toNanos();
                SyncScenario.Verdict verdict = scenario.verify(expected);
                while (System.nanoTime() < deadline && !(storeOrdersSynced.getAsBoolean() && verdict.missing().isEmpty()
                        && verdict.inconsistent().isEmpty() && verdict.duplicated().isEmpty())) {
                    Thread.sleep(500);
                    verdict = scenario.verify(expected);
                }
                Thread.sleep(2_000);  // a late duplicate would show up now
                verdict = scenario.verify(expected);
                assertThat(verdict.strayDeals()).as("deals not from the Kafka orders: the store's orders").hasSize(storeOrders.size());
                assertThat(verdict.missing()).isEmpty();
                assertThat(verdict.duplicated()).isEmpty();
                assertThat(verdict.inconsistent()).isEmpty();
                for (long storeOrder : storeOrders) {
                    assertThat(emulator.crm().dealsByOrigin(SyncScenario.ORIGINATOR, Long.toString(storeOrder)))
                            .as("deals of store order " + storeOrder).hasSize(1);
                }
                // the CRM connector waited through the outage: not one of its commands was given up
                assertThat(scenario.deadLetters()).as("dead letters of the CRM connector")
                        .noneMatch(l -> CrmConnector.COMPONENT.equals(String.valueOf(l.getComponent())));
                // a hook event whose order could not be read during the store outage may be dead-lettered (order-events'
                // decision); the poller covers it afterwards, as the store orders' deals above show. Nothing else may be.
                assertThat(scenario.deadLetters()).allSatisfy(l -> assertThat(l.getReason().toString())
                        .contains("could not be read").contains("transient").doesNotContain(emulator.storeWebhookUrl()));
                // the connector no longer waits (the portal's own health stays DEGRADED for its window after the last error)
                String healthy = awaitHealthContaining(runtime, "\"crm-connector\" : {\n      \"status\" : \"UP\"", Instant.now().plusSeconds(30));
                assertThat(healthy).contains("\"crm-connector\" : {\n      \"status\" : \"UP\"")
                        .doesNotContain(emulator.crmWebhookUrl()).doesNotContain(emulator.storeWebhookUrl());
            }
        }
    }

    private static String awaitHealthContaining(DealBridgeRuntime runtime, String text, Instant until) throws Exception {
        String body = "";
        while (Instant.now().isBefore(until)) {
            body = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + runtime.httpPort() + "/health/ready")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            if (body.contains(text)) {
                return body;
            }
            Thread.sleep(500);
        }
        return body;
    }
}
