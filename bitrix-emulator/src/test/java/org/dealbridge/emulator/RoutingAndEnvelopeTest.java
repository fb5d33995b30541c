package org.dealbridge.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RoutingAndEnvelopeTest {
    private BitrixEmulator emu;

    @BeforeEach
    void start() {
        emu = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled());
    }

    @AfterEach
    void stop() {
        emu.close();
    }

    @Test
    void webhookUrlsHaveTheInboundWebhookShape() {
        assertThat(emu.crmWebhookUrl()).matches("http://127\\.0\\.0\\.1:\\d+/rest/1/[A-Za-z0-9]+/");
        assertThat(emu.storeWebhookUrl()).matches("http://127\\.0\\.0\\.1:\\d+/rest/1/[A-Za-z0-9]+/");
        assertThat(emu.crmWebhookUrl()).isNotEqualTo(emu.storeWebhookUrl());
    }

    @Test
    void methodNamesAreCaseInsensitiveWithOptionalJsonSuffixAndTrailingSlash() {
        for (String name : List.of("crm.deal.fields", "CRM.Deal.Fields", "crm.deal.fields.json", "crm.deal.fields/", "crm.deal.fields.json/")) {
            Rest.Answer a = Rest.crm(emu, name, Map.of());
            assertThat(a.status()).as(name).isEqualTo(200);
            assertThat(a.result().has("STAGE_ID")).as(name).isTrue();
        }
    }

    @Test
    void unknownMethodIs404MethodNotFound() {
        Rest.Answer a = Rest.crm(emu, "crm.deal.nosuch", Map.of());
        assertThat(a.status()).isEqualTo(404);
        assertThat(a.body().get("error").asText()).isEqualTo("ERROR_METHOD_NOT_FOUND");
        assertThat(a.body().get("error_description").asText()).isEqualTo("Method not found!");
        // CRM and sale are not part of REST 3.0
        String rest3 = emu.crmWebhookUrl().replace("/rest/", "/rest/api/") + "crm.deal.get";
        assertThat(Rest.postJson(rest3, Map.of("id", 1)).body().get("error").asText()).isEqualTo("ERROR_METHOD_NOT_FOUND");
        // the store does not serve CRM methods and vice versa
        assertThat(Rest.store(emu, "crm.deal.get", Map.of("id", 1)).status()).isEqualTo(404);
        assertThat(Rest.crm(emu, "sale.order.get", Map.of("id", 1)).status()).isEqualTo(404);
    }

    // reference CONFLICT: the docs say 403 for INVALID_CREDENTIALS, a server-code reading says 401; the emulator
    // follows the docs, so a client must key on the error string, not on the status alone
    @Test
    void wrongWebhookCodeOrUserIs403InvalidCredentials() {
        Rest.Answer wrongCode = Rest.postJson(emu.baseUrl() + "/rest/1/notthecode123/crm.deal.get", Map.of("id", 1));
        assertThat(wrongCode.status()).isEqualTo(403);
        assertThat(wrongCode.body().get("error").asText()).isEqualTo("INVALID_CREDENTIALS");
        String otherUser = emu.crmWebhookUrl().replace("/rest/1/", "/rest/2/");
        assertThat(Rest.postJson(otherUser + "crm.deal.get", Map.of("id", 1)).status()).isEqualTo(403);
        // the secret never appears in an answer
        assertThat(wrongCode.raw()).doesNotContain("notthecode123");
    }

    @Test
    void noAuthIs401NoAuthFound() {
        Rest.Answer a = Rest.postJson(emu.baseUrl() + "/rest/crm.deal.get", Map.of("id", 1));
        assertThat(a.status()).isEqualTo(401);
        assertThat(a.body().get("error").asText()).isEqualTo("NO_AUTH_FOUND");
        assertThat(a.body().get("error_description").asText()).isEqualTo("Wrong authorization data");
    }

    @Test
    void successEnvelopeCarriesResultAndTimeButNoTotalForSingleObjects() {
        long id = emu.crm().addDealAsHuman(Map.of("TITLE", "t"));
        Rest.Answer a = Rest.crm(emu, "crm.deal.get", Map.of("id", id));
        assertThat(a.contentType()).startsWith("application/json");
        assertThat(a.body().has("result")).isTrue();
        assertThat(a.body().has("total")).isFalse();
        assertThat(a.body().has("next")).isFalse();
        JsonNode time = a.body().get("time");
        for (String key : List.of("start", "finish", "duration", "processing", "date_start", "date_finish")) {
            assertThat(time.has(key)).as(key).isTrue();
        }
        assertThat(time.get("start").isNumber()).isTrue();
        assertThat(time.get("date_start").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d[+-]\\d\\d:\\d\\d");
        assertThat(time.has("operating")).isFalse(); // only with the operating-time limit switched on
    }

    @Test
    void classicCrmValidationErrorsAre400WithEmptyErrorCode() {
        Rest.Answer missing = Rest.crm(emu, "crm.deal.get", Map.of("id", 999));
        assertThat(missing.status()).isEqualTo(400);
        assertThat(missing.body().get("error").asText()).isEmpty();
        assertThat(missing.body().get("error").isTextual()).isTrue();
        assertThat(missing.body().get("error_description").asText()).isEqualTo("Not found");
        Rest.Answer noId = Rest.crm(emu, "crm.deal.get", Map.of());
        assertThat(noId.body().get("error_description").asText()).isEqualTo("ID is not defined or invalid.");
    }

    @Test
    void formEncodedBodyUsesPhpBracketNotation() {
        emu.crm().addDealUserField("UF_CRM_TAGS", "string", true);
        Rest.Answer a = Rest.postForm(emu.crmWebhookUrl() + "crm.deal.add",
                "fields%5BTITLE%5D=Order%20%235%20%26%20more&fields[OPPORTUNITY]=12.5&fields[UF_CRM_TAGS][]=a&fields[UF_CRM_TAGS][]=b");
        assertThat(a.status()).isEqualTo(200);
        Map<String, Object> deal = emu.crm().deal(a.result().asLong());
        assertThat(deal.get("TITLE")).isEqualTo("Order #5 & more");
        assertThat(deal.get("OPPORTUNITY")).isEqualTo("12.50");
        assertThat(deal.get("UF_CRM_TAGS")).isEqualTo(List.of("a", "b"));
    }

    @Test
    void getWithQueryStringAndUpperCaseTopLevelNamesWork() {
        long id = emu.crm().addDealAsHuman(Map.of("TITLE", "by get"));
        Rest.Answer a = Rest.get(emu.crmWebhookUrl() + "crm.deal.get?ID=" + id);
        assertThat(a.status()).isEqualTo(200);
        assertThat(a.result().get("TITLE").asText()).isEqualTo("by get");
        Rest.Answer upper = Rest.crm(emu, "crm.deal.update", Map.of("ID", id, "FIELDS", Map.of("TITLE", "upper")));
        assertThat(upper.result().asBoolean()).isTrue();
        assertThat(emu.crm().deal(id).get("TITLE")).isEqualTo("upper");
    }

    @Test
    void multipartBodyIsParsedLikeAForm() {
        String boundary = "----emu" + System.nanoTime();
        String body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"fields[TITLE]\"\r\n\r\nПривет multipart\r\n"
                + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"fields[ORIGIN_ID]\"\r\n\r\n77\r\n"
                + "--" + boundary + "--\r\n";
        Rest.Answer a = Rest.post(emu.crmWebhookUrl() + "crm.deal.add", "multipart/form-data; boundary=" + boundary,
                body.getBytes(StandardCharsets.UTF_8));
        assertThat(a.status()).isEqualTo(200);
        Map<String, Object> deal = emu.crm().deal(a.result().asLong());
        assertThat(deal.get("TITLE")).isEqualTo("Привет multipart");
        assertThat(deal.get("ORIGIN_ID")).isEqualTo("77");
    }

    @Test
    void saleErrorsCarryNumericCodes() {
        Rest.Answer a = Rest.store(emu, "sale.order.get", Map.of("id", 12345));
        assertThat(a.status()).isEqualTo(400);
        assertThat(a.body().get("error").isNumber()).isTrue();
        assertThat(a.body().get("error").asLong()).isEqualTo(200540400001L);
        Rest.Answer noId = Rest.store(emu, "sale.order.get", Map.of());
        assertThat(noId.body().get("error").asLong()).isEqualTo(100);
    }

    @Test
    void callLogRecordsMethodStatusAndParams() {
        long id = emu.crm().addDealAsHuman(Map.of("TITLE", "x"));
        Rest.crm(emu, "crm.deal.update", Map.of("id", id, "fields", Map.of("TITLE", "y")));
        Rest.crm(emu, "crm.deal.update", Map.of("id", 999, "fields", Map.of("TITLE", "y")));
        assertThat(emu.calls().count(Portal.CRM, "crm.deal.update")).isEqualTo(2);
        assertThat(emu.calls().succeeded(Portal.CRM, "crm.deal.update", c -> String.valueOf(id).equals(c.param("id")))).isEqualTo(1);
        Call failed = emu.calls().of(Portal.CRM, "crm.deal.update").get(1);
        assertThat(failed.httpStatus()).isEqualTo(400);
        assertThat(failed.param("fields", "TITLE")).isEqualTo("y");
    }

    @Test
    void eventMethodsNeedApplicationAuthAndRefuseInboundWebhooks() {
        Rest.Answer a = Rest.crm(emu, "event.bind", Map.of("event", "ONCRMDEALUPDATE", "handler", "https://example.com/h"));
        assertThat(a.status()).isEqualTo(403);
        assertThat(a.body().get("error").asText()).isEqualTo("WRONG_AUTH_TYPE");
        assertThat(Rest.store(emu, "event.offline.get", Map.of()).body().get("error").asText()).isEqualTo("WRONG_AUTH_TYPE");
    }

    @Test
    void methodsOutsideTheWebhookScopesAre403InsufficientScope() {
        try (BitrixEmulator scoped = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled()
                .webhookScopes(Portal.STORE, "sale", "catalog"))) {
            assertThat(Rest.store(scoped, "sale.order.list", Map.of()).status()).isEqualTo(200);
            Rest.Answer denied = Rest.store(scoped, "sale.paysystem.list", Map.of());
            assertThat(denied.status()).isEqualTo(403);
            assertThat(denied.body().get("error").asText()).isEqualTo("insufficient_scope");
            Rest.Answer inBatch = Rest.store(scoped, "batch", Map.of("cmd", Map.of("ps", "sale.paysystem.list")));
            assertThat(inBatch.result().get("result_error").get("ps").get("error").asText()).isEqualTo("insufficient_scope");
        }
    }
}
