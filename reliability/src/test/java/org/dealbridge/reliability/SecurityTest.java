package org.dealbridge.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.dealbridge.app.config.ConfigLoader;
import org.dealbridge.app.runtime.DealBridgeRuntime;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.emulator.Fault;
import org.dealbridge.emulator.NewOrder;
import org.dealbridge.emulator.Portal;
import org.dealbridge.kafka.embedded.EmbeddedKafka;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Hooks refuse requests without the right application token, secrets (webhook URLs with their codes, application
 * tokens) appear nowhere - log, /metrics, /health, dead letters, HTTP answers - across a run with failures on both sides,
 * and the admin HTTP surface binds to loopback unless configured otherwise.
 */
class SecurityTest {
    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @TempDir
    Path dir;

    private Map<String, String> env(BitrixEmulator emulator, String storeToken, String crmToken) {
        Map<String, String> env = SyncScenario.runtimeEnv(dir.resolve("data"), KAFKA.bootstrapServers(), emulator);
        env.put("DEALBRIDGE_KAFKA_TOPIC_PARTITIONS", "1");
        env.put("DEALBRIDGE_CRM_APPLICATION_TOKEN", crmToken);
        env.put("DEALBRIDGE_STORE_APPLICATION_TOKEN", storeToken);
        env.put("DEALBRIDGE_STORE_POLL_INTERVAL", "PT2S");
        return env;
    }

