package org.dealbridge.bitrix.crm;

import com.fasterxml.jackson.databind.JsonNode;
import org.dealbridge.bitrix.LenientJson;

/** A deal pipeline (category) from {@code crm.category.list}; id 0 is the default ("General") pipeline. */
public record Pipeline(long id, String name, int sort, boolean isDefault) {
    static Pipeline from(JsonNode c) {
        long id = LenientJson.requiredLong(c, "id");
        return new Pipeline(id, LenientJson.text(c, "name"), LenientJson.optLong(c, "sort").orElse(0L).intValue(),
                LenientJson.optFlag(c, "isDefault").orElse(id == 0));
    }
}
