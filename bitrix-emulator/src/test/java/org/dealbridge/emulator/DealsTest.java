package org.dealbridge.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DealsTest {
    private final ManualClock clock = new ManualClock(Instant.parse("2024-09-01T09:00:05Z"));
    private BitrixEmulator emu;

    @BeforeEach
    void start() {
        emu = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled().clock(clock));
        emu.crm().addPipeline(1, "Online store");
    }

    @AfterEach
    void stop() {
        emu.close();
    }

    private long add(Map<String, Object> fields) {
        Rest.Answer a = Rest.crm(emu, "crm.deal.add", Map.of("fields", fields));
        assertThat(a.status()).as(a.raw()).isEqualTo(200);
        assertThat(a.result().isIntegralNumber()).as("crm.deal.add returns the id as a JSON integer").isTrue();
        return a.result().asLong();
    }

    private JsonNode get(long id) {
        return Rest.crm(emu, "crm.deal.get", Map.of("id", id)).result();
    }

    @Test
    void dealValuesAreStringsAndEmptyReferencesNull() {
        long id = add(Map.of("TITLE", "Shop order #5001", "CATEGORY_ID", 1, "STAGE_ID", "C1:NEW", "OPPORTUNITY", 1500,
                "ASSIGNED_BY_ID", 7, "BEGINDATE", "2024-09-01"));
        JsonNode deal = get(id);
        assertThat(deal.get("ID").isTextual()).isTrue();
        assertThat(deal.get("ID").asText()).isEqualTo(Long.toString(id));
        assertThat(deal.get("OPPORTUNITY").asText()).isEqualTo("1500.00");
        assertThat(deal.get("OPPORTUNITY").isTextual()).isTrue();
        assertThat(deal.get("CATEGORY_ID").asText()).isEqualTo("1");
        assertThat(deal.get("ASSIGNED_BY_ID").asText()).isEqualTo("7");
        assertThat(deal.get("LEAD_ID").isNull()).isTrue();
        assertThat(deal.get("CONTACT_ID").isNull()).isTrue();
        assertThat(deal.get("DATE_CREATE").asText()).isEqualTo("2024-09-01T12:00:05+03:00");
        assertThat(deal.get("DATE_MODIFY").asText()).isEqualTo("2024-09-01T12:00:05+03:00");
        assertThat(deal.get("BEGINDATE").asText()).isEqualTo("2024-09-01T03:00:00+03:00");
        assertThat(deal.get("STAGE_SEMANTIC_ID").asText()).isEqualTo("P");
        assertThat(deal.get("IS_NEW").asText()).isEqualTo("Y");
        assertThat(deal.get("CLOSED").asText()).isEqualTo("N");
    }

    @Test
    void unknownCategoryAndStageAreSilentlyDefaultedOnAdd() {
        long unknownCategory = add(Map.of("CATEGORY_ID", 42, "STAGE_ID", "C42:NEW"));
        assertThat(get(unknownCategory).get("CATEGORY_ID").asText()).isEqualTo("0");
        assertThat(get(unknownCategory).get("STAGE_ID").asText()).isEqualTo("NEW");

        long unknownStage = add(Map.of("CATEGORY_ID", 1, "STAGE_ID", "PAID_NOT_EXISTING"));
        assertThat(get(unknownStage).get("CATEGORY_ID").asText()).isEqualTo("1");
        assertThat(get(unknownStage).get("STAGE_ID").asText()).isEqualTo("C1:NEW");

        long foreignStage = add(Map.of("CATEGORY_ID", 1, "STAGE_ID", "WON")); // WON belongs to pipeline 0
        assertThat(get(foreignStage).get("STAGE_ID").asText()).isEqualTo("C1:NEW");

        long known = add(Map.of("CATEGORY_ID", 1, "STAGE_ID", "C1:WON"));
        JsonNode won = get(known);
        assertThat(won.get("STAGE_ID").asText()).isEqualTo("C1:WON");
        assertThat(won.get("STAGE_SEMANTIC_ID").asText()).isEqualTo("S");
        assertThat(won.get("CLOSED").asText()).isEqualTo("Y");
        assertThat(won.get("IS_NEW").asText()).isEqualTo("N");
    }

    @Test
    void updateIgnoresCategoryAndForeignStagesButStillAnswersTrue() {
        long id = add(Map.of("CATEGORY_ID", 1, "STAGE_ID", "C1:NEW"));
        Rest.Answer a = Rest.crm(emu, "crm.deal.update", Map.of("id", id, "fields", Map.of("CATEGORY_ID", 0, "STAGE_ID", "WON")));
        assertThat(a.status()).isEqualTo(200);
        assertThat(a.result().asBoolean()).isTrue();
        assertThat(get(id).get("CATEGORY_ID").asText()).isEqualTo("1");
        assertThat(get(id).get("STAGE_ID").asText()).isEqualTo("C1:NEW");

        clock.advance(java.time.Duration.ofMinutes(1));
        Rest.crm(emu, "crm.deal.update", Map.of("id", id, "fields", Map.of("STAGE_ID", "C1:LOSE", "DATE_CREATE", "2020-01-01")));
        JsonNode lost = get(id);
        assertThat(lost.get("STAGE_ID").asText()).isEqualTo("C1:LOSE");
        assertThat(lost.get("STAGE_SEMANTIC_ID").asText()).isEqualTo("F");
        assertThat(lost.get("CLOSED").asText()).isEqualTo("Y");
        assertThat(lost.get("DATE_CREATE").asText()).isEqualTo("2024-09-01T12:00:05+03:00");
        assertThat(lost.get("DATE_MODIFY").asText()).isEqualTo("2024-09-01T12:01:05+03:00");
        assertThat(lost.get("MOVED_TIME").asText()).isEqualTo("2024-09-01T12:01:05+03:00");
    }

    @Test
    void updateOfMissingDealIsClassicNotFound() {
        Rest.Answer a = Rest.crm(emu, "crm.deal.update", Map.of("id", 777, "fields", Map.of("TITLE", "x")));
        assertThat(a.status()).isEqualTo(400);
        assertThat(a.body().get("error").asText()).isEmpty();
        assertThat(a.body().get("error_description").asText()).isEqualTo("Not found");
    }

    @Test
    void crmItemUpdateIsTheOnlyWayToMoveADealToAnotherPipeline() {
        long id = add(Map.of("CATEGORY_ID", 0, "STAGE_ID", "PREPARATION"));
        Rest.Answer moved = Rest.crm(emu, "crm.item.update",
                Map.of("entityTypeId", 2, "id", id, "fields", Map.of("categoryId", 1, "stageId", "C1:PREPARATION")));
        assertThat(moved.status()).as(moved.raw()).isEqualTo(200);
        JsonNode item = moved.result().get("item");
        assertThat(item.get("id").isNumber()).isTrue();
        assertThat(item.get("categoryId").asInt()).isEqualTo(1);
        assertThat(item.get("stageId").asText()).isEqualTo("C1:PREPARATION");
        assertThat(get(id).get("CATEGORY_ID").asText()).isEqualTo("1");

        // reference: UNVERIFIED — without stageId the deal lands in the first stage of the new pipeline
        Rest.Answer again = Rest.crm(emu, "crm.item.update",
                Map.of("entityTypeId", 2, "id", id, "fields", Map.of("categoryId", 0)));
        assertThat(again.result().get("item").get("stageId").asText()).isEqualTo("NEW"); // first stage when omitted

        Rest.Answer badStage = Rest.crm(emu, "crm.item.update",
                Map.of("entityTypeId", 2, "id", id, "fields", Map.of("stageId", "C1:WON")));
        assertThat(badStage.status()).isEqualTo(400);
        Rest.Answer missing = Rest.crm(emu, "crm.item.get", Map.of("entityTypeId", 2, "id", 999));
        assertThat(missing.body().get("error").asText()).isEqualTo("NOT_FOUND");
        Rest.Answer gotten = Rest.crm(emu, "crm.item.get", Map.of("entityTypeId", 2, "id", id));
        assertThat(gotten.result().get("item").get("opportunity").isNumber()).isTrue();
    }

    @Test
    void contactIdsAreStoredButNeverEchoed() {
        long c1 = emu.crm().addContact("Anna", "Smirnova", 1, "anna@example.com", "+7 999 000-11-22");
        long c2 = emu.crm().addContact("Boris", "Ivanov", 1, null, null);
        long id = add(Map.of("TITLE", "with contacts", "CONTACT_IDS", List.of(c2, c1)));
        JsonNode deal = get(id);
        assertThat(deal.has("CONTACT_IDS")).isFalse();
        assertThat(deal.get("CONTACT_ID").asText()).isEqualTo(Long.toString(c2));
        JsonNode items = Rest.crm(emu, "crm.deal.contact.items.get", Map.of("id", id)).result();
        assertThat(items.get(0).get("CONTACT_ID").asLong()).isEqualTo(c2);
        assertThat(items.get(0).get("IS_PRIMARY").asText()).isEqualTo("Y");
        assertThat(items.size()).isEqualTo(2);
        Rest.crm(emu, "crm.deal.update", Map.of("id", id, "fields", Map.of("CONTACT_IDS", List.of(c1))));
        assertThat(emu.crm().dealContactIds(id)).containsExactly(c1);
        assertThat(Rest.crm(emu, "crm.deal.list", Map.of("select", List.of("*", "CONTACT_IDS"))).result().get(0).has("CONTACT_IDS")).isFalse();
        assertThat(Rest.crm(emu, "crm.deal.contact.add", Map.of("id", id, "fields", Map.of("CONTACT_ID", c2, "IS_PRIMARY", "Y"))).result().asBoolean()).isTrue();
        assertThat(Rest.crm(emu, "crm.deal.contact.add", Map.of("id", id, "fields", Map.of("CONTACT_ID", c2))).result().asBoolean()).isFalse();
        assertThat(get(id).get("CONTACT_ID").asText()).isEqualTo(Long.toString(c2));
        assertThat(Rest.crm(emu, "crm.deal.contact.delete", Map.of("id", id, "fields", Map.of("CONTACT_ID", c2))).result().asBoolean()).isTrue();
        assertThat(emu.crm().dealContactIds(id)).containsExactly(c1);
    }

    @Test
    void userFieldsAreWritableOnlyWhenTheyExist() {
        long before = add(Map.of("UF_CRM_PAY_SYSTEM", "Card"));
        assertThat(get(before).has("UF_CRM_PAY_SYSTEM")).isFalse();
        emu.crm().addDealUserField("UF_CRM_PAY_SYSTEM", "string");
        assertThat(get(before).get("UF_CRM_PAY_SYSTEM").asText()).isEmpty();
        long after = add(Map.of("UF_CRM_PAY_SYSTEM", "Card"));
        assertThat(get(after).get("UF_CRM_PAY_SYSTEM").asText()).isEqualTo("Card");
        JsonNode fields = Rest.crm(emu, "crm.deal.userfield.list", Map.of()).result();
        assertThat(fields.get(0).get("FIELD_NAME").asText()).isEqualTo("UF_CRM_PAY_SYSTEM");
        assertThat(fields.get(0).get("ID").isTextual()).isTrue();
        JsonNode described = Rest.crm(emu, "crm.deal.fields", Map.of()).result();
        assertThat(described.get("UF_CRM_PAY_SYSTEM").get("isDynamic").asBoolean()).isTrue();
        assertThat(described.get("CATEGORY_ID").get("isImmutable").asBoolean()).isTrue();
    }

    @Test
    void addWithoutFieldsIsRefused() {
        Rest.Answer a = Rest.crm(emu, "crm.deal.add", Map.of());
        assertThat(a.status()).isEqualTo(400);
        assertThat(a.body().get("error_description").asText()).isEqualTo("Parameter 'fields' must be array.");
        assertThat(Rest.crm(emu, "crm.deal.add", Map.of("fields", Map.of())).status()).isEqualTo(200);
    }

    @Test
    void invalidCurrencyIsAClassicError() {
        Rest.Answer a = Rest.crm(emu, "crm.deal.add", Map.of("fields", Map.of("CURRENCY_ID", "XXX")));
        assertThat(a.status()).isEqualTo(400);
        assertThat(a.body().get("error").asText()).isEmpty();
        assertThat(a.body().get("error_description").asText()).contains("Currency");
        assertThat(emu.crm().deals()).isEmpty();
    }

    @Test
    void productRowsReplaceTheSetAndDriveTheAmount() {
        long id = add(Map.of("TITLE", "rows"));
        List<Map<String, Object>> rows = new ArrayList<>();
        rows.add(Map.of("PRODUCT_NAME", "T-shirt", "PRICE", 980, "QUANTITY", 2));
        rows.add(Map.of("PRODUCT_ID", 348, "PRICE", 500));
        assertThat(Rest.crm(emu, "crm.deal.productrows.set", Map.of("id", id, "rows", rows)).result().asBoolean()).isTrue();
        JsonNode got = Rest.crm(emu, "crm.deal.productrows.get", Map.of("id", id)).result();
        assertThat(got.size()).isEqualTo(2);
        assertThat(got.get(0).get("PRICE").isNumber()).isTrue();
        assertThat(got.get(0).get("OWNER_ID").asText()).isEqualTo(Long.toString(id));
        assertThat(got.get(0).get("OWNER_TYPE").asText()).isEqualTo("D");
        assertThat(get(id).get("OPPORTUNITY").asText()).isEqualTo("2460.00");
        // an amount written while rows exist and IS_MANUAL_OPPORTUNITY=N is overridden by the rows
        Rest.crm(emu, "crm.deal.update", Map.of("id", id, "fields", Map.of("OPPORTUNITY", 5)));
        assertThat(get(id).get("OPPORTUNITY").asText()).isEqualTo("2460.00");
        Rest.crm(emu, "crm.deal.update", Map.of("id", id, "fields", Map.of("OPPORTUNITY", 5, "IS_MANUAL_OPPORTUNITY", "Y")));
        assertThat(get(id).get("OPPORTUNITY").asText()).isEqualTo("5.00");
        Rest.crm(emu, "crm.deal.productrows.set", Map.of("id", id, "rows", List.of()));
        assertThat(Rest.crm(emu, "crm.deal.productrows.get", Map.of("id", id)).result().size()).isZero();
    }

    @Test
    void pipelinesAndStagesAreListedTheWayEachMethodDoes() {
        JsonNode categories = Rest.crm(emu, "crm.category.list", Map.of("entityTypeId", 2)).result().get("categories");
        List<Integer> ids = new ArrayList<>();
        categories.forEach(c -> ids.add(c.get("id").asInt()));
        assertThat(ids).containsExactlyInAnyOrder(0, 1);
        categories.forEach(c -> assertThat(c.get("isDefault").asText()).isEqualTo(c.get("id").asInt() == 0 ? "Y" : "N"));

        JsonNode old = Rest.crm(emu, "crm.dealcategory.list", Map.of()).result();
        assertThat(old.size()).isEqualTo(1); // the default pipeline is omitted
        assertThat(old.get(0).get("ID").asText()).isEqualTo("1");

        JsonNode stages = Rest.crm(emu, "crm.status.list", Map.of("filter", Map.of("ENTITY_ID", "DEAL_STAGE_1"))).result();
        assertThat(stages.get(0).get("STATUS_ID").asText()).isEqualTo("C1:NEW");
        assertThat(stages.get(0).get("SEMANTICS").isNull()).isTrue();
        assertThat(stages.get(0).get("EXTRA").get("SEMANTICS").asText()).isEqualTo("process");
        JsonNode defaults = Rest.crm(emu, "crm.status.list", Map.of("filter", Map.of("ENTITY_ID", "DEAL_STAGE"))).result();
        List<String> codes = new ArrayList<>();
        defaults.forEach(s -> codes.add(s.get("STATUS_ID").asText()));
        assertThat(codes).containsExactly("NEW", "PREPARATION", "PREPAYMENT_INVOICE", "EXECUTING", "FINAL_INVOICE", "WON", "LOSE", "APOLOGY");
        assertThat(defaults.get(7).get("SEMANTICS").asText()).isEqualTo("F");
        assertThat(defaults.get(7).get("EXTRA").get("SEMANTICS").asText()).isEqualTo("apology");
        assertThat(defaults.get(0).get("CATEGORY_ID").isNull()).isTrue();

        String custom = emu.crm().addStage(1, "PAID", "Paid", StageSemantics.PROCESS, 25);
        assertThat(custom).isEqualTo("C1:PAID");
        long id = add(Map.of("CATEGORY_ID", 1, "STAGE_ID", "C1:PAID"));
        assertThat(get(id).get("STAGE_ID").asText()).isEqualTo("C1:PAID");
    }

    @Test
    void userGetReturnsActiveAsJsonBoolean() {
        emu.crm().addUser(7, "Ivan", true);
        emu.crm().addUser(8, "Fired", false);
        JsonNode users = Rest.crm(emu, "user.get", Map.of("FILTER", Map.of("ID", 7))).result();
        assertThat(users.size()).isEqualTo(1);
        assertThat(users.get(0).get("ID").asText()).isEqualTo("7");
        assertThat(users.get(0).get("ACTIVE").isBoolean()).isTrue();
        Rest.Answer fired = Rest.crm(emu, "user.get", Map.of("ID", 8, "ACTIVE", true));
        assertThat(fired.result().size()).isZero();
        assertThat(fired.body().get("total").asInt()).isZero();
        assertThat(Rest.crm(emu, "user.get", Map.of("ID", 8)).result().get(0).get("ACTIVE").asBoolean()).isFalse();
    }

    @Test
    void contactsAndDuplicateSearchByCommunication() {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("NAME", "Anna");
        fields.put("PHONE", List.of(Map.of("VALUE", "+79990001122", "VALUE_TYPE", "MOBILE")));
        fields.put("EMAIL", List.of(Map.of("VALUE", "Anna@Example.com", "VALUE_TYPE", "WORK")));
        long id = Rest.crm(emu, "crm.contact.add", Map.of("fields", fields)).result().asLong();
        JsonNode contact = Rest.crm(emu, "crm.contact.get", Map.of("id", id)).result();
        assertThat(contact.get("PHONE").get(0).get("TYPE_ID").asText()).isEqualTo("PHONE");
        assertThat(contact.get("HAS_EMAIL").asText()).isEqualTo("Y");

        JsonNode none = Rest.crm(emu, "crm.duplicate.findbycomm", Map.of("type", "EMAIL", "values", List.of("nobody@example.com"))).result();
        assertThat(none.isArray()).isTrue();
        assertThat(none.size()).isZero();
        JsonNode byEmail = Rest.crm(emu, "crm.duplicate.findbycomm",
                Map.of("entity_type", "CONTACT", "type", "EMAIL", "values", List.of("anna@example.com"))).result();
        assertThat(byEmail.get("CONTACT").get(0).asLong()).isEqualTo(id);
        // reference: UNVERIFIED — phone formatting is ignored by the duplicate search (digits compared)
        JsonNode byPhone = Rest.crm(emu, "crm.duplicate.findbycomm", Map.of("type", "PHONE", "values", List.of("+7 (999) 000-11-22"))).result();
        assertThat(byPhone.get("CONTACT").get(0).asLong()).isEqualTo(id);

        List<String> many = new ArrayList<>();
        for (int i = 0; i < 21; i++) {
            many.add("x" + i + "@example.com");
        }
        assertThat(Rest.crm(emu, "crm.duplicate.findbycomm", Map.of("type", "EMAIL", "values", many)).status()).isEqualTo(400);
        Rest.Answer noType = Rest.crm(emu, "crm.duplicate.findbycomm", Map.of("values", List.of("a@b.c")));
        assertThat(noType.body().get("error").asText()).isEqualTo("Communication type is not defined");

        Rest.Answer badEmail = Rest.crm(emu, "crm.contact.add", Map.of("fields", Map.of("EMAIL", List.of(Map.of("VALUE", "not-an-email")))));
        assertThat(badEmail.status()).isEqualTo(400);
        assertThat(badEmail.body().get("error").asText()).isEqualTo("ERROR_CORE");

        JsonNode listed = Rest.crm(emu, "crm.contact.list", Map.of("filter", Map.of("PHONE", "+79990001122"), "select", List.of("ID", "PHONE"))).result();
        assertThat(listed.size()).isEqualTo(1);
        assertThat(Rest.crm(emu, "crm.contact.list", Map.of("filter", Map.of("PHONE", "89990001122"))).result().size()).isZero();
    }

    @Test
    void deleteRemovesTheDeal() {
        long id = add(Map.of("TITLE", "gone"));
        assertThat(Rest.crm(emu, "crm.deal.delete", Map.of("id", id)).result().asBoolean()).isTrue();
        assertThat(Rest.crm(emu, "crm.deal.get", Map.of("id", id)).status()).isEqualTo(400);
        assertThat(emu.crm().deal(id)).isNull();
    }

    // reference: UNVERIFIED — boolean UF values are returned as "1"/"0" (the docs write "Y"/"N"); accept both
    @Test
    void booleanUserFieldsComeBackAsOneOrZero() {
        emu.crm().addDealUserField("UF_CRM_PAID", "boolean");
        long yes = add(Map.of("UF_CRM_PAID", "Y"));
        long no = add(Map.of("UF_CRM_PAID", "N"));
        assertThat(get(yes).get("UF_CRM_PAID").asText()).isEqualTo("1");
        assertThat(get(no).get("UF_CRM_PAID").asText()).isEqualTo("0");
    }
}