    @Test
    void noSecretAppearsInLogsMetricsHealthDeadLettersOrAnswersOfARunWithFailures() throws Exception {
        String crmCode = "crmcode" + UUID.randomUUID().toString().replace("-", "");
        String storeCode = "storecode" + UUID.randomUUID().toString().replace("-", "");
        String storeToken = "storetoken" + UUID.randomUUID().toString().replace("-", "");
        String crmToken = "crmtoken" + UUID.randomUUID().toString().replace("-", "");
        // DealBridge's loggers at DEBUG (request URLs, poll rounds), every event also rendered by each shipped layout
        try (CapturedLog log = CapturedLog.attachRendering("org.dealbridge");
             BitrixEmulator emulator = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled()
                     .crmWebhookCode(crmCode).storeWebhookCode(storeCode))) {
            SyncScenario.seedCrm(emulator);
            emulator.store().addStatus("N", "Accepted");
            emulator.store().addPaySystem(1, "Cash", true);
            try (DealBridgeRuntime runtime = DealBridgeRuntime.start(ConfigLoader.load(null, env(emulator, storeToken, crmToken)));
                 SyncScenario scenario = new SyncScenario(KAFKA.bootstrapServers(), emulator)) {
                String base = "http://127.0.0.1:" + runtime.httpPort();
                emulator.subscribeStore(base + "/hooks/store", storeToken, "ONSALEORDERSAVED");
                emulator.subscribeCrm(base + "/hooks/bitrix24", crmToken, "ONCRMDEALADD", "ONCRMDEALUPDATE");
                scenario.publishMapping();

                StringBuilder answers = new StringBuilder();
                for (String path : List.of("/hooks/store", "/hooks/bitrix24")) {
                    for (String form : List.of("event=X&data%5BFIELDS%5D%5BID%5D=1", "event=X&data%5BFIELDS%5D%5BID%5D=1&auth%5Bapplication_token%5D="
                            + (path.contains("store") ? crmToken : storeToken))) {  // none, and the other side's token
                        HttpResponse<String> r = post(base + path, form);
                        assertThat(r.statusCode()).as(path + " " + form).isEqualTo(401);
                        answers.append(r.body());
                    }
                }
                // failures on both sides: the store fails reads, the CRM drops answers and fails with 500
                emulator.faults().failNext(Portal.STORE, "sale.order.get", 2, Fault.HTTP_500);
                emulator.faults().failNext(Portal.CRM, "crm.deal.add", 1, Fault.APPLY_THEN_DROP);
                emulator.faults().failNext(Portal.CRM, "batch", 2, Fault.HTTP_500);
                long storeOrder = emulator.store().addOrder(NewOrder.create().status("N").item(5, "Unknown product", new BigDecimal("10.00"), 1)
                        .payment(1, new BigDecimal("10.00"), false));
                try (KafkaProducer<String, byte[]> producer = scenario.producer()) {
                    producer.send(scenario.record(OrderStream.order(9001, "N", OrderStream.BOOKS, 100, Instant.now()))).get();
                }
                BadInputTest.await(() -> "deals for store order " + storeOrder + " and order 9001", () ->
                        !emulator.crm().dealsByOrigin(SyncScenario.ORIGINATOR, Long.toString(storeOrder)).isEmpty()
                                && !emulator.crm().dealsByOrigin(SyncScenario.ORIGINATOR, "9001").isEmpty(), scenario);

                // then the CRM fails for a while (503), then its host refuses connections: the failures reach the logs
                // with their stack traces, and /health while a side fails names the error
                emulator.faults().outage(Portal.CRM, Duration.ofSeconds(3), Fault.HTTP_503);
                try (KafkaProducer<String, byte[]> producer = scenario.producer()) {
                    producer.send(scenario.record(OrderStream.order(9002, "N", OrderStream.BOOKS, 100, Instant.now()))).get();
                }
                StringBuilder health = new StringBuilder();
                BadInputTest.await("/health/ready degraded by the CRM's 503s", () -> degraded(base, health));
                emulator.refuseConnections(Duration.ofSeconds(4));
                try (KafkaProducer<String, byte[]> producer = scenario.producer()) {
                    producer.send(scenario.record(OrderStream.order(9003, "N", OrderStream.BOOKS, 100, Instant.now()))).get();
                }
                // a refused call's exception, logged with its stack as DealBridge logs a failed poll round or stream thread
                try (BitrixClient refused = BitrixClient.builder(emulator.crmWebhookUrl()).portal("crm").allowInsecureHttp(true)
                        .retry(1, Duration.ofMillis(10), Duration.ofMillis(10)).build()) {
                    assertThatThrownBy(() -> refused.call("crm.deal.list", Map.of())).satisfies(e ->
                            LoggerFactory.getLogger(SecurityTest.class).error("a call to the refusing CRM failed", e));
                }
                BadInputTest.await("/health/ready degraded by refused connections", () -> degraded(base, health));
                BadInputTest.await(() -> "deals for orders 9002 and 9003 once the CRM is back", () ->
                        !emulator.crm().dealsByOrigin(SyncScenario.ORIGINATOR, "9002").isEmpty()
                                && !emulator.crm().dealsByOrigin(SyncScenario.ORIGINATOR, "9003").isEmpty(), scenario);

                String everything = String.join("\n", log.messages()) + answers
                        + get(base + "/metrics") + get(base + "/health") + health + scenario.deadLetters();
                assertThat(log.messages()).as("the run was logged").isNotEmpty();
                assertThat(log.rendered()).as("DEBUG and stack traces were rendered by the shipped layouts")
                        .contains(" DEBUG ").contains("\"log.level\":\"DEBUG\"").contains("ConnectException").contains("\tat ")
                        .contains("error.stack_trace");
                for (String secret : List.of(crmCode, storeCode, storeToken, crmToken)) {
                    assertThat(everything).as("logs, answers, /metrics, /health, dead letters").doesNotContain(secret);
                    assertThat(log.rendered()).as("the log as each shipped layout prints it").doesNotContain(secret);
                }
            }
        }
    }

    /**
     * A run on a SASL cluster with the Kafka clients' and DealBridge's loggers at DEBUG: the client configs Kafka prints
     * and DealBridge's own description of its client settings show {@code sasl.jaas.config} as {@code [hidden]}.
     */
    @Test
    void theKafkaPasswordAppearsInNoLogAtAnyLevel(@TempDir Path brokerDir) throws Exception {
        String password = "kafkapassword" + UUID.randomUUID().toString().replace("-", "");
        try (EmbeddedKafka broker = EmbeddedKafka.startWithSaslPlain(brokerDir, Map.of("admin", password), Map.of());
             BitrixEmulator emulator = BitrixEmulator.start(EmulatorOptions.defaults());
             CapturedLog log = CapturedLog.attachRendering("org.dealbridge", "org.apache.kafka.clients",
                     "org.apache.kafka.common.security", "org.apache.kafka.common.network", "org.apache.kafka.common.config",
                     "org.apache.kafka.streams.StreamsConfig")) {
            Map<String, String> env = env(emulator, "t1", "t2");
            env.put("DEALBRIDGE_KAFKA_BOOTSTRAP_SERVERS", broker.bootstrapServers());
            EmbeddedKafka.saslClient("admin", password).forEach((k, v) ->
                    env.put(ConfigLoader.ENV_PREFIX + "KAFKA_CLIENT_" + k.toString().toUpperCase(java.util.Locale.ROOT).replace('.', '_'), v.toString()));
            try (DealBridgeRuntime runtime = DealBridgeRuntime.start(ConfigLoader.load(null, env))) {
                BadInputTest.await("the runtime's Kafka clients started", () -> log.rendered().contains("sasl.jaas.config = [hidden]"));
                assertThat(log.rendered()).as("the Kafka clients' DEBUG lines were rendered").contains("DEBUG");
                assertThat(log.rendered() + String.join("\n", log.messages()) + get("http://127.0.0.1:" + runtime.httpPort() + "/health"))
                        .doesNotContain(password);
            }
        }
    }

    @Test
    void theHooksCompareTokensInConstantTime() throws Exception {
        // a timing test would be flaky on a shared 2-core machine; the property is the comparison used
        Path root = Path.of(System.getProperty("user.dir")).getParent();
        // both hooks check calls through bitrix-rest's EventHook
        for (String source : List.of("bitrix-rest/src/main/java/org/dealbridge/bitrix/events/EventHook.java")) {
            String code = Files.readString(root.resolve(source));
            assertThat(code).as(source).contains("MessageDigest.isEqual(applicationToken").doesNotContain("applicationToken.equals(");
        }
    }

    @Test
    void theAdminHttpServerListensOnLoopbackOnlyUnlessConfiguredOtherwise() throws Exception {
        Optional<InetAddress> external = Collections.list(NetworkInterface.getNetworkInterfaces()).stream()
                .flatMap(i -> Collections.list(i.getInetAddresses()).stream())
                .filter(a -> a instanceof Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress()).findFirst();
        Assumptions.assumeTrue(external.isPresent(), "this machine has no non-loopback address to try");
        try (BitrixEmulator emulator = BitrixEmulator.start(EmulatorOptions.defaults())) {
            Map<String, String> env = env(emulator, "t1", "t2");
            try (DealBridgeRuntime runtime = DealBridgeRuntime.start(ConfigLoader.load(null, env))) {
                assertThat(HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + runtime.httpPort() + "/health")).build(),
                        HttpResponse.BodyHandlers.ofString()).statusCode()).isIn(200, 503);
                assertThatThrownBy(() -> new Socket(external.get(), runtime.httpPort()).close())
                        .as("the default bind address is loopback").isInstanceOf(java.net.ConnectException.class);
            }
            env.put("DEALBRIDGE_HTTP_BIND_ADDRESS", "0.0.0.0");
            try (DealBridgeRuntime runtime = DealBridgeRuntime.start(ConfigLoader.load(null, env))) {
                new Socket(external.get(), runtime.httpPort()).close();  // reachable once configured so
            }
        }
    }

    @Test
    void theWebhooksGetAListenerOfTheirOwnWhoseSlowClientsCannotStallTheHealthChecks() throws Exception {
        try (BitrixEmulator emulator = BitrixEmulator.start(EmulatorOptions.defaults())) {
            Map<String, String> env = env(emulator, "t1", "t2");
            env.put("DEALBRIDGE_HTTP_HOOKS_PORT", "0");
            try (DealBridgeRuntime runtime = DealBridgeRuntime.start(ConfigLoader.load(null, env))) {
                String admin = "http://127.0.0.1:" + runtime.httpPort();
                String hooks = "http://127.0.0.1:" + runtime.hooksPort();
                assertThat(runtime.hooksPort()).isNotEqualTo(runtime.httpPort());
                String form = "event=ONSALEORDERSAVED&data%5BFIELDS%5D%5BID%5D=1&auth%5Bapplication_token%5D=wrong";
                assertThat(post(hooks + "/hooks/store", form).statusCode()).as("the hook on its own port").isEqualTo(401);
                assertThat(post(hooks + "/hooks/bitrix24", form).statusCode()).isEqualTo(401);
                assertThat(post(admin + "/hooks/store", form).statusCode()).as("no hook on the admin port").isEqualTo(404);
                assertThat(HTTP.send(HttpRequest.newBuilder(URI.create(hooks + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).statusCode()).as("no metrics on the hooks' port").isEqualTo(404);

                // far more slow clients than the hooks' listener has threads: each sends half a request and waits
                List<Socket> slow = new java.util.ArrayList<>();
                try {
                    for (int i = 0; i < 64; i++) {
                        Socket s = new Socket("127.0.0.1", runtime.hooksPort());
                        s.getOutputStream().write(("POST /hooks/store HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nevent=")
                                .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                        s.getOutputStream().flush();
                        slow.add(s);
                    }
                    HttpResponse<String> live = HTTP.send(HttpRequest.newBuilder(URI.create(admin + "/health/live"))
                            .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                    assertThat(live.statusCode()).isEqualTo(200);
                    HttpResponse<String> ready = HTTP.send(HttpRequest.newBuilder(URI.create(admin + "/health/ready"))
                            .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                    assertThat(ready.statusCode()).isIn(200, 503);
                    assertThat(HTTP.send(HttpRequest.newBuilder(URI.create(admin + "/metrics")).timeout(Duration.ofSeconds(5)).build(),
                            HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
                } finally {
                    for (Socket s : slow) {
                        s.close();
                    }
                }
            }
        }
    }

    /** True when /health/ready reports a degraded or down side; both answers (/health and /health/ready) go to {@code seen}. */
    private static boolean degraded(String base, StringBuilder seen) {
        try {
            String ready = get(base + "/health/ready");
            seen.append(ready).append(get(base + "/health"));
            return ready.contains("DEGRADED") || ready.contains("DOWN");
        } catch (Exception e) {
            return false;
        }
    }

    private static HttpResponse<String> post(String url, String form) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String get(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }
}
