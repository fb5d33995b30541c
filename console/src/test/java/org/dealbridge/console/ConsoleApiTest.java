package org.dealbridge.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.bitrix.crm.CrmApi;
import org.dealbridge.bitrix.store.StoreApi;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.mapping.MappingTopics;
import org.dealbridge.mapping.cli.MappingCliContext;
import org.dealbridge.mapping.cli.MappingCommand;
import org.dealbridge.operations.DeadLetterQueue;
import org.dealbridge.schemas.Buyer;
import org.dealbridge.schemas.ChangeCause;
import org.dealbridge.schemas.ChangeSource;
import org.dealbridge.schemas.DeadLetter;
import org.dealbridge.schemas.OrderChanged;
import org.dealbridge.schemas.Outcome;
import org.dealbridge.schemas.SyncDirection;
import org.dealbridge.schemas.SyncOutcome;
import org.dealbridge.schemas.Topics;
import org.dealbridge.schemas.registry.InMemorySchemaRegistry;
import org.dealbridge.schemas.registry.SchemaRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every endpoint of the console's API over real HTTP, on a real broker and the emulated portals, with its refusals:
 * signed out, a wrong token, a missing or wrong CSRF token, an invalid mapping (the same errors the CLI prints).
 */
class ConsoleApiTest {
    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();
    static final String TOKEN = "console-test-token-0123456789";
    static final ObjectMapper JSON = new ObjectMapper();
    static final String VALID = """
            site: s1
            pipelines:
              default: 0
              bySection:
                - { section: 12, pipeline: 2 }
            stages:
              "0":
                - { stage: NEW, status: N }
                - { stage: WON, status: F }
              "2":
                - { stage: "C2:NEW", status: N }
            responsible:
              default: 1
              byPipeline: { "2": 9 }
            payment:
              default: 1
            """;

    static SchemaRegistry registry;
    static Topics topics;
    static BitrixEmulator emulator;
    static BitrixClient crmClient;
    static BitrixClient storeClient;
    static HttpServer server;
    static String base;
    static final List<Long> resynced = new java.util.concurrent.CopyOnWriteArrayList<>();
    static final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        for (Topics.Definition d : Topics.DEFINITIONS) {
            KAFKA.createTopics(d.singlePartition() ? 1 : 3, d.configs(), d.name());
        }
        registry = new InMemorySchemaRegistry();
        topics = new Topics(registry);
        emulator = BitrixEmulator.start();
        emulator.crm().addPipeline(2, "Wholesale");
        emulator.crm().addUser(9, "Ivan", true);
        emulator.crm().addUser(5, "Gone", false);
        emulator.crm().addDealUserField("UF_CRM_PAY_SYSTEM", "string");
        emulator.store().addPaySystem(1, "Cash", true);
        emulator.store().addSection(12, null, "Tools");
        emulator.store().addSection(13, 12L, "Drills");
        crmClient = client(emulator.crmWebhookUrl(), "crm");
        storeClient = client(emulator.storeWebhookUrl(), "store");
        ConsoleSources sources = new ConsoleSources(KAFKA.clientProperties(), topics, MappingTopics.of(registry),
                Optional.of(new CrmApi(crmClient)), Optional.of(new StoreApi(storeClient)), "s1",
                () -> Map.of("kafka", new ConsoleSources.RoleHealth("UP", "1 broker(s)")),
                Optional.of(orderId -> {
                    resynced.add(orderId);
                    return "QUEUED";
                }));
        Console console = new Console(sources, new ConsoleAccess(TOKEN, "X-Test-User", Clock.systemUTC()), Clock.systemUTC());
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        console.routes().forEach(server::createContext);
        server.createContext("/link", exchange -> {
            ConsoleApi.respond(exchange, 200, "text/plain", console.oneTimeSignInLink(""));
            exchange.close();
        });
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterAll
    static void stop() {
        server.stop(0);
        crmClient.close();
        storeClient.close();
        emulator.close();
    }

