package org.dealbridge.bitrix.crm;

import com.fasterxml.jackson.databind.JsonNode;
import org.dealbridge.bitrix.LenientJson;

/**
 * A deal stage of one pipeline from {@code crm.status.list}: {@code statusId} is what deals carry in {@code STAGE_ID}
 * ({@code NEW} in pipeline 0, {@code C1:NEW} elsewhere).
 */
public record Stage(String statusId, String name, int sort, long pipelineId, StageSemantics semantics) {
    static Stage from(JsonNode s, long pipelineId) {
        return new Stage(LenientJson.text(s, "STATUS_ID"), LenientJson.text(s, "NAME"), LenientJson.optLong(s, "SORT").orElse(0L).intValue(),
                LenientJson.optLong(s, "CATEGORY_ID").orElse(pipelineId),
                StageSemantics.of(LenientJson.text(s, "SEMANTICS"), LenientJson.text(LenientJson.object(s, "EXTRA"), "SEMANTICS")));
    }
}
