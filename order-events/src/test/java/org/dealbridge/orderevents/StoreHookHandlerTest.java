package org.dealbridge.orderevents;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.dealbridge.ingestion.RefreshQueue;
import org.dealbridge.ingestion.Refresher;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The hook's checks over real HTTP; what happens to a queued order is covered by StoreHookIT. */
class StoreHookHandlerTest {
    private static final String TOKEN = "jvh9y1ulvt2m6k5or90v9mg8nn32ozas";

    private final List<Long> refreshed = new CopyOnWriteArrayList<>();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private RefreshQueue queue;
    private HttpServer server;
    private URI hook;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        queue = new RefreshQueue(ids -> {
            refreshed.addAll(ids);
            return Refresher.Refreshed.NONE;
        }, new RefreshQueue.Settings("test-refresh", java.time.Duration.ZERO, 1, 100, java.time.Duration.ofMillis(50), java.time.Duration.ofMillis(200)));
        queue.open();
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/hooks/store", new StoreHookHandler(TOKEN, 2048, queue, new IngestMetrics(meters)));
        server.start();
        hook = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/hooks/store");
    }

    @AfterEach
    void stop() {
        server.stop(0);
        queue.close();
    }

    private HttpResponse<String> post(String body) throws Exception {
        return http.send(HttpRequest.newBuilder(hook).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String event(String name, String id, String token) {
        return "event=" + name + (id == null ? "" : "&data%5BFIELDS%5D%5BID%5D=" + id) + "&data%5BFIELDS%5D%5BACTION%5D=save&ts=1766047124"
                + "&auth%5Bdomain%5D=shop.example.com" + (token == null ? "" : "&auth%5Bapplication_token%5D=" + token);
    }

    private double rejected(String reason) {
        var counter = meters.find(IngestMetrics.HOOK_REJECTED).tag("hook", "store").tag("reason", reason).counter();
        return counter == null ? 0 : counter.count();
    }

    private void settle() throws InterruptedException {
        assertThat(queue.awaitIdle(5, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void theRightTokenQueuesTheOrder() throws Exception {
        HttpResponse<String> response = post(event("ONSALEORDERSAVED", "300", TOKEN));
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains("order 300 queued");
        settle();
        assertThat(refreshed).containsExactly(300L);
    }

    @Test
    void aWrongOrMissingTokenIs401AndQueuesNothing() throws Exception {
        HttpResponse<String> wrong = post(event("ONSALEORDERSAVED", "300", TOKEN.substring(0, TOKEN.length() - 1) + "x"));
        HttpResponse<String> prefix = post(event("ONSALEORDERSAVED", "300", TOKEN.substring(0, 10)));
        HttpResponse<String> missing = post(event("ONSALEORDERSAVED", "300", null));
        assertThat(List.of(wrong.statusCode(), prefix.statusCode(), missing.statusCode())).containsOnly(401);
        assertThat(wrong.body()).doesNotContain(TOKEN.substring(0, 10));
        settle();
        assertThat(refreshed).isEmpty();
        assertThat(rejected("bad_token")).isEqualTo(3);
    }

    @Test
    void noTokenEverReachesTheLogs() throws Exception {
        String wrong = "wr0ngT0kenValue123";
        try (CapturedLogs logs = new CapturedLogs()) {
            post(event("ONSALEORDERSAVED", "300", wrong));
            post(event("ONSALEORDERSAVED", "300", TOKEN));
            post(event("ONSALEORDERSAVED", "abc", TOKEN));
            post("event=X&auth%5Bapplication_token%5D=" + TOKEN + "%ZZ");
            settle();
            assertThat(logs.lines()).isNotEmpty();
            assertThat(logs.lines()).noneMatch(l -> l.contains(wrong) || l.contains(TOKEN) || l.contains(TOKEN.substring(0, 12)));
        }
    }

    @Test
    void anOversizedBodyIs413() throws Exception {
        HttpResponse<String> response = post(event("ONSALEORDERSAVED", "300", TOKEN) + "&pad=" + "x".repeat(4096));
        assertThat(response.statusCode()).isEqualTo(413);
        settle();
        assertThat(refreshed).isEmpty();
        assertThat(rejected("too_large")).isEqualTo(1);
    }

    @Test
    void aMalformedBodyIs400WithAClearMessage() throws Exception {
        HttpResponse<String> badEscape = post("event=ONSALEORDERSAVED&data%5BFIELDS%5D%5BID%5D=3%zz&auth%5Bapplication_token%5D=" + TOKEN);
        assertThat(badEscape.statusCode()).isEqualTo(400);
        assertThat(badEscape.body()).contains("bad percent-escape").contains("data[FIELDS][ID]");

        HttpResponse<String> noId = post(event("ONSALEORDERSAVED", null, TOKEN));
        assertThat(noId.statusCode()).isEqualTo(400);
        assertThat(noId.body()).contains("data[FIELDS][ID] is missing");

        HttpResponse<String> badId = post(event("ONSALEORDERSAVED", "abc", TOKEN));
        assertThat(badId.statusCode()).isEqualTo(400);
        assertThat(badId.body()).contains("data[FIELDS][ID] must be a positive order id but was 'abc'");

        HttpResponse<String> empty = post("");
        assertThat(empty.statusCode()).isEqualTo(400);
        assertThat(empty.body()).contains("body is empty");
        settle();
        assertThat(refreshed).isEmpty();
        assertThat(rejected("malformed")).isEqualTo(4);
    }

    @Test
    void otherEventsAreAcknowledgedAndIgnored() throws Exception {
        HttpResponse<String> response = post(event("ONSALEBEFOREORDERDELETE", "300", TOKEN));
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains("ignored");
        settle();
        assertThat(refreshed).isEmpty();
    }

    @Test
    void anEventArrivingDuringShutdownIs503() throws Exception {
        queue.close();
        HttpResponse<String> response = post(event("ONSALEORDERSAVED", "300", TOKEN));
        assertThat(response.statusCode()).isEqualTo(503);
        assertThat(refreshed).isEmpty();
    }

    @Test
    void onlyPostIsAccepted() throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(hook).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(405);
        assertThat(response.headers().firstValue("Allow")).hasValue("POST");
    }
}
