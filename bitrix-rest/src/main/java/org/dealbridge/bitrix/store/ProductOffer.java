package org.dealbridge.bitrix.store;

import com.fasterxml.jackson.databind.JsonNode;
import org.dealbridge.bitrix.LenientJson;

/** A variation ({@code catalog.product.offer.get}); {@code parentId} is the product that carries the section. */
public record ProductOffer(long id, long parentId, String name, Long iblockId) {
    static ProductOffer from(JsonNode o) {
        JsonNode parent = o.get("parentId");
        long parentId;
        if (parent != null && parent.isObject()) {
            parentId = LenientJson.requiredLong(parent, "value");     // {"value": "1275", "valueId": "9867"}
        } else {
            parentId = LenientJson.requiredLong(o, "parentId");
        }
        return new ProductOffer(LenientJson.requiredLong(o, "id"), parentId, LenientJson.text(o, "name"),
                LenientJson.optLong(o, "iblockId").orElse(null));
    }
}
