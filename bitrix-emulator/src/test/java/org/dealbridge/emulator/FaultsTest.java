package org.dealbridge.emulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class FaultsTest {
    private final ManualClock clock = new ManualClock(Instant.parse("2024-09-01T09:00:00Z"));
    private BitrixEmulator emu;

    @BeforeEach
    void start() {
        emu = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled().clock(clock)
                .timeoutHold(Duration.ofSeconds(3)));
    }

    @AfterEach
    void stop() {
        emu.close();
    }

    private HttpResponse<String> rawAdd(HttpClient client, Duration timeout) throws IOException, InterruptedException {
        return client.send(HttpRequest.newBuilder(URI.create(emu.crmWebhookUrl() + "crm.deal.add"))
                .timeout(timeout).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"fields\":{\"TITLE\":\"f\"}}")).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void failNextAnswers500ThenRecovers() {
        emu.faults().failNext("crm.deal.add", 2, Fault.HTTP_500);
        for (int i = 0; i < 2; i++) {
            Rest.Answer a = Rest.crm(emu, "crm.deal.add", Map.of("fields", Map.of("TITLE", "x")));
            assertThat(a.status()).isEqualTo(500);
            assertThat(a.body().get("error").asText()).isEqualTo("INTERNAL_SERVER_ERROR");
        }
        assertThat(emu.crm().deals()).isEmpty();
        assertThat(Rest.crm(emu, "crm.deal.add", Map.of("fields", Map.of("TITLE", "x"))).status()).isEqualTo(200);
        assertThat(emu.crm().deals()).hasSize(1);
    }

    @Test
    void failNextAnswers503QueryLimitOnlyForThatMethodAndPortal() {
        emu.faults().failNext(Portal.STORE, "sale.order.list", 1, Fault.HTTP_503);
        assertThat(Rest.crm(emu, "crm.deal.list", Map.of()).status()).isEqualTo(200);
        Rest.Answer a = Rest.store(emu, "sale.order.list", Map.of());
        assertThat(a.status()).isEqualTo(503);
        assertThat(a.body().get("error").asText()).isEqualTo("QUERY_LIMIT_EXCEEDED");
        assertThat(Rest.store(emu, "sale.order.list", Map.of()).status()).isEqualTo(200);
    }

    @Test
    void badGatewayAnswersWithAnHtmlBody() {
        emu.faults().failNext("crm.deal.get", 1, Fault.HTTP_502_HTML);
        Rest.Answer a = Rest.crm(emu, "crm.deal.get", Map.of("id", 1));
        assertThat(a.status()).isEqualTo(502);
        assertThat(a.contentType()).startsWith("text/html");
        assertThat(a.raw()).contains("<html>");
    }

    @Test
    void timeoutHoldsTheRequestWithoutAnswerAndDoesNotApply() {
        emu.faults().failNext("crm.deal.add", 1, Fault.TIMEOUT);
        HttpClient client = HttpClient.newHttpClient();
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> rawAdd(client, Duration.ofMillis(300))).isInstanceOf(HttpTimeoutException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
        assertThat(emu.crm().deals()).isEmpty();
        assertThat(emu.calls().of(Portal.CRM, "crm.deal.add").get(0).httpStatus()).isZero();
    }

    @Test
    void applyThenDropStoresTheWriteButTheClientGetsAnIOException() throws Exception {
        emu.subscribeCrm("http://127.0.0.1:9/unused", "t", "ONCRMDEALADD");
        emu.faults().failNext("crm.deal.add", 1, Fault.APPLY_THEN_DROP);
        HttpClient client = HttpClient.newHttpClient();
        assertThatThrownBy(() -> rawAdd(client, Duration.ofSeconds(5))).isInstanceOf(IOException.class)
                .isNotInstanceOf(HttpTimeoutException.class);
        assertThat(emu.crm().deals()).hasSize(1); // the write happened: a blind retry would duplicate it
        assertThat(emu.events().awaitIdle(Duration.ofSeconds(5))).isTrue();
        assertThat(emu.events().deliveries()).hasSize(1); // and the event fired
        HttpResponse<String> next = rawAdd(client, Duration.ofSeconds(5));
        assertThat(next.statusCode()).isEqualTo(200);
        assertThat(emu.crm().deals()).hasSize(2);
    }

    @Test
    void dropClosesTheConnectionWithoutApplying() {
        emu.faults().failNext("crm.deal.add", 1, Fault.DROP);
        assertThatThrownBy(() -> rawAdd(HttpClient.newHttpClient(), Duration.ofSeconds(5))).isInstanceOf(IOException.class);
        assertThat(emu.crm().deals()).isEmpty();
    }

    @Test
    void slowDelaysEveryCallOfTheMethod() {
        emu.faults().slow("crm.deal.fields", Duration.ofMillis(400));
        long t0 = System.nanoTime();
        assertThat(Rest.crm(emu, "crm.deal.fields", Map.of()).status()).isEqualTo(200);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(400));
        long t1 = System.nanoTime();
        Rest.crm(emu, "crm.deal.list", Map.of());
        assertThat(Duration.ofNanos(System.nanoTime() - t1)).isLessThan(Duration.ofMillis(400));
        emu.faults().clear();
        long t2 = System.nanoTime();
        Rest.crm(emu, "crm.deal.fields", Map.of());
        assertThat(Duration.ofNanos(System.nanoTime() - t2)).isLessThan(Duration.ofMillis(400));
    }

    @Test
    void outageFailsEveryCallOfThePortalUntilItsEnd() {
        emu.faults().outage(Portal.CRM, Duration.ofMinutes(5), Fault.HTTP_503);
        assertThat(Rest.crm(emu, "crm.deal.list", Map.of()).status()).isEqualTo(503);
        assertThat(Rest.crm(emu, "crm.deal.fields", Map.of()).status()).isEqualTo(503);
        assertThat(Rest.store(emu, "sale.order.list", Map.of()).status()).isEqualTo(200);
        clock.advance(Duration.ofMinutes(4));
        assertThat(Rest.crm(emu, "batch", Map.of("cmd", Map.of("a", "crm.deal.fields"))).status()).isEqualTo(503);
        clock.advance(Duration.ofMinutes(1));
        assertThat(Rest.crm(emu, "crm.deal.list", Map.of()).status()).isEqualTo(200);
    }

    @Test
    void refusedConnectionsCloseThePortThenItListensAgain() throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        emu.refuseConnections(Duration.ofSeconds(1));
        assertThatThrownBy(() -> rawAdd(client, Duration.ofSeconds(5))).isInstanceOf(java.net.ConnectException.class);
        assertThat(emu.crm().deals()).isEmpty();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        HttpResponse<String> answer = null;
        while (answer == null && System.nanoTime() < deadline) {
            try {
                answer = rawAdd(client, Duration.ofSeconds(5));
            } catch (java.net.ConnectException stillClosed) {
                Thread.sleep(100);
            }
        }
        assertThat(answer).as("the same port listens again").isNotNull();
        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(emu.crm().deals()).hasSize(1);
    }

    @Test
    void aTimeoutOutageHoldsEveryCallOfThePortalUntilItsEnd() {
        emu.faults().outage(Portal.CRM, Duration.ofMinutes(5), Fault.TIMEOUT);
        HttpClient client = HttpClient.newHttpClient();
        assertThatThrownBy(() -> rawAdd(client, Duration.ofMillis(300))).isInstanceOf(HttpTimeoutException.class);
        assertThatThrownBy(() -> rawAdd(client, Duration.ofMillis(300))).isInstanceOf(HttpTimeoutException.class);
        assertThat(Rest.store(emu, "sale.order.list", Map.of()).status()).isEqualTo(200);
        clock.advance(Duration.ofMinutes(5));
        assertThat(Rest.crm(emu, "crm.deal.list", Map.of()).status()).isEqualTo(200);
        assertThat(emu.crm().deals()).isEmpty();
    }

    @Test
    void faultsOnACommandInsideABatch() {
        long id = emu.crm().addDealAsHuman(Map.of("TITLE", "b"));
        emu.faults().failNext("crm.deal.update", 1, Fault.HTTP_500);
        Map<String, Object> cmd = new LinkedHashMap<>();
        cmd.put("u", "crm.deal.update?id=" + id + "&fields[TITLE]=changed");
        cmd.put("g", "crm.deal.get?id=" + id);
        JsonNode r = Rest.crm(emu, "batch", Map.of("cmd", cmd)).result();
        assertThat(r.get("result_error").get("u").get("error").asText()).isEqualTo("INTERNAL_SERVER_ERROR");
        assertThat(r.get("result").get("g").get("TITLE").asText()).isEqualTo("b");

        emu.faults().failNext("crm.deal.update", 1, Fault.APPLY_THEN_DROP);
        Map<String, Object> cut = new LinkedHashMap<>();
        cut.put("u", "crm.deal.update?id=" + id + "&fields[TITLE]=applied");
        cut.put("never", "crm.deal.add?fields[TITLE]=never");
        assertThatThrownBy(() -> HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(emu.crmWebhookUrl() + "batch"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(Rest.JSON.writeValueAsString(Map.of("cmd", cut))))
                .build(), HttpResponse.BodyHandlers.ofString())).isInstanceOf(IOException.class);
        assertThat(emu.crm().deal(id).get("TITLE")).isEqualTo("applied");
        assertThat(emu.crm().deals()).hasSize(1);
    }

    @Test
    void wildcardMethodAndPendingCount() {
        emu.faults().failNext(Portal.CRM, "*", 1, Fault.HTTP_500);
        assertThat(emu.faults().pending(Portal.CRM, "*")).isEqualTo(1);
        assertThat(Rest.crm(emu, "crm.status.list", Map.of()).status()).isEqualTo(500);
        assertThat(emu.faults().pending(Portal.CRM, "*")).isZero();
        assertThat(Rest.crm(emu, "crm.status.list", Map.of()).status()).isEqualTo(200);
    }
}
