package org.dealbridge.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The /emulator/... endpoints demo users drive with curl. */
class AdminApiTest {
    private BitrixEmulator emu;

    @BeforeEach
    void start() {
        emu = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled());
    }

    @AfterEach
    void stop() {
        emu.close();
    }

    private String url(String path) {
        return emu.baseUrl() + "/emulator/" + path;
    }

    @Test
    void seedAndInspectTheCrmOverHttp() {
        assertThat(Rest.postJson(url("crm/pipelines"), Map.of("id", 1, "name", "Shop")).body().get(0).asText()).isEqualTo("C1:NEW");
        assertThat(Rest.postJson(url("crm/stages"), Map.of("pipelineId", 1, "statusId", "PAID", "name", "Paid", "semantics", "process"))
                .body().get("statusId").asText()).isEqualTo("C1:PAID");
        assertThat(Rest.get(url("crm/pipelines/1/stages")).body().toString()).contains("C1:PAID");
        Rest.postJson(url("crm/users"), Map.of("id", 7, "name", "Ivan", "active", true));
        long contact = Rest.postJson(url("crm/contacts"), Map.of("name", "Anna", "email", "a@example.com")).body().get("id").asLong();
        assertThat(Rest.get(url("crm/contacts/" + contact)).body().get("NAME").asText()).isEqualTo("Anna");
        Rest.postJson(url("crm/userfields"), Map.of("fieldName", "UF_CRM_PAY_SYSTEM", "type", "string"));

        long deal = Rest.postJson(url("crm/deals"), Map.of("TITLE", "by hand", "CATEGORY_ID", 1, "UF_CRM_PAY_SYSTEM", "Cash")).body().get("id").asLong();
        JsonNode updated = Rest.postJson(url("crm/deals/" + deal + "/human-update"), Map.of("STAGE_ID", "C1:PAID")).body();
        assertThat(updated.get("STAGE_ID").asText()).isEqualTo("C1:PAID");
        JsonNode deals = Rest.get(url("crm/deals")).body();
        assertThat(deals.size()).isEqualTo(1);
        assertThat(deals.get(0).get("UF_CRM_PAY_SYSTEM").asText()).isEqualTo("Cash");
        assertThat(Rest.get(url("crm/deals/" + deal)).body().get("TITLE").asText()).isEqualTo("by hand");

        Rest.Answer bad = Rest.postJson(url("crm/stages"), Map.of("pipelineId", 99, "statusId", "X", "name", "x"));
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.body().get("error").asText()).contains("pipelineId").contains("99");
        assertThat(Rest.get(url("crm/nothing")).status()).isEqualTo(404);
    }

    @Test
    void seedAndInspectTheStoreOverHttp() {
        Rest.postJson(url("store/sections"), Map.of("id", 13, "name", "Products"));
        Rest.postJson(url("store/products"), Map.of("id", 1275, "name", "Robot", "sectionId", 13, "price", "100"));
        Rest.postJson(url("store/variations"), Map.of("id", 1301, "parentId", 1275, "name", "Robot red", "price", 120));
        Rest.postJson(url("store/statuses"), Map.of("id", "P", "name", "Paid"));
        Rest.postJson(url("store/paysystems"), Map.of("id", 6, "name", "Cash", "cash", true));
        Rest.postJson(url("store/persontypes"), Map.of("id", 2, "name", "Company"));
        long order = Rest.postJson(url("store/orders"), Map.of("statusId", "N", "xmlId", "ext-1",
                "basketItems", List.of(Map.of("productId", 1301, "quantity", 2)),
                "payments", List.of(Map.of("paySystemId", 6, "paid", "N")),
                "properties", Map.of("EMAIL", "b@example.com"))).body().get("id").asLong();
        JsonNode got = Rest.get(url("store/orders/" + order)).body();
        assertThat(got.get("price").decimalValue()).isEqualByComparingTo("240");
        assertThat(got.get("basketItems").get(0).get("price").decimalValue()).isEqualByComparingTo("120");
        JsonNode changed = Rest.postJson(url("store/orders/" + order + "/human-update"), Map.of("statusId", "P", "payed", "Y")).body();
        assertThat(changed.get("statusId").asText()).isEqualTo("P");
        assertThat(changed.get("payed").asText()).isEqualTo("Y");
        assertThat(Rest.get(url("store/orders")).body().size()).isEqualTo(1);
    }

    @Test
    void faultsSubscriptionsCallsAndRateLimitOverHttp() {
        Rest.postJson(url("faults"), Map.of("portal", "crm", "method", "crm.deal.list", "count", 1, "fault", "http_500"));
        assertThat(Rest.crm(emu, "crm.deal.list", Map.of()).status()).isEqualTo(500);
        assertThat(Rest.crm(emu, "crm.deal.list", Map.of()).status()).isEqualTo(200);
        Rest.postJson(url("faults/outage"), Map.of("portal", "store", "seconds", 60, "fault", "HTTP_503"));
        assertThat(Rest.store(emu, "sale.order.list", Map.of()).status()).isEqualTo(503);
        Rest.delete(url("faults"));
        assertThat(Rest.store(emu, "sale.order.list", Map.of()).status()).isEqualTo(200);

        JsonNode calls = Rest.get(url("calls")).body();
        assertThat(calls.size()).isEqualTo(4);
        assertThat(calls.get(0).get("method").asText()).isEqualTo("crm.deal.list");
        assertThat(calls.get(0).get("httpStatus").asInt()).isEqualTo(500);
        Rest.delete(url("calls"));
        assertThat(Rest.get(url("calls")).body().size()).isZero();

        assertThat(Rest.postJson(url("subscriptions"), Map.of("portal", "crm", "handlerUrl", "http://127.0.0.1:9/x",
                "applicationToken", "t", "events", List.of("ONCRMDEALADD"))).body().get("handlerId").asInt()).isPositive();
        assertThat(Rest.get(url("events")).body().has("lost")).isTrue();

        Rest.postJson(url("rate-limit"), Map.of("portal", "crm", "requestsPerSecond", 1, "burst", 1));
        assertThat(Rest.crm(emu, "crm.deal.fields", Map.of()).status()).isEqualTo(200);
        assertThat(Rest.crm(emu, "crm.deal.fields", Map.of()).status()).isEqualTo(503);
        Rest.postJson(url("rate-limit"), Map.of("portal", "crm", "disabled", true));
        assertThat(Rest.crm(emu, "crm.deal.fields", Map.of()).status()).isEqualTo(200);
    }
}
