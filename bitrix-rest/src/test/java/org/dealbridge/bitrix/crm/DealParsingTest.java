package org.dealbridge.bitrix.crm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.OffsetDateTime;
import org.dealbridge.bitrix.LenientJson;
import org.junit.jupiter.api.Test;

/** Parsing of the documented response shapes (reference §5.4, §5.6, §7.3), without HTTP. */
class DealParsingTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void classicDealWithStringNumbersAndNulls() throws Exception {
        Deal d = Deal.fromClassic(JSON.readTree("""
                {"ID":"812","TITLE":"Shop order #5001","CATEGORY_ID":"1","STAGE_ID":"C1:NEW","OPPORTUNITY":"15400.50",
                 "CURRENCY_ID":"RUB","CONTACT_ID":null,"ASSIGNED_BY_ID":"7","ORIGINATOR_ID":"shop-site","ORIGIN_ID":"5001",
                 "DATE_MODIFY":"2024-09-01T12:00:05+03:00","UF_CRM_SHOP_ORDER_NUMBER":"5001","LEAD_ID":null}"""));
        assertThat(d.id()).isEqualTo(812);
        assertThat(d.categoryId()).isEqualTo(1);
        assertThat(d.opportunity()).isEqualByComparingTo("15400.50");
        assertThat(d.contactId()).isNull();
        assertThat(d.assignedById()).isEqualTo(7L);
        assertThat(d.dateModify()).isEqualTo(OffsetDateTime.parse("2024-09-01T12:00:05+03:00"));
        assertThat(d.userFields()).containsOnlyKeys("UF_CRM_SHOP_ORDER_NUMBER");
    }

    @Test
    void classicDealWithoutIdIsRejectedNamingTheField() {
        assertThatThrownBy(() -> Deal.fromClassic(JSON.readTree("{\"TITLE\":\"x\",\"ID\":\"abc\"}")))
                .isInstanceOf(LenientJson.MalformedValue.class).hasMessageContaining("'ID'").hasMessageContaining("abc");
    }

    @Test
    void itemShapeAfterAMove() throws Exception {
        Deal d = Deal.fromItem(JSON.readTree("""
                {"id":812,"title":"x","categoryId":2,"stageId":"C2:NEW","opportunity":15400.5,"currencyId":"RUB",
                 "contactId":0,"assignedById":7,"updatedTime":"2024-09-01T12:00:05+03:00","ufCrmShopOrder":"5001"}"""));
        assertThat(d.categoryId()).isEqualTo(2);
        assertThat(d.stageId()).isEqualTo("C2:NEW");
        assertThat(d.contactId()).isNull();
        assertThat(d.userFields()).containsOnlyKeys("ufCrmShopOrder");
    }

    @Test
    void stageSemanticsFromBothFields() throws Exception {
        assertThat(Stage.from(JSON.readTree("{\"STATUS_ID\":\"C1:WON\",\"SORT\":\"60\",\"CATEGORY_ID\":\"1\",\"SEMANTICS\":\"S\"}"), 1).semantics())
                .isEqualTo(StageSemantics.SUCCESS);
        assertThat(Stage.from(JSON.readTree("{\"STATUS_ID\":\"LOSE\",\"SEMANTICS\":\"F\",\"CATEGORY_ID\":null}"), 0))
                .extracting(Stage::semantics, Stage::pipelineId).containsExactly(StageSemantics.FAILURE, 0L);
        assertThat(Stage.from(JSON.readTree("{\"STATUS_ID\":\"NEW\",\"SEMANTICS\":null,\"EXTRA\":{\"SEMANTICS\":\"process\"}}"), 0).semantics())
                .isEqualTo(StageSemantics.PROCESS);
        assertThat(Stage.from(JSON.readTree("{\"STATUS_ID\":\"APOLOGY\",\"SEMANTICS\":\"\",\"EXTRA\":{\"SEMANTICS\":\"apology\"}}"), 0).semantics())
                .isEqualTo(StageSemantics.FAILURE);
        assertThat(Stage.from(JSON.readTree("{\"STATUS_ID\":\"X\",\"EXTRA\":[]}"), 0).semantics()).isEqualTo(StageSemantics.PROCESS);
    }

    @Test
    void pipelineDefaultFlag() throws Exception {
        assertThat(Pipeline.from(JSON.readTree("{\"id\":0,\"name\":\"General\",\"sort\":300,\"isDefault\":\"Y\"}")).isDefault()).isTrue();
        assertThat(Pipeline.from(JSON.readTree("{\"id\":\"1\",\"name\":\"Store\",\"isDefault\":\"N\"}")).isDefault()).isFalse();
    }
}