    private static BitrixClient client(String url, String portal) {
        return BitrixClient.builder(url).portal(portal).meterRegistry(new SimpleMeterRegistry())
                .rateLimit(1000, 1000).callTimeout(Duration.ofSeconds(5)).build();
    }

    // ---- HTTP helpers -------------------------------------------------------------------------------------------

    record Reply(int status, JsonNode json, String text, HttpResponse<String> response) {
    }

    static Reply call(String method, String path, Object body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(120))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body instanceof String s ? s : JSON.writeValueAsString(body)));
        if (headers.length > 0) {
            b.headers(headers);
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode json = null;
        if (r.headers().firstValue("Content-Type").orElse("").startsWith("application/json")) {
            json = JSON.readTree(r.body());
        }
        return new Reply(r.statusCode(), json, r.body(), r);
    }

    static Reply bearer(String method, String path, Object body) throws Exception {
        return call(method, path, body, "Authorization", "Bearer " + TOKEN);
    }

    /** A browser session: the cookie from the sign-in and the CSRF token the API gives it. */
    record Browser(String cookie, String csrf) {
        Reply call(String method, String path, Object body, boolean withCsrf) throws Exception {
            return withCsrf ? ConsoleApiTest.call(method, path, body, "Cookie", cookie, ConsoleAccess.CSRF_HEADER, csrf)
                    : ConsoleApiTest.call(method, path, body, "Cookie", cookie);
        }
    }

    static Browser signIn() throws Exception {
        Reply r = call("POST", "/api/session", Map.of("token", TOKEN));
        assertThat(r.status()).isEqualTo(200);
        String setCookie = r.response().headers().firstValue("Set-Cookie").orElseThrow();
        return new Browser(setCookie.substring(0, setCookie.indexOf(';')), r.json().path("csrfToken").asText());
    }

    static void publish(String yaml) throws Exception {
        Reply r = bearer("POST", "/api/mapping/s1/publish", Map.of("document", yaml, "author", "test"));
        assertThat(r.status()).as(r.text()).isEqualTo(200);
    }

    static void send(String topic, String key, byte[] value, long timestamp) throws Exception {
        Properties p = KAFKA.clientProperties();
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, null, timestamp, key.getBytes(StandardCharsets.UTF_8), value)).get();
        }
    }

    static SyncOutcome outcome(long orderId, Outcome kind, String reason) {
        return SyncOutcome.newBuilder().setSiteId("s1").setOrderId(orderId).setDirection(SyncDirection.ORDER_TO_DEAL)
                .setOutcome(kind).setReason(reason).setMappingVersion(1L).setAt(Instant.now()).build();
    }

    static DeadLetter deadLetter(String id, String key, byte[] value, String reason) {
        return DeadLetter.newBuilder().setId(id).setComponent("deal-projector").setSiteId("s1").setSourceTopic(Topics.ORDER_CHANGES)
                .setSourcePartition(0).setSourceOffset(7L).setKey(ByteBuffer.wrap(key.getBytes(StandardCharsets.UTF_8)))
                .setValue(value == null ? null : ByteBuffer.wrap(value)).setReason(reason).setErrorCode("ERROR_CORE").setAttempts(3)
                .setFailedAt(Instant.now().minusSeconds(600)).build();
    }

    static OrderChanged order(long id, String status) {
        return OrderChanged.newBuilder().setSiteId("s1").setOrderId(id).setStatusId(status).setCurrency("RUB").setPrice("100.00")
                .setBuyer(Buyer.newBuilder().build()).setDateUpdate(Instant.now())
                .setCause(ChangeCause.newBuilder().setSource(ChangeSource.STORE_HOOK).build()).build();
    }

    // ---- access -------------------------------------------------------------------------------------------------

    @Test
    void signedOutRequestsAndWrongTokensAreRefused() throws Exception {
        for (String path : List.of("/api/overview", "/api/mapping/s1", "/api/dead-letters", "/api/orders/s1:1", "/api/portals/choices", "/api/session")) {
            assertThat(call("GET", path, null).status()).as(path).isEqualTo(401);
        }
        assertThat(call("POST", "/api/mapping/s1/publish", Map.of("document", VALID)).status()).isEqualTo(401);
        assertThat(call("GET", "/api/overview", null, "Authorization", "Bearer wrong-token").status()).isEqualTo(401);
        assertThat(call("GET", "/api/overview", null, "Cookie", ConsoleAccess.SESSION_COOKIE + "=forged").status()).isEqualTo(401);
        Reply wrong = call("POST", "/api/session", Map.of("token", TOKEN + "x"));
        assertThat(wrong.status()).isEqualTo(401);
        assertThat(wrong.json().path("field").asText()).isEqualTo("token");
        assertThat(wrong.response().headers().firstValue("Set-Cookie")).isEmpty();
    }

    @Test
    void signInGivesAnHttpOnlyCookieAndWritesFromItNeedTheCsrfToken() throws Exception {
        Reply r = call("POST", "/api/session", Map.of("token", TOKEN));
        assertThat(r.response().headers().firstValue("Set-Cookie").orElseThrow())
                .startsWith(ConsoleAccess.SESSION_COOKIE + "=").contains("HttpOnly").contains("SameSite=Strict").contains("Path=/");
        assertThat(call("POST", "/api/session", Map.of("token", TOKEN), "X-Forwarded-Proto", "https").response().headers()
                .firstValue("Set-Cookie").orElseThrow()).as("reached over TLS through a proxy").endsWith("; Secure");
        Browser browser = signIn();
        Reply session = browser.call("GET", "/api/session", null, false);
        assertThat(session.status()).isEqualTo(200);
        assertThat(session.json().path("csrfToken").asText()).isEqualTo(browser.csrf());
        assertThat(session.json().path("siteId").asText()).isEqualTo("s1");

        Map<String, String> body = Map.of("document", VALID);
        Reply noCsrf = browser.call("POST", "/api/mapping/s1/validate", body, false);
        assertThat(noCsrf.status()).isEqualTo(403);
        assertThat(noCsrf.json().path("field").asText()).isEqualTo(ConsoleAccess.CSRF_HEADER);
        Reply badCsrf = call("POST", "/api/mapping/s1/validate", body, "Cookie", browser.cookie(), ConsoleAccess.CSRF_HEADER, "forged");
        assertThat(badCsrf.status()).isEqualTo(403);
        Reply otherSessionsCsrf = call("POST", "/api/mapping/s1/validate", body, "Cookie", browser.cookie(),
                ConsoleAccess.CSRF_HEADER, signIn().csrf());
        assertThat(otherSessionsCsrf.status()).isEqualTo(403);
        assertThat(browser.call("POST", "/api/mapping/s1/validate", body, true).status()).isEqualTo(200);
        assertThat(browser.call("POST", "/api/dead-letters/x/retire", Map.of("note", "n"), false).status()).isEqualTo(403);

        // a script with the token needs no CSRF token: no browser sends a bearer token on its own
        assertThat(bearer("POST", "/api/mapping/s1/validate", body).status()).isEqualTo(200);

        assertThat(browser.call("DELETE", "/api/session", null, false).status()).isEqualTo(403);
        Reply out = browser.call("DELETE", "/api/session", null, true);
        assertThat(out.status()).isEqualTo(200);
        assertThat(out.response().headers().firstValue("Set-Cookie").orElseThrow()).contains("Max-Age=0");
        assertThat(browser.call("GET", "/api/session", null, false).status()).as("signed out").isEqualTo(401);
    }

    @Test
    void aReverseProxysUserHeaderSignsInAndItsWritesNeedTheCsrfTokenToo() throws Exception {
        Reply session = call("GET", "/api/session", null, "X-Test-User", "olga");
        assertThat(session.status()).isEqualTo(200);
        assertThat(session.json().path("user").asText()).isEqualTo("olga");
        String csrf = session.json().path("csrfToken").asText();
        assertThat(call("POST", "/api/mapping/s1/validate", Map.of("document", VALID), "X-Test-User", "olga").status()).isEqualTo(403);
        assertThat(call("POST", "/api/mapping/s1/validate", Map.of("document", VALID), "X-Test-User", "egor",
                ConsoleAccess.CSRF_HEADER, csrf).status()).as("olga's token is not egor's").isEqualTo(403);
        assertThat(call("POST", "/api/mapping/s1/validate", Map.of("document", VALID), "X-Test-User", "olga",
                ConsoleAccess.CSRF_HEADER, csrf).status()).isEqualTo(200);
    }

    @Test
    void aOneTimeSignInLinkWorksOnce() throws Exception {
        String link = call("GET", "/link", null).text();
        Reply first = call("GET", link, null);
        assertThat(first.status()).isEqualTo(303);
        assertThat(first.response().headers().firstValue("Location")).hasValue("/console/");
        String cookie = first.response().headers().firstValue("Set-Cookie").orElseThrow();
        assertThat(cookie).contains("HttpOnly");
        assertThat(call("GET", "/api/session", null, "Cookie", cookie.substring(0, cookie.indexOf(';'))).status()).isEqualTo(200);
        Reply again = call("GET", link, null);
        assertThat(again.status()).isEqualTo(303);
        assertThat(again.response().headers().firstValue("Location")).hasValue("/console/sign-in.html?link=used");
        assertThat(again.response().headers().firstValue("Set-Cookie")).isEmpty();
    }

    @Test
    void pagesAreServedFromTheJarWithAStrictContentSecurityPolicy() throws Exception {
        Reply index = call("GET", "/console/", null);
        assertThat(index.status()).isEqualTo(200);
        assertThat(index.text()).contains("<script src=\"app.js\"").doesNotContain("http://", "https://");
        assertThat(index.response().headers().firstValue("Content-Security-Policy").orElseThrow()).contains("default-src 'self'");
        for (String file : List.of("app.js", "app.css", "yaml.js", "sign-in.html", "sign-in.js", "openapi.json")) {
            Reply r = call("GET", "/console/" + file, null);
            assertThat(r.status()).as(file).isEqualTo(200);
            assertThat(r.text()).as(file + " loads nothing from elsewhere").doesNotContainPattern("(src|href)=\"https?://");
        }
        assertThat(call("GET", "/console/../pom.xml", null).status()).isEqualTo(404);
        assertThat(call("GET", "/console/nope.js", null).status()).isEqualTo(404);
        JsonNode openapi = JSON.readTree(call("GET", "/console/openapi.json", null).text());
        assertThat(openapi.path("paths").has("/api/mapping/{site}")).isTrue();
    }

    // ---- mapping ------------------------------------------------------------------------------------------------

    @Test
    void theFormsChoicesComeFromTheLivePortals() throws Exception {
        JsonNode c = bearer("GET", "/api/portals/choices", null).json();
        assertThat(c.path("pipelines").findValuesAsText("name")).contains("Wholesale");
        JsonNode wholesale = null;
        for (JsonNode p : c.path("pipelines")) {
            if (p.path("id").asLong() == 2) {
                wholesale = p;
            }
        }
        assertThat(wholesale).isNotNull();
        assertThat(wholesale.path("stages").findValuesAsText("id")).contains("C2:NEW", "C2:WON");
        List<Long> users = new ArrayList<>();
        c.path("users").forEach(u -> users.add(u.path("id").asLong()));
        assertThat(users).contains(1L, 9L).doesNotContain(5L);
        assertThat(c.path("dealFields").findValuesAsText("id")).contains("UF_CRM_PAY_SYSTEM");
        assertThat(c.path("statuses").findValuesAsText("id")).contains("N", "F");
        assertThat(c.path("sections").findValuesAsText("path")).contains("Tools", "Tools / Drills");
        assertThat(c.path("paySystems").findValuesAsText("name")).contains("Cash");
        assertThat(c.path("orderFields").toString()).contains("paySystemId");
    }

    @Test
    void publishValidateHistoryExportAndRollbackWorkAsTheCliDoes() throws Exception {
        String site = "s1";
        publish(VALID);
        Reply inForce = bearer("GET", "/api/mapping/" + site, null);
        assertThat(inForce.status()).isEqualTo(200);
        long v1 = inForce.json().path("version").asLong();
        assertThat(inForce.json().path("author").asText()).isEqualTo("test");
        assertThat(inForce.json().path("document").asText()).isEqualTo(VALID);
        assertThat(inForce.json().path("form").path("pipelines").path("bySection").get(0).path("section").asLong()).isEqualTo(12);

        String changed = VALID.replace("{ section: 12, pipeline: 2 }", "{ section: 13, pipeline: 2 }");
        Reply dry = bearer("POST", "/api/mapping/s1/validate", Map.of("document", changed));
        assertThat(dry.json().path("valid").asBoolean()).isTrue();
        assertThat(dry.json().path("checkedLive").asBoolean()).isTrue();
        assertThat(dry.json().path("published").asBoolean()).isFalse();
        assertThat(dry.json().path("diff").toString()).contains("- ", "section: 12").contains("+ ", "section: 13");
        assertThat(bearer("GET", "/api/mapping/s1", null).json().path("version").asLong()).as("validate publishes nothing").isEqualTo(v1);

        Reply published = bearer("POST", "/api/mapping/s1/publish", Map.of("document", changed));
        assertThat(published.json().path("published").asBoolean()).isTrue();
        long v2 = published.json().path("version").asLong();
        assertThat(v2).isEqualTo(v1 + 1);
        assertThat(bearer("GET", "/api/mapping/s1", null).json().path("author").asText()).as("the principal by default").isEqualTo("api");
        assertThat(bearer("POST", "/api/mapping/s1/publish", Map.of("document", changed)).json().path("unchanged").asBoolean()).isTrue();

        JsonNode history = bearer("GET", "/api/mapping/s1/history", null).json().path("versions");
        assertThat(history.findValuesAsText("version")).contains(String.valueOf(v1), String.valueOf(v2));
        assertThat(history.get(history.size() - 1).path("inForce").asBoolean()).isTrue();
        assertThat(bearer("GET", "/api/mapping/s1/versions/" + v1, null).json().path("document").asText()).isEqualTo(VALID);
        assertThat(bearer("GET", "/api/mapping/s1/versions/999", null).status()).isEqualTo(404);
        Reply export = bearer("GET", "/api/mapping/s1/export", null);
        assertThat(export.text()).isEqualTo(changed);
        assertThat(export.response().headers().firstValue("Content-Type").orElseThrow()).startsWith("application/yaml");

        Reply rollback = bearer("POST", "/api/mapping/s1/rollback", Map.of("to", v1));
        assertThat(rollback.status()).as(rollback.text()).isEqualTo(200);
        assertThat(rollback.json().path("version").asLong()).isEqualTo(v2 + 1);
        assertThat(bearer("GET", "/api/mapping/s1", null).json().path("document").asText()).isEqualTo(VALID);
        assertThat(bearer("POST", "/api/mapping/s1/rollback", Map.of()).json().path("field").asText()).isEqualTo("to");
        assertThat(bearer("GET", "/api/mapping/nosuchsite", null).status()).isEqualTo(404);
    }

    @Test
    void anInvalidMappingIsRefusedWithTheCliErrorsNamingTheEntry() throws Exception {
        // offline: status N twice in pipeline 2's table; live: pipeline 7 and user 5 (dismissed)
        String offlineBroken = VALID.replace("- { stage: \"C2:NEW\", status: N }", "- { stage: \"C2:NEW\", status: N }\n    - { stage: \"C2:WON\", status: N }");
        String liveBroken = VALID.replace("default: 0", "default: 7").replace("\"0\":", "\"7\":").replace("stage: NEW", "stage: \"C7:NEW\"")
                .replace("stage: WON", "stage: \"C7:WON\"").replace("default: 1\n  byPipeline", "default: 5\n  byPipeline");
        for (String broken : List.of(offlineBroken, liveBroken)) {
            Reply r = bearer("POST", "/api/mapping/s1/publish", Map.of("document", broken));
            assertThat(r.status()).as(r.text()).isEqualTo(422);
            assertThat(r.json().path("valid").asBoolean()).isFalse();
            List<String> texts = new ArrayList<>();
            r.json().path("errors").forEach(e -> texts.add(e.path("text").asText()));
            assertThat(texts).isNotEmpty().isEqualTo(cliErrors(broken));
            assertThat(bearer("POST", "/api/mapping/s1/validate", Map.of("document", broken)).status()).isEqualTo(422);
        }
        Reply offline = bearer("POST", "/api/mapping/s1/validate", Map.of("document", offlineBroken));
        assertThat(offline.json().path("errors").get(0).path("path").asText()).isEqualTo("stages.\"2\"[1].status");
        Reply live = bearer("POST", "/api/mapping/s1/validate", Map.of("document", liveBroken));
        assertThat(live.json().path("errors").findValuesAsText("path")).contains("pipelines.default", "responsible.default");

        assertThat(bearer("POST", "/api/mapping/s1/publish", Map.of("document", VALID.replace("site: s1", "site: s2"))).json()
                .path("errors").get(0).path("path").asText()).as("a document for another site").isEqualTo("site");
        Reply noDocument = bearer("POST", "/api/mapping/s1/publish", Map.of());
        assertThat(noDocument.status()).isEqualTo(400);
        assertThat(noDocument.json().path("field").asText()).isEqualTo("document");
        assertThat(bearer("POST", "/api/mapping/s1/publish", "{not json").json().path("field").asText()).isEqualTo("body");
    }

    /** What {@code bin/dealbridge mapping publish FILE} prints for the document: its error lines, without the indent. */
    private List<String> cliErrors(String yaml) throws Exception {
        Path file = Files.writeString(dir.resolve("m" + System.nanoTime() + ".yaml"), yaml);
        MappingCliContext context = new MappingCliContext() {
            @Override
            public Properties kafkaClientProperties() {
                return KAFKA.clientProperties();
            }

            @Override
            public SchemaRegistry schemaRegistry() {
                return registry;
            }

            @Override
            public Optional<CrmApi> crm() {
                return Optional.of(new CrmApi(crmClient));
            }

            @Override
            public Optional<StoreApi> store() {
                return Optional.of(new StoreApi(storeClient));
            }
        };
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        var cli = new MappingCommand(() -> context).commandLine();
        cli.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
        cli.setOut(new PrintWriter(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        assertThat(cli.execute("publish", file.toString())).isEqualTo(MappingCommand.INVALID_DOCUMENT);
        return err.toString(StandardCharsets.UTF_8).lines().filter(l -> l.startsWith("  ")).map(String::strip).toList();
    }

    // ---- orders -------------------------------------------------------------------------------------------------

    @Test
    void anOrdersStoryIsToldWithTheLatestReason() throws Exception {
        long now = System.currentTimeMillis();
        send(Topics.ORDER_CHANGES, "s1:4242", topics.orderChanges().valueSerde().serializer().serialize(Topics.ORDER_CHANGES, order(4242, "W")), now);
        send(Topics.SYNC_OUTCOMES, "s1:4242", topics.syncOutcomes().valueSerde().serializer().serialize(Topics.SYNC_OUTCOMES,
                outcome(4242, Outcome.SKIPPED_UNMAPPED_STATUS, "Status W of order s1:4242 is not mapped to a stage of pipeline 0")), now + 1);
        for (String key : List.of("s1:4242", "4242")) {
            Reply r = bearer("GET", "/api/orders/" + key, null);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.json().path("order").asText()).isEqualTo("s1:4242");
            assertThat(r.json().path("entries").findValuesAsText("text")).anySatisfy(t -> assertThat(t).contains("status W"));
            assertThat(r.json().path("why").asText()).contains("SKIPPED_UNMAPPED_STATUS", "Status W of order s1:4242 is not mapped");
            assertThat(r.json().path("linkedDeal").isNull()).isTrue();
            assertThat(r.json().path("summary").asText()).isEqualTo("No deal is linked; the entries below say why.");
        }
        assertThat(bearer("GET", "/api/orders/s1:999999", null).json().path("summary").asText()).startsWith("Nothing on the topics");
        Reply bad = bearer("GET", "/api/orders/s1:abc", null);
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.json().path("field").asText()).isEqualTo("order");
        assertThat(bearer("GET", "/api/deals/987654", null).status()).as("a deal linked to no order").isEqualTo(404);

        Reply resync = bearer("POST", "/api/orders/4242/resync", null);
        assertThat(resync.status()).isEqualTo(202);
        assertThat(resynced).containsExactly(4242L);
        assertThat(bearer("POST", "/api/orders/s2:4242/resync", null).json().path("field").asText()).as("another site's order").isEqualTo("order");
        assertThat(signIn().call("POST", "/api/orders/4242/resync", null, false).status()).as("a write: CSRF").isEqualTo(403);
    }

    // ---- dead letters and overview ------------------------------------------------------------------------------

    @Test
    void deadLettersAreListedReplayedAndRetiredWithANote() throws Exception {
        byte[] value = topics.orderChanges().valueSerde().serializer().serialize(Topics.ORDER_CHANGES, order(5151, "N"));
        var serde = topics.deadLetters().valueSerde().serializer();
        send(Topics.DEAD_LETTERS, "dl-replay", serde.serialize(Topics.DEAD_LETTERS, deadLetter("dl-replay", "s1:5151", value, "CRM said no")), System.currentTimeMillis());
        send(Topics.DEAD_LETTERS, "dl-retire", serde.serialize(Topics.DEAD_LETTERS, deadLetter("dl-retire", "s1:5152", value, "test record")), System.currentTimeMillis());
        send(Topics.DEAD_LETTERS, "dl-norecord", serde.serialize(Topics.DEAD_LETTERS, deadLetter("dl-norecord", "s1:5153", null, "poll failed")), System.currentTimeMillis());

        JsonNode list = bearer("GET", "/api/dead-letters", null).json().path("deadLetters");
        Map<String, JsonNode> byId = new LinkedHashMap<>();
        list.forEach(d -> byId.put(d.path("id").asText(), d));
        assertThat(byId).containsKeys("dl-replay", "dl-retire", "dl-norecord");
        assertThat(byId.get("dl-replay").path("reason").asText()).isEqualTo("CRM said no");
        assertThat(byId.get("dl-replay").path("ageSeconds").asLong()).isBetween(590L, 3600L);
        assertThat(byId.get("dl-replay").path("key").asText()).isEqualTo("s1:5151");
        assertThat(byId.get("dl-norecord").path("replayable").asBoolean()).isFalse();
        assertThat(bearer("GET", "/api/overview", null).json().path("deadLetters").asInt()).isGreaterThanOrEqualTo(3);

        Reply replay = bearer("POST", "/api/dead-letters/dl-replay/replay", null);
        assertThat(replay.status()).as(replay.text()).isEqualTo(200);
        assertThat(replay.json().path("replayed").toString()).contains("dl-replay");
        assertThat(bearer("POST", "/api/dead-letters/dl-replay/replay", null).status()).as("replayed once").isEqualTo(404);
        assertThat(bearer("GET", "/api/orders/s1:5151", null).json().path("entries").findValuesAsText("text"))
                .anySatisfy(t -> assertThat(t).contains("replay of dead letter dl-replay"));

        Reply noNote = bearer("POST", "/api/dead-letters/dl-retire/retire", Map.of("note", " "));
        assertThat(noNote.status()).isEqualTo(400);
        assertThat(noNote.json().path("field").asText()).isEqualTo("note");
        Reply retired = bearer("POST", "/api/dead-letters/dl-retire/retire", Map.of("note", "a test order, nothing to send"));
        assertThat(retired.status()).as(retired.text()).isEqualTo(200);
        assertThat(bearer("GET", "/api/dead-letters", null).json().path("deadLetters").findValuesAsText("id"))
                .doesNotContain("dl-replay", "dl-retire").contains("dl-norecord");
        assertThat(bearer("GET", "/api/orders/s1:5152", null).json().path("entries").findValuesAsText("text"))
                .anySatisfy(t -> assertThat(t).isEqualTo("dead letter dl-retire retired without replay by api: a test order, nothing to send"));
        assertThat(bearer("POST", "/api/dead-letters/dl-retire/retire", Map.of("note", "again")).status()).isEqualTo(404);

        Reply all = bearer("POST", "/api/dead-letters/replay-all", null);
        assertThat(all.status()).as("one kept no record").isEqualTo(409);
        assertThat(all.json().path("refused").toString()).contains("dl-norecord", "no source record was kept");
        assertThat(new DeadLetterQueue(KAFKA.clientProperties(), topics).current(null)).extracting(DeadLetter::getId).contains("dl-norecord");
    }

    @Test
    void theOverviewCountsTheLastHoursOutcomesByKindAndShowsHealthLagAndBudget() throws Exception {
        var serializer = topics.syncOutcomes().valueSerde().serializer();
        long now = System.currentTimeMillis();
        send(Topics.SYNC_OUTCOMES, "s1:8001", serializer.serialize(Topics.SYNC_OUTCOMES, outcome(8001, Outcome.ORDER_DELETED, "now")), now);
        send(Topics.SYNC_OUTCOMES, "s1:8002", serializer.serialize(Topics.SYNC_OUTCOMES, outcome(8002, Outcome.ORDER_DELETED, "now")), now - 60_000);
        send(Topics.SYNC_OUTCOMES, "s1:8003", serializer.serialize(Topics.SYNC_OUTCOMES, outcome(8003, Outcome.ORDER_DELETED, "old")), now - 2 * 3600_000);
        JsonNode o = bearer("GET", "/api/overview", null).json();
        assertThat(o.path("outcomes").path("byKind").path("ORDER_DELETED").asInt()).as("the one of two hours ago is out").isEqualTo(2);
        assertThat(o.path("outcomes").path("buckets")).hasSize(12);
        assertThat(o.path("outcomes").path("buckets").get(11).path("byKind").path("ORDER_DELETED").asInt()).isGreaterThanOrEqualTo(1);
        assertThat(o.path("health").path("kafka").path("status").asText()).isEqualTo("UP");
        assertThat(o.path("rateBudget").findValuesAsText("portal")).containsExactly("crm", "store");
        assertThat(o.path("rateBudget").get(0).path("burst").asInt()).isEqualTo(1000);

        // a consumer group that has read nothing of order-changes lags by the whole topic
        send(Topics.ORDER_CHANGES, "s1:8004", topics.orderChanges().valueSerde().serializer().serialize(Topics.ORDER_CHANGES, order(8004, "N")), now);
        Properties p = KAFKA.clientProperties();
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "console-test-lagging");
        long end;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(Topics.ORDER_CHANGES).stream()
                    .map(i -> new TopicPartition(Topics.ORDER_CHANGES, i.partition())).toList();
            Map<TopicPartition, OffsetAndMetadata> zero = new LinkedHashMap<>();
            partitions.forEach(tp -> zero.put(tp, new OffsetAndMetadata(0)));
            consumer.commitSync(zero);
            end = consumer.endOffsets(partitions).values().stream().mapToLong(Long::longValue).sum();
        }
        JsonNode lag = bearer("GET", "/api/overview", null).json().path("lag");
        JsonNode row = null;
        for (JsonNode r : lag) {
            if (r.path("group").asText().equals("console-test-lagging")) {
                row = r;
            }
        }
        assertThat(row).as(lag.toString()).isNotNull();
        assertThat(row.path("topic").asText()).isEqualTo(Topics.ORDER_CHANGES);
        assertThat(row.path("lag").asLong()).isEqualTo(end).isPositive();
    }
}
