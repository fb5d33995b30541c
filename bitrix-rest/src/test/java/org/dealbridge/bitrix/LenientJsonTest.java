package org.dealbridge.bitrix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class LenientJsonTest {
    private static JsonNode json(String s) throws Exception {
        return new ObjectMapper().readTree(s);
    }

    @Test
    void numbersArriveAsNumbersOrStrings() throws Exception {
        JsonNode n = json("{\"a\":\"410\",\"b\":410,\"c\":null,\"d\":\"\",\"e\":\"15400.50\",\"f\":15400.5,\"g\":\"12x\",\"h\":\"1.0\"}");
        assertThat(LenientJson.optLong(n, "a")).contains(410L);
        assertThat(LenientJson.optLong(n, "b")).contains(410L);
        assertThat(LenientJson.optLong(n, "c")).isEmpty();
        assertThat(LenientJson.optLong(n, "d")).isEmpty();
        assertThat(LenientJson.optLong(n, "missing")).isEmpty();
        assertThat(LenientJson.optDecimal(n, "e")).contains(new BigDecimal("15400.50"));
        assertThat(LenientJson.optDecimal(n, "f")).contains(new BigDecimal("15400.5"));
        assertThatThrownBy(() -> LenientJson.optLong(n, "g")).isInstanceOf(LenientJson.MalformedValue.class)
                .hasMessageContaining("'g'").hasMessageContaining("\"12x\"");
        assertThatThrownBy(() -> LenientJson.optLong(n, "e")).hasMessageContaining("'e'");
        assertThatThrownBy(() -> LenientJson.requiredLong(n, "c")).hasMessageContaining("'c'");
    }

    @Test
    void flagsInEveryDialect() throws Exception {
        JsonNode n = json("{\"y\":\"Y\",\"n\":\"N\",\"t\":true,\"f\":false,\"one\":1,\"zero\":\"0\",\"bad\":\"maybe\"}");
        assertThat(LenientJson.optFlag(n, "y")).contains(true);
        assertThat(LenientJson.optFlag(n, "n")).contains(false);
        assertThat(LenientJson.optFlag(n, "t")).contains(true);
        assertThat(LenientJson.optFlag(n, "f")).contains(false);
        assertThat(LenientJson.optFlag(n, "one")).contains(true);
        assertThat(LenientJson.optFlag(n, "zero")).contains(false);
        assertThat(LenientJson.flag(n, "missing", true)).isTrue();
        assertThatThrownBy(() -> LenientJson.optFlag(n, "bad")).hasMessageContaining("'bad'").hasMessageContaining("maybe");
    }

    @Test
    void emptyArrayWhereAnObjectIsExpected() throws Exception {
        JsonNode n = json("{\"result_error\":[],\"ok\":{\"a\":1},\"s\":\"x\"}");
        assertThat(LenientJson.object(n, "result_error").isEmpty()).isTrue();
        assertThat(LenientJson.object(n, "missing").isEmpty()).isTrue();
        assertThat(LenientJson.object(n, "ok").get("a").asInt()).isEqualTo(1);
        assertThatThrownBy(() -> LenientJson.object(n, "s")).hasMessageContaining("'s'");
    }

    @Test
    void datetimesKeepTheirOffsetAndDatesAreTakenInIt() throws Exception {
        JsonNode n = json("{\"d\":\"2024-08-30T02:00:00+02:00\",\"plain\":\"2024-09-01\",\"bad\":\"2021-04-05T14: 00: 00-00: 00\"}");
        assertThat(LenientJson.optDateTime(n, "d")).contains(OffsetDateTime.of(2024, 8, 30, 2, 0, 0, 0, ZoneOffset.ofHours(2)));
        // converting to UTC first would give 2024-08-29 (pitfall §13.11)
        assertThat(LenientJson.optDate(n, "d")).contains(LocalDate.of(2024, 8, 30));
        assertThat(LenientJson.optDate(n, "plain")).contains(LocalDate.of(2024, 9, 1));
        assertThatThrownBy(() -> LenientJson.optDateTime(n, "bad")).hasMessageContaining("'bad'");
    }

    @Test
    void longsFromMixedArrays() throws Exception {
        JsonNode n = json("{\"CONTACT\":[275,\"2297\"],\"bad\":[\"x\"]}");
        assertThat(LenientJson.longs(n, "CONTACT")).containsExactly(275L, 2297L);
        assertThat(LenientJson.longs(n, "LEAD")).isEmpty();
        assertThatThrownBy(() -> LenientJson.longs(n, "bad")).hasMessageContaining("'bad'");
    }

    @Test
    void userFieldsByPrefix() throws Exception {
        JsonNode n = json("{\"ID\":\"1\",\"UF_CRM_A\":\"x\",\"UF_CRM_B\":null}");
        assertThat(LenientJson.fieldsWithPrefix(n, "UF_")).containsOnlyKeys("UF_CRM_A", "UF_CRM_B");
    }
}
