package org.dealbridge.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class BatchTest {
    private BitrixEmulator emu;

    @BeforeEach
    void start() {
        emu = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled());
        emu.crm().addPipeline(1, "Online store");
    }

    @AfterEach
    void stop() {
        emu.close();
    }

    private JsonNode batch(Map<String, Object> params) {
        Rest.Answer a = Rest.crm(emu, "batch", params);
        assertThat(a.status()).as(a.raw()).isEqualTo(200);
        return a.result();
    }

    @Test
    void commandsRunInOrderAndSeeEarlierResults() {
        Map<String, Object> cmd = new LinkedHashMap<>();
        cmd.put("add", "crm.deal.add?fields[TITLE]=Order%20%235001&fields[ORIGINATOR_ID]=shop&fields[ORIGIN_ID]=5001&fields[CATEGORY_ID]=1");
        cmd.put("find", "crm.deal.list?filter[ORIGINATOR_ID]=shop&filter[ORIGIN_ID]=5001&select[]=ID&start=-1");
        cmd.put("deal", "crm.deal.get?id=$result[find][0][ID]");
        cmd.put("byAdd", "crm.deal.get?id=$result[add]");
        cmd.put("title", "crm.deal.update?id=$result[add]&fields[COMMENTS]=id%20$result[add]%20done");
        cmd.put("stages", "crm.status.list?filter[ENTITY_ID]=DEAL_STAGE_1");
        JsonNode r = batch(Map.of("halt", 0, "cmd", cmd));
        long id = r.get("result").get("add").asLong();
        assertThat(r.get("result").get("find").get(0).get("ID").asText()).isEqualTo(Long.toString(id));
        assertThat(r.get("result").get("deal").get("TITLE").asText()).isEqualTo("Order #5001");
        assertThat(r.get("result").get("byAdd").get("ID").asText()).isEqualTo(Long.toString(id));
        assertThat(emu.crm().deal(id).get("COMMENTS")).isEqualTo("id " + id + " done");
        assertThat(r.get("result_total").get("stages").asInt()).isEqualTo(8);
        assertThat(r.get("result_total").has("find")).isFalse(); // start=-1: no count
        assertThat(r.get("result_error").isArray()).isTrue();
        assertThat(r.get("result_error").size()).isZero();
        assertThat(r.get("result_next").isArray()).isTrue();
        assertThat(r.get("result_time").get("deal").has("duration")).isTrue();
    }

    @Test
    void failedCommandsGoToResultErrorAndUnresolvedReferencesFailTheDependentCommand() {
        Map<String, Object> cmd = new LinkedHashMap<>();
        cmd.put("find", "crm.deal.list?filter[ORIGIN_ID]=nothing&select[]=ID");
        cmd.put("deal", "crm.deal.get?id=$result[find][0][ID]");
        cmd.put("fields", "crm.deal.fields");
        JsonNode r = batch(Map.of("cmd", cmd));
        assertThat(r.get("result").get("find").size()).isZero();
        assertThat(r.get("result_error").get("deal").get("error").asText()).isEmpty();
        assertThat(r.get("result_error").get("deal").get("error_description").asText()).isEqualTo("ID is not defined or invalid.");
        assertThat(r.get("result").has("fields")).isTrue();
    }

    @Test
    void haltStopsAtTheFirstError() {
        Map<String, Object> cmd = new LinkedHashMap<>();
        cmd.put("a", "crm.deal.get?id=404");
        cmd.put("b", "crm.deal.add?fields[TITLE]=never");
        JsonNode r = batch(Map.of("halt", 1, "cmd", cmd));
        assertThat(r.get("result").isArray()).isTrue(); // every command failed or was skipped: []
        assertThat(r.get("result_error").has("a")).isTrue();
        assertThat(r.get("result_error").has("b")).isFalse();
        assertThat(emu.crm().deals()).isEmpty();
    }

    @Test
    void moreThan50CommandsFailIndividuallyWithHttp200() {
        Map<String, Object> cmd = new LinkedHashMap<>();
        for (int i = 0; i < 53; i++) {
            cmd.put("c" + i, "crm.deal.add?fields[TITLE]=d" + i);
        }
        JsonNode r = batch(Map.of("cmd", cmd));
        assertThat(r.get("result").size()).isEqualTo(50);
        assertThat(r.get("result_error").size()).isEqualTo(3);
        assertThat(r.get("result_error").get("c52").get("error").asText()).isEqualTo("ERROR_BATCH_LENGTH_EXCEEDED");
        assertThat(emu.crm().deals()).hasSize(50);
    }

    @Test
    void nestedBatchAndUnknownMethodsAreRefusedPerCommand() {
        JsonNode r = batch(Map.of("cmd", Map.of("inner", "batch?cmd[x]=crm.deal.fields", "bad", "crm.nope")));
        assertThat(r.get("result_error").get("inner").get("error").asText()).isEqualTo("ERROR_BATCH_METHOD_NOT_ALLOWED");
        assertThat(r.get("result_error").get("bad").get("error").asText()).isEqualTo("ERROR_METHOD_NOT_FOUND");
    }

    @Test
    void listCmdGivesListShapedResultsAndFormEncodedBatchIsDoubleEncoded() {
        JsonNode r = batch(Map.of("cmd", List.of("crm.deal.add?fields[TITLE]=one", "crm.deal.get?id=$result[0]")));
        assertThat(r.get("result").isArray()).isTrue();
        assertThat(r.get("result").get(1).get("TITLE").asText()).isEqualTo("one");

        String sub = "crm.deal.add?fields[TITLE]=" + URLEncoder.encode("A & B", StandardCharsets.UTF_8);
        Rest.Answer form = Rest.postForm(emu.crmWebhookUrl() + "batch",
                "halt=0&cmd[x]=" + URLEncoder.encode(sub, StandardCharsets.UTF_8));
        long id = form.result().get("result").get("x").asLong();
        assertThat(emu.crm().deal(id).get("TITLE")).isEqualTo("A & B");
    }

    @Test
    void storeBatchServesSaleMethods() {
        emu.store().addPaySystem(6, "Cash", true);
        long order = emu.store().addOrder(NewOrder.create().item(0, "Thing", "10", 1));
        Map<String, Object> cmd = new LinkedHashMap<>(); // order matters: references see earlier commands only
        cmd.put("o", "sale.order.get?id=" + order);
        cmd.put("p", "sale.basketitem.list?filter[orderId]=$result[o][order][id]");
        cmd.put("x", "sale.order.get?id=999");
        JsonNode r = Rest.store(emu, "batch", Map.of("cmd", cmd)).result();
        assertThat(r.get("result").get("p").get("basketItems").size()).isEqualTo(1);
        assertThat(r.get("result_error").get("x").get("error").asLong()).isEqualTo(200540400001L);
    }
}
