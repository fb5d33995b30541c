package org.dealbridge.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ListsTest {
    private final ManualClock clock = new ManualClock(Instant.parse("2024-09-01T09:00:00Z"));
    private BitrixEmulator emu;

    @BeforeEach
    void start() {
        emu = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled().clock(clock));
        emu.crm().addDealUserField("UF_CRM_SHOP_ORDER", "string");
        for (int i = 1; i <= 120; i++) {
            emu.crm().addDealAsHuman(Map.of("TITLE", "Deal " + i, "ORIGINATOR_ID", i % 2 == 0 ? "shop" : "other",
                    "ORIGIN_ID", Integer.toString(i), "OPPORTUNITY", i * 10, "UF_CRM_SHOP_ORDER", "N" + i));
            clock.advance(Duration.ofSeconds(1));
        }
    }

    @AfterEach
    void stop() {
        emu.close();
    }

    private Rest.Answer list(Map<String, Object> params) {
        Rest.Answer a = Rest.crm(emu, "crm.deal.list", params);
        assertThat(a.status()).as(a.raw()).isEqualTo(200);
        return a;
    }

    @Test
    void pagesOf50WithTotalAndNextOnlyWhileMoreRemain() {
        Rest.Answer first = list(Map.of("order", Map.of("ID", "ASC")));
        assertThat(first.result().size()).isEqualTo(50);
        assertThat(first.body().get("total").asInt()).isEqualTo(120);
        assertThat(first.body().get("next").asInt()).isEqualTo(50);
        Rest.Answer second = list(Map.of("start", 50));
        assertThat(second.result().get(0).get("ID").asText()).isEqualTo("51");
        assertThat(second.body().get("next").asInt()).isEqualTo(100);
        Rest.Answer last = list(Map.of("start", 100));
        assertThat(last.result().size()).isEqualTo(20);
        assertThat(last.body().has("next")).isFalse();
        assertThat(last.body().get("total").asInt()).isEqualTo(120);
    }

    @Test
    void classicStartIsRoundedDownToThePage() {
        Rest.Answer a = list(Map.of("start", 57));
        assertThat(a.result().get(0).get("ID").asText()).isEqualTo("51");
    }

    @Test
    void startMinusOneSkipsTheCount() {
        Rest.Answer a = list(Map.of("start", -1, "filter", Map.of(">ID", 100), "order", Map.of("ID", "ASC")));
        assertThat(a.result().size()).isEqualTo(20);
        assertThat(a.result().get(0).get("ID").asText()).isEqualTo("101");
        assertThat(a.body().has("total")).isFalse();
        assertThat(a.body().has("next")).isFalse();
    }

    @Test
    void filterByOriginAndModifiedSinceAndComparisons() {
        JsonNode byOrigin = list(Map.of("filter", Map.of("ORIGINATOR_ID", "shop", "ORIGIN_ID", "42"), "select", List.of("ID"))).result();
        assertThat(byOrigin.size()).isEqualTo(1);
        assertThat(byOrigin.get(0).get("ID").asText()).isEqualTo("42");
        assertThat(byOrigin.get(0).size()).isEqualTo(1); // only what was selected

        // deal i was modified at 09:00:00 + (i-1) s UTC = 12:00:xx+03:00
        Rest.Answer since = list(Map.of("filter", Map.of(">DATE_MODIFY", "2024-09-01T12:01:50+03:00")));
        assertThat(since.body().get("total").asInt()).isEqualTo(9); // deals 112..120
        Rest.Answer sinceUtc = list(Map.of("filter", Map.of(">DATE_MODIFY", "2024-09-01T09:01:50+00:00")));
        assertThat(sinceUtc.body().get("total").asInt()).isEqualTo(9);

        Rest.Answer range = list(Map.of("filter", Map.of(">=OPPORTUNITY", 100, "<OPPORTUNITY", 150, "@ORIGINATOR_ID", List.of("shop"))));
        assertThat(range.body().get("total").asInt()).isEqualTo(3); // 10, 12, 14
        Rest.Answer like = list(Map.of("filter", Map.of("%TITLE", "Deal 11")));
        assertThat(like.body().get("total").asInt()).isEqualTo(11); // 11, 110..119
        Rest.Answer not = list(Map.of("filter", Map.of("!ORIGINATOR_ID", "shop")));
        assertThat(not.body().get("total").asInt()).isEqualTo(60);
        Rest.Answer badDate = list(Map.of("filter", Map.of(">DATE_MODIFY", "2021-04-05T14: 00: 00-00: 00")));
        assertThat(badDate.body().get("total").asInt()).isZero();
    }

    @Test
    void orderAndSelectMasks() {
        JsonNode desc = list(Map.of("order", Map.of("OPPORTUNITY", "DESC"), "select", List.of("ID", "OPPORTUNITY"))).result();
        assertThat(desc.get(0).get("ID").asText()).isEqualTo("120");
        assertThat(desc.get(0).get("OPPORTUNITY").asText()).isEqualTo("1200.00");

        JsonNode all = list(Map.of("select", List.of("*"))).result();
        assertThat(all.get(0).has("TITLE")).isTrue();
        assertThat(all.get(0).has("UF_CRM_SHOP_ORDER")).isFalse();
        JsonNode withUf = list(Map.of("select", List.of("ID", "UF_*"))).result();
        assertThat(withUf.get(0).get("UF_CRM_SHOP_ORDER").asText()).isEqualTo("N1");
        assertThat(withUf.get(0).has("TITLE")).isFalse();
        JsonNode byDefault = list(Map.of()).result();
        assertThat(byDefault.get(0).has("TITLE")).isTrue();
        assertThat(byDefault.get(0).has("UF_CRM_SHOP_ORDER")).isTrue();
        JsonNode byUf = list(Map.of("filter", Map.of("UF_CRM_SHOP_ORDER", "N77"), "select", List.of("ID"))).result();
        assertThat(byUf.get(0).get("ID").asText()).isEqualTo("77");
    }

    @Test
    void sortingByStageFollowsStageOrderNotTheAlphabet() {
        emu.crm().updateDealAsHuman(1, Map.of("STAGE_ID", "WON"));
        emu.crm().updateDealAsHuman(2, Map.of("STAGE_ID", "EXECUTING"));
        emu.crm().updateDealAsHuman(3, Map.of("STAGE_ID", "APOLOGY"));
        JsonNode rows = list(Map.of("filter", Map.of("@ID", List.of(1, 2, 3)), "order", Map.of("STAGE_ID", "ASC"),
                "select", List.of("ID", "STAGE_ID"))).result();
        assertThat(rows.get(0).get("STAGE_ID").asText()).isEqualTo("EXECUTING");
        assertThat(rows.get(1).get("STAGE_ID").asText()).isEqualTo("WON");
        assertThat(rows.get(2).get("STAGE_ID").asText()).isEqualTo("APOLOGY");
    }

    @Test
    void crmItemListExportsDealsInCamelCaseWithIdWatermark() {
        Rest.Answer a = Rest.crm(emu, "crm.item.list", Map.of("entityTypeId", 2, "filter", Map.of(">id", 100),
                "order", Map.of("id", "ASC"), "select", List.of("id", "title", "originId"), "start", -1));
        assertThat(a.status()).as(a.raw()).isEqualTo(200);
        JsonNode items = a.result().get("items");
        assertThat(items.size()).isEqualTo(20);
        assertThat(items.get(0).get("id").isNumber()).isTrue();
        assertThat(items.get(0).get("id").asLong()).isEqualTo(101);
        assertThat(items.get(0).get("originId").asText()).isEqualTo("101");
        assertThat(items.get(0).has("stageId")).isFalse();
        assertThat(a.body().has("total")).isFalse();
        Rest.Answer paged = Rest.crm(emu, "crm.item.list", Map.of("entityTypeId", 2, "start", 50));
        assertThat(paged.body().get("total").asInt()).isEqualTo(120);
        assertThat(paged.body().get("next").asInt()).isEqualTo(100);
    }
}
