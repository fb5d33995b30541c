package org.dealbridge.bitrix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.dealbridge.bitrix.crm.CrmApi;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.emulator.Fault;
import org.dealbridge.emulator.Portal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The client against the emulator over real HTTP: envelopes, paging, batch, error classes, retries, health, metrics. */
class BitrixClientHttpTest {
    private BitrixEmulator emu;
    private SimpleMeterRegistry registry;
    private BitrixClient client;

    @BeforeEach
    void start() {
        emu = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled().timeoutHold(Duration.ofSeconds(3)));
        registry = new SimpleMeterRegistry();
        client = EmulatorClients.crm(emu, registry).build();
    }

    @AfterEach
    void stop() {
        emu.close();
    }

    private List<Long> addDeals(int n, String originator) {
        List<Long> ids = new ArrayList<>();
        for (int from = 0; from < n; from += 50) {
            List<BatchCommand> cmds = new ArrayList<>();
            for (int i = from; i < Math.min(n, from + 50); i++) {
                cmds.add(CrmApi.addDealCommand("d" + i, Map.of("TITLE", "Deal " + i, "ORIGINATOR_ID", originator, "ORIGIN_ID", "o" + i)));
            }
            BatchResult r = client.batch(cmds);
            assertThat(r.allSucceeded()).as("%s", r).isTrue();
            cmds.forEach(c -> ids.add(CrmApi.addedId(r, c.key())));
        }
        return ids;
    }

    private double counter(String name, String... tags) {
        var c = registry.find(name).tags(tags).counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void listEnvelopeCarriesTotalAndNextAndPagingCollectsEverything() {
        List<Long> ids = addDeals(120, "paging");
        BitrixResponse first = client.callForResponse("crm.deal.list", Map.of("select", List.of("ID"), "order", Map.of("ID", "ASC")),
                Idempotence.IDEMPOTENT);
        assertThat(first.result().size()).isEqualTo(50);
        assertThat(first.total()).hasValue(120);
        assertThat(first.next()).hasValue(50);

        List<Integer> pageSizes = new ArrayList<>();
        List<Long> seen = new ArrayList<>();
        client.forEachPage("crm.deal.list", Map.of("select", List.of("ID"), "order", Map.of("ID", "ASC")), null, page -> {
            pageSizes.add(page.size());
            page.forEach(d -> seen.add(LenientJson.requiredLong(d, "ID")));
        });
        assertThat(pageSizes).containsExactly(50, 50, 20);
        assertThat(seen).containsExactlyElementsOf(ids);
    }

    @Test
    void keysetExportUsesStartMinusOneAndIdFilter() {
        List<Long> ids = addDeals(110, "export");
        emu.calls().clear();
        List<Long> seen = new ArrayList<>();
        client.exportById("crm.deal.list", Map.of("select", List.of("ID"), "filter", Map.of("ORIGINATOR_ID", "export")), "ID", null,
                page -> page.forEach(d -> seen.add(LenientJson.requiredLong(d, "ID"))));
        assertThat(seen).containsExactlyElementsOf(ids);
        var calls = emu.calls().of(Portal.CRM, "crm.deal.list");
        assertThat(calls).hasSize(3);
        assertThat(calls).allSatisfy(c -> assertThat(c.param("start")).isEqualTo("-1"));
        assertThat(calls.get(1).param("filter", ">ID")).isEqualTo(String.valueOf(ids.get(49)));
        assertThat(calls.get(2).param("filter", ">ID")).isEqualTo(String.valueOf(ids.get(99)));
    }

    @Test
    void batchResolvesReferencesAndReportsErrorsPerCommand() {
        long id = addDeals(1, "batch").get(0);
        BatchResult r = client.batch(List.of(
                CrmApi.findDealsByOriginCommand("find", "batch", "o0"),
                BatchCommand.of("deal", "crm.deal.get", Map.of("id", BatchCommand.ref("find", "0", "ID"))),
                BatchCommand.of("missing", "crm.deal.get", Map.of("id", 987654))));
        assertThat(CrmApi.foundDealIds(r, "find")).containsExactly(id);
        assertThat(r.result("deal").get("TITLE").asText()).isEqualTo("Deal 0");
        assertThat(r.error("missing")).get().isInstanceOf(BitrixException.NotFound.class);
        assertThatThrownBy(() -> r.result("missing")).isInstanceOf(BitrixException.NotFound.class).hasMessageContaining("crm.deal.get");
        assertThat(r.allSucceeded()).isFalse();
        assertThat(registry.find("dealbridge.rest.batch.size").summary().totalAmount()).isEqualTo(4.0);   // 1 add + 3
    }

    @Test
    void twoGroupsWithTheSameKeysShareABatchUnderAPrefixAndReadTheirOwnAnswersBack() {
        List<Long> ids = addDeals(2, "groups");
        List<BatchCommand> first = List.of(
                CrmApi.findDealsByOriginCommand("find", "groups", "o0"),
                BatchCommand.of("deal", "crm.deal.get", Map.of("id", BatchCommand.ref("find", "0", "ID"))));
        List<BatchCommand> second = List.of(
                CrmApi.findDealsByOriginCommand("find", "groups", "o1"),
                BatchCommand.of("deal", "crm.deal.get", Map.of("id", BatchCommand.ref("find", "0", "ID"))),
                BatchCommand.of("missing", "crm.deal.get", Map.of("id", 987654)));
        List<BatchCommand> both = new java.util.ArrayList<>(first);
        second.forEach(c -> both.add(c.withKeyPrefix("next_")));
        BatchResult r = client.batch(both);
        BatchResult own = r.part("next_");
        // each group's references resolved within the group: the second group's deal is o1's, not o0's
        assertThat(CrmApi.foundDealIds(r, "find")).containsExactly(ids.get(0));
        assertThat(r.result("deal").get("ID").asLong()).isEqualTo(ids.get(0));
        assertThat(CrmApi.foundDealIds(own, "find")).containsExactly(ids.get(1));
        assertThat(own.result("deal").get("ID").asLong()).isEqualTo(ids.get(1));
        assertThat(own.error("missing")).get().isInstanceOf(BitrixException.NotFound.class);
        assertThat(own.results()).doesNotContainKey("next_find");
        assertThat(r.part("nothing_").results()).isEmpty();
    }

    @Test
    void haltStopsAtTheFirstFailingCommand() {
        long id = addDeals(1, "halt").get(0);
        BatchResult r = client.batch(List.of(
                BatchCommand.of("a", "crm.deal.get", Map.of("id", id)),
                BatchCommand.of("b", "crm.deal.get", Map.of("id", 987654)),
                BatchCommand.of("c", "crm.deal.get", Map.of("id", id))), true);
        assertThat(r.succeeded("a")).isTrue();
        assertThat(r.error("b")).isPresent();
        assertThat(r.notExecuted()).containsExactly("c");
        assertThatThrownBy(() -> r.result("c")).isInstanceOf(IllegalStateException.class).hasMessageContaining("did not run");
    }

    @Test
    void batchOfMoreThan50IsRefusedBeforeSending() {
        List<BatchCommand> cmds = IntStream.range(0, 51).mapToObj(i -> BatchCommand.of("k" + i, "crm.deal.fields", Map.of())).toList();
        assertThatThrownBy(() -> client.batch(cmds)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("51");
        assertThat(emu.calls().count(Portal.CRM, "batch")).isZero();
    }

    @Test
    void readsAreRetriedAfter500HtmlGatewayAndDroppedConnection() {
        for (Fault fault : List.of(Fault.HTTP_500, Fault.HTTP_502_HTML, Fault.DROP)) {
            emu.calls().clear();
            emu.faults().failNext("crm.deal.fields", 1, fault);
            JsonNode fields = client.call("crm.deal.fields", Map.of());
            assertThat(fields.has("TITLE")).as("after %s", fault).isTrue();
            assertThat(emu.calls().count(Portal.CRM, "crm.deal.fields")).as("attempts after %s", fault).isEqualTo(2);
        }
        assertThat(counter("dealbridge.rest.calls", "method", "crm.deal.fields", "result", "transient")).isEqualTo(3);
        assertThat(counter("dealbridge.rest.calls", "method", "crm.deal.fields", "result", "ok")).isEqualTo(3);
        assertThat(client.health().status()).isEqualTo(PortalHealth.Status.DEGRADED);
    }

    @Test
    void aReadStopsAtTheClientsMaxAttemptsDuringAnOutage() {
        emu.faults().outage(Portal.CRM, Duration.ofMinutes(5), Fault.HTTP_500);

        assertThatThrownBy(() -> client.call("crm.deal.fields", Map.of())).isInstanceOf(BitrixException.TransientFailure.class);

        // EmulatorClients' policy: 4 attempts
        assertThat(emu.calls().count(Portal.CRM, "crm.deal.fields")).isEqualTo(client.config().retryPolicy().maxAttempts())
                .isEqualTo(4);
    }

    @Test
    void aCallerThatRetriesItselfGetsFailuresAtOnceButRefusalsStillWait() {
        BitrixClient forCommands = client.leavingFailuresToCaller();
        emu.faults().failNext("crm.deal.fields", 1, Fault.HTTP_500);

        assertThatThrownBy(() -> forCommands.call("crm.deal.fields", Map.of())).isInstanceOf(BitrixException.TransientFailure.class);
        assertThat(emu.calls().count(Portal.CRM, "crm.deal.fields")).isEqualTo(1);
        assertThat(client.health().status()).as("one health for the client and its views").isEqualTo(PortalHealth.Status.DEGRADED);

        // a refusal ran nothing: the client retries it, within its own attempts
        emu.calls().clear();
        emu.faults().failNext("crm.deal.fields", 1, Fault.HTTP_503);
        assertThat(forCommands.call("crm.deal.fields", Map.of()).has("TITLE")).isTrue();
        assertThat(emu.calls().count(Portal.CRM, "crm.deal.fields")).isEqualTo(2);
        emu.calls().clear();
        emu.faults().outage(Portal.CRM, Duration.ofMinutes(5), Fault.HTTP_503);
        assertThatThrownBy(() -> forCommands.call("crm.deal.fields", Map.of())).isInstanceOf(BitrixException.class);
        assertThat(emu.calls().count(Portal.CRM, "crm.deal.fields")).isEqualTo(4);
    }

    @Test
    void writesAreNotRetriedAfterA500() {
        emu.faults().failNext("crm.deal.add", 1, Fault.HTTP_500);
        assertThatThrownBy(() -> new CrmApi(client).addDeal(Map.of("TITLE", "x")))
                .isInstanceOfSatisfying(BitrixException.TransientFailure.class, e -> {
                    assertThat(e.httpStatus()).isEqualTo(500);
                    assertThat(e.errorCode()).isEqualTo("INTERNAL_SERVER_ERROR");
                    assertThat(e.retryable()).isTrue();
                });
        assertThat(emu.calls().count(Portal.CRM, "crm.deal.add")).isEqualTo(1);
        assertThat(emu.crm().deals()).isEmpty();
    }

    @Test
    void writeThatMayHaveBeenAppliedSurfacesToTheCaller() {
        emu.faults().failNext("crm.deal.add", 1, Fault.APPLY_THEN_DROP);
        assertThatThrownBy(() -> new CrmApi(client).addDeal(Map.of("TITLE", "x", "ORIGINATOR_ID", "shop", "ORIGIN_ID", "77")))
                .isInstanceOfSatisfying(BitrixException.TransientFailure.class, e -> {
                    assertThat(e.mayHaveBeenApplied()).isTrue();
                    assertThat(e.httpStatus()).isZero();
                });
        // the deal exists: the caller must look it up before adding again (reference §12)
        assertThat(new CrmApi(client).findDealsByOrigin("shop", "77")).hasSize(1);
        assertThat(emu.calls().count(Portal.CRM, "crm.deal.add")).isEqualTo(1);
    }

    @Test
    void writesAreRetriedAfter503BecauseThePortalRefusedBeforeRunningThem() {
        emu.faults().failNext("crm.deal.add", 1, Fault.HTTP_503);
        long id = new CrmApi(client).addDeal(Map.of("TITLE", "after 503"));
        assertThat(emu.crm().deals()).hasSize(1);
        assertThat(emu.crm().deal(id).get("TITLE")).isEqualTo("after 503");
        assertThat(counter("dealbridge.rest.calls", "method", "crm.deal.add", "result", "rate_limited")).isEqualTo(1);
        assertThat(counter("dealbridge.rest.ratelimit.rejections", "limit", "query_limit_exceeded")).isEqualTo(1);
    }

    @Test
    void timeoutIsTransientAndAReadIsRetried() {
        BitrixClient impatient = EmulatorClients.crm(emu, registry).callTimeout(Duration.ofMillis(300)).build();
        emu.faults().failNext("crm.deal.fields", 1, Fault.TIMEOUT);
        assertThatThrownBy(() -> impatient.callOnce("crm.deal.fields", Map.of()))
                .isInstanceOfSatisfying(BitrixException.TransientFailure.class,
                        e -> assertThat(e.description()).contains("no response within 300 ms"));
        emu.faults().failNext("crm.deal.fields", 1, Fault.TIMEOUT);
        assertThat(impatient.call("crm.deal.fields", Map.of()).has("TITLE")).isTrue();
    }

    /**
     * What a long outage looks like from here - a closed port, a gateway's HTML 502 page, sockets held without an
     * answer - is transient, never a permanent failure: the connectors wait for the portal instead of dead-lettering.
     */
    @Test
    void refusedConnectionsHtml502PagesAndHeldSocketsAreAllTransient() throws Exception {
        BitrixClient forCommands = EmulatorClients.crm(emu, registry).callTimeout(Duration.ofMillis(300)).build().leavingFailuresToCaller();

        emu.refuseConnections(Duration.ofSeconds(2));
        assertThatThrownBy(() -> forCommands.call("crm.deal.fields", Map.of()))
                .isInstanceOfSatisfying(BitrixException.TransientFailure.class, e -> {
                    assertThat(e.retryable()).isTrue();
                    assertThat(e.description()).contains("connection failed");
                    assertThat(e.getCause()).hasMessageContaining("ConnectException");
                    assertThat(e.httpStatus()).isZero();
                });
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        JsonNode fields = null;
        while (fields == null && System.nanoTime() < deadline) {
            try {
                fields = forCommands.call("crm.deal.fields", Map.of());
            } catch (BitrixException.TransientFailure stillRefused) {
                Thread.sleep(100);
            }
        }
        assertThat(fields).as("the port listens again").isNotNull();

        emu.faults().outage(Portal.CRM, Duration.ofMinutes(5), Fault.HTTP_502_HTML);
        assertThatThrownBy(() -> forCommands.call("crm.deal.fields", Map.of()))
                .isInstanceOfSatisfying(BitrixException.TransientFailure.class, e -> {
                    assertThat(e.retryable()).isTrue();
                    assertThat(e.httpStatus()).isEqualTo(502);
                    assertThat(e.description()).contains("non-JSON response (text/html)", "502 Bad Gateway");
                });

        emu.faults().outage(Portal.CRM, Duration.ofMinutes(5), Fault.TIMEOUT);
        assertThatThrownBy(() -> forCommands.call("crm.deal.fields", Map.of()))
                .isInstanceOfSatisfying(BitrixException.TransientFailure.class, e -> {
                    assertThat(e.retryable()).isTrue();
                    assertThat(e.description()).contains("no response within 300 ms");
                });
        emu.faults().endOutage(Portal.CRM);
        assertThat(forCommands.health().status()).isEqualTo(PortalHealth.Status.DEGRADED);
    }

    @Test
    void slowAnswerBeyondTheCallTimeoutFails() {
        BitrixClient impatient = EmulatorClients.crm(emu, registry).callTimeout(Duration.ofMillis(200)).retry(1, Duration.ofMillis(1), Duration.ofMillis(1)).build();
        emu.faults().slow("crm.deal.fields", Duration.ofMillis(1500));
        assertThatThrownBy(() -> impatient.call("crm.deal.fields", Map.of())).isInstanceOf(BitrixException.TransientFailure.class);
    }

    @Test
    void wrongWebhookCodeIsAnAuthFailureSurfacedInHealthAndMetrics() {
        String wrong = emu.crmWebhookUrl().replaceAll("/rest/(\\d+)/[^/]+/", "/rest/$1/wrongcode123/");
        BitrixClient bad = BitrixClient.builder(wrong).portal("crm").meterRegistry(registry)
                .rateLimiter(new PortalRateLimiter("crm", PortalRateLimiter.Options.of(1000, 1000))).build();
        assertThatThrownBy(() -> bad.call("crm.deal.fields", Map.of()))
                .isInstanceOfSatisfying(BitrixException.AuthFailure.class, e -> {
                    assertThat(e.retryable()).isFalse();
                    assertThat(e.getMessage()).doesNotContain("wrongcode123");
                });
        PortalHealth health = bad.health();
        assertThat(health.status()).isEqualTo(PortalHealth.Status.AUTH_FAILED);
        assertThat(health.lastError()).contains("crm.deal.fields").doesNotContain("wrongcode123");
        assertThat(counter("dealbridge.rest.auth.failures", "portal", "crm")).isEqualTo(1);
        assertThat(counter("dealbridge.rest.calls", "method", "crm.deal.fields", "result", "auth")).isEqualTo(1);
        // still failed after another failure of a different kind
        assertThatThrownBy(() -> bad.call("crm.deal.get", Map.of("id", 1))).isInstanceOf(BitrixException.class);
        assertThat(bad.health().status()).isEqualTo(PortalHealth.Status.AUTH_FAILED);
    }

    @Test
    void unknownMethodIsAPermanentFailureNamingTheMethod() {
        assertThatThrownBy(() -> client.call("crm.nosuch.get", Map.of()))
                .isInstanceOfSatisfying(BitrixException.ValidationFailure.class, e -> {
                    assertThat(e.errorCode()).isEqualTo("ERROR_METHOD_NOT_FOUND");
                    assertThat(e.httpStatus()).isEqualTo(404);
                    assertThat(e.method()).isEqualTo("crm.nosuch.get");
                });
        assertThat(emu.calls().count(Portal.CRM, "crm.nosuch.get")).isEqualTo(1);
        assertThat(client.health().status()).isEqualTo(PortalHealth.Status.UP);
    }

    @Test
    void classicValidationErrorWithEmptyCode() {
        assertThatThrownBy(() -> client.call("crm.deal.update", Map.of("id", 0, "fields", Map.of("TITLE", "x")), Idempotence.IDEMPOTENT))
                .isInstanceOfSatisfying(BitrixException.ValidationFailure.class, e -> {
                    assertThat(e.errorCode()).isEmpty();
                    assertThat(e.httpStatus()).isEqualTo(400);
                    assertThat(e.description()).contains("ID is not defined or invalid");
                });
    }

    @Test
    void limiterKeepsRequestsInsideThePortalBucket() {
        try (BitrixEmulator limited = BitrixEmulator.start(EmulatorOptions.defaults().rateLimit(Portal.CRM, 5, 5))) {
            BitrixClient paced = BitrixClient.builder(limited.crmWebhookUrl()).portal("crm").meterRegistry(registry)
                    .rateLimiter(new PortalRateLimiter("crm", PortalRateLimiter.Options.of(5, 5).withInitialFill(0))).build();
            for (int i = 0; i < 15; i++) {
                paced.call("crm.deal.fields", Map.of());
            }
            assertThat(limited.calls().count(Portal.CRM, "crm.deal.fields")).isEqualTo(15);
            assertThat(limited.calls().count(Portal.CRM, "crm.deal.fields", c -> c.httpStatus() == 503)).isZero();
        }
    }

    @Test
    void limiterAdaptsDownWhenThePortalRefusesAndEveryCallStillSucceeds() {
        try (BitrixEmulator limited = BitrixEmulator.start(EmulatorOptions.defaults().rateLimit(Portal.CRM, 5, 5))) {
            PortalRateLimiter optimistic = new PortalRateLimiter("crm", PortalRateLimiter.Options.of(50, 50).withInitialFill(0));
            BitrixClient eager = BitrixClient.builder(limited.crmWebhookUrl()).portal("crm").meterRegistry(registry)
                    .rateLimiter(optimistic).retry(10, Duration.ofMillis(50), Duration.ofSeconds(1)).build();
            for (int i = 0; i < 12; i++) {
                assertThat(eager.call("crm.deal.fields", Map.of()).has("TITLE")).isTrue();
            }
            assertThat(limited.calls().count(Portal.CRM, "crm.deal.fields", c -> c.httpStatus() == 503)).isPositive();
            assertThat(optimistic.currentRate()).isLessThan(50.0);
            assertThat(counter("dealbridge.rest.ratelimit.rejections", "limit", "query_limit_exceeded")).isPositive();
        }
    }

    @Test
    void operationTimeLimitBlocksOnlyThatMethodUntilTheResetTime() {
        emu.operatingTimeLimit(Duration.ofSeconds(10));
        emu.chargeOperatingTime(Portal.CRM, "crm.deal.list", Duration.ofSeconds(6));
        client.call("crm.deal.list", Map.of());          // 6 s used; the answer carries operating_reset_at
        client.call("crm.deal.list", Map.of());          // 12 s used: crosses the limit but completes
        assertThatThrownBy(() -> client.call("crm.deal.list", Map.of()))
                .isInstanceOfSatisfying(BitrixException.OperationTimeLimit.class, e -> {
                    assertThat(e.httpStatus()).isEqualTo(429);
                    // the reset is up to 10 minutes away: longer than the client is willing to wait, so no retry
                    assertThat(e.retryAfter()).isGreaterThan(Duration.ofMinutes(2)).isLessThanOrEqualTo(Duration.ofMinutes(10));
                });
        assertThat(emu.calls().count(Portal.CRM, "crm.deal.list")).isEqualTo(3);
        // blocked locally: no request is spent on it
        assertThatThrownBy(() -> client.call("crm.deal.list", Map.of())).isInstanceOf(BitrixException.OperationTimeLimit.class);
        assertThat(emu.calls().count(Portal.CRM, "crm.deal.list")).isEqualTo(3);
        // other methods keep working
        assertThat(client.call("crm.deal.fields", Map.of()).has("TITLE")).isTrue();
        assertThat(counter("dealbridge.rest.calls", "method", "crm.deal.list", "result", "operation_limited")).isEqualTo(2);
        assertThat(counter("dealbridge.rest.ratelimit.rejections", "limit", "operation_time_limit")).isEqualTo(1);
    }

    @Test
    void operationTimeLimitWithoutKnownResetWaitsTheFallbackThenRetries() throws Exception {
        BitrixClient patient = EmulatorClients.crm(emu, registry).operationLimit(Duration.ofSeconds(5), Duration.ofMillis(600)).build();
        emu.operatingTimeLimit(Duration.ofSeconds(1));
        emu.chargeOperatingTime(Portal.CRM, "crm.deal.list", Duration.ofSeconds(2));
        emu.crm().addDealAsHuman(Map.of("TITLE", "seen"));
        client.call("crm.deal.list", Map.of());           // another client spends the budget; `patient` knows no reset time
        Thread lift = new Thread(() -> {
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            }
            emu.operatingTimeLimit(null);
        });
        lift.start();
        assertThat(patient.call("crm.deal.list", Map.of()).size()).isEqualTo(1);
        lift.join();
        var calls = emu.calls().of(Portal.CRM, "crm.deal.list");
        assertThat(calls).extracting(c -> c.httpStatus()).containsExactly(200, 429, 200);
        assertThat(Duration.between(calls.get(1).time(), calls.get(2).time())).isGreaterThanOrEqualTo(Duration.ofMillis(500));
    }

    @Test
    void degradedHealthReturnsToUpAfterTheWindow() {
        org.dealbridge.emulator.ManualClock clock = new org.dealbridge.emulator.ManualClock(java.time.Instant.parse("2026-01-01T00:00:00Z"));
        BitrixClient timed = EmulatorClients.crm(emu, registry).clock(clock).degradedWindow(Duration.ofMinutes(1)).build();
        assertThat(timed.health().status()).isEqualTo(PortalHealth.Status.UP);
        emu.faults().failNext("crm.deal.fields", 1, Fault.HTTP_500);
        timed.call("crm.deal.fields", Map.of());
        PortalHealth degraded = timed.health();
        assertThat(degraded.status()).isEqualTo(PortalHealth.Status.DEGRADED);
        assertThat(degraded.lastError()).contains("INTERNAL_SERVER_ERROR").contains("/rest/1/***/crm.deal.fields");
        assertThat(degraded.lastErrorAt()).isEqualTo(clock.instant());
        clock.advance(Duration.ofSeconds(61));
        assertThat(timed.health().status()).isEqualTo(PortalHealth.Status.UP);
    }

    @Test
    void javaTimeValuesInParametersAreSentInThePortalFormat() {
        addDeals(2, "dates");
        java.time.OffsetDateTime hourAgo = java.time.OffsetDateTime.now(java.time.ZoneOffset.ofHours(3)).minusHours(1);
        JsonNode recent = client.call("crm.deal.list", Map.of("filter", Map.of(">DATE_MODIFY", hourAgo), "select", List.of("ID")));
        assertThat(recent.size()).isEqualTo(2);
        String sent = emu.calls().of(Portal.CRM, "crm.deal.list").get(0).param("filter", ">DATE_MODIFY");
        assertThat(sent).isEqualTo(BitrixDateTimes.format(hourAgo)).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\+03:00");
        assertThat(client.call("crm.deal.list", Map.of("filter", Map.of(">DATE_MODIFY", hourAgo.plusHours(2)))).size()).isZero();
    }

    @Test
    void everyClientOfOnePortalSharesOneLimiterAndConcurrentCallersStayInsideTheBucket() throws Exception {
        try (BitrixEmulator limited = BitrixEmulator.start(EmulatorOptions.defaults().rateLimit(Portal.CRM, 10, 5))) {
            PortalRateLimiter.Options options = PortalRateLimiter.Options.of(10, 5).withInitialFill(0);
            BitrixClient a = BitrixClient.builder(limited.crmWebhookUrl()).portal("crm").meterRegistry(registry).rateLimit(options).build();
            BitrixClient b = BitrixClient.builder(limited.crmWebhookUrl()).portal("crm").meterRegistry(registry).rateLimit(options).build();
            assertThat(a.rateLimiter()).isSameAs(b.rateLimiter());
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
            try {
                List<java.util.concurrent.Future<?>> futures = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    BitrixClient c = t % 2 == 0 ? a : b;
                    futures.add(pool.submit(() -> {
                        for (int i = 0; i < 6; i++) {
                            c.call("crm.deal.fields", Map.of());
                        }
                        return null;
                    }));
                }
                for (var f : futures) {
                    f.get();
                }
            } finally {
                pool.shutdownNow();
            }
            assertThat(limited.calls().count(Portal.CRM, "crm.deal.fields")).isEqualTo(24);
            assertThat(limited.calls().count(Portal.CRM, "crm.deal.fields", c -> c.httpStatus() == 503)).isZero();
        }
    }
}
