package org.dealbridge.bitrix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.emulator.Fault;
import org.junit.jupiter.api.Test;

/** Provokes every error kind and checks the webhook code never shows in exceptions, toString or logs. */
class SecretMaskingTest {

    private static String codeOf(String webhookUrl) {
        return webhookUrl.replaceAll(".*/rest/\\d+/([^/]+)/?$", "$1");
    }

    private static String everything(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        return t + "\n" + w;
    }

    @Test
    void webhookCodeNeverAppearsInExceptionsOrLogs() throws Exception {
        try (BitrixEmulator emu = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled().timeoutHold(Duration.ofSeconds(2)));
             CapturedLogs logs = new CapturedLogs()) {
            String code = codeOf(emu.crmWebhookUrl());
            assertThat(code).isNotBlank().doesNotContain("/");
            BitrixClient client = EmulatorClients.crm(emu, new SimpleMeterRegistry()).callTimeout(Duration.ofMillis(300)).build();
            List<Throwable> failures = new ArrayList<>();

            for (Fault fault : List.of(Fault.HTTP_500, Fault.HTTP_503, Fault.HTTP_502_HTML, Fault.TIMEOUT, Fault.DROP, Fault.APPLY_THEN_DROP)) {
                emu.faults().failNext("crm.deal.add", 1, fault);
                failures.add(catchThrowable(() -> client.callOnce("crm.deal.add", Map.of("fields", Map.of("TITLE", "t")))));
            }
            failures.add(catchThrowable(() -> client.call("crm.deal.get", Map.of("id", 987654))));                       // not found
            failures.add(catchThrowable(() -> client.call("crm.deal.update", Map.of("id", 0, "fields", Map.of()))));     // validation
            failures.add(catchThrowable(() -> client.call("crm.nosuch.method", Map.of())));                              // unknown method
            BatchResult batch = client.batch(List.of(BatchCommand.of("x", "crm.deal.get", Map.of("id", 987654))));
            failures.add(batch.error("x").orElseThrow());
            // auth: the real code with a changed last character
            String nearMiss = code.substring(0, code.length() - 1) + (code.endsWith("x") ? "y" : "x");
            BitrixClient wrong = BitrixClient.builder(emu.crmWebhookUrl().replace(code, nearMiss)).meterRegistry(new SimpleMeterRegistry())
                    .rateLimiter(new PortalRateLimiter("crm", PortalRateLimiter.Options.of(1000, 1000))).build();
            failures.add(catchThrowable(() -> wrong.call("crm.deal.fields", Map.of())));
            // connection refused
            int closedPort;
            try (ServerSocket s = new ServerSocket(0)) {
                closedPort = s.getLocalPort();
            }
            BitrixClient refused = BitrixClient.builder("http://127.0.0.1:" + closedPort + "/rest/1/" + code + "/")
                    .meterRegistry(new SimpleMeterRegistry()).retry(1, Duration.ofMillis(1), Duration.ofMillis(1))
                    .rateLimiter(new PortalRateLimiter("crm", PortalRateLimiter.Options.of(1000, 1000))).build();
            failures.add(catchThrowable(() -> refused.call("crm.deal.fields", Map.of())));
            // refused configuration
            failures.add(catchThrowable(() -> BitrixClient.builder("http://portal.example.com/rest/1/" + code + "/").build()));

            assertThat(failures).doesNotContainNull();
            assertThat(failures).extracting(t -> t.getClass().getSimpleName()).contains("RateLimited", "TransientFailure", "NotFound",
                    "ValidationFailure", "AuthFailure", "IllegalArgumentException");
            for (Throwable t : failures) {
                assertThat(everything(t)).as("%s", t).doesNotContain(code).doesNotContain(nearMiss);
            }
            assertThat(client.toString()).doesNotContain(code);
            assertThat(client.config().toString()).doesNotContain(code);
            assertThat(client.health().toString()).doesNotContain(code);
            assertThat(wrong.health().lastError()).isNotNull().doesNotContain(nearMiss);

            List<String> lines = logs.lines();
            assertThat(lines).isNotEmpty();
            assertThat(lines).anySatisfy(l -> assertThat(l).contains("/rest/1/***/"));
            assertThat(lines).allSatisfy(l -> assertThat(l).doesNotContain(code).doesNotContain(nearMiss));
        }
    }
}
