package org.dealbridge.bitrix.store;

import com.fasterxml.jackson.databind.JsonNode;
import org.dealbridge.bitrix.LenientJson;

/** A catalog product ({@code catalog.product.get}); {@code type} 4 is a variation, whose {@code sectionId} is null. */
public record CatalogProduct(long id, Long iblockId, Long sectionId, String name, Integer type, String xmlId) {
    public static final int TYPE_VARIATION = 4;

    public boolean isVariation() {
        return type != null && type == TYPE_VARIATION;
    }

    static CatalogProduct from(JsonNode p) {
        return new CatalogProduct(LenientJson.requiredLong(p, "id"), LenientJson.optLong(p, "iblockId").orElse(null),
                positive(LenientJson.optLong(p, "iblockSectionId").orElse(null)), LenientJson.text(p, "name"),
                LenientJson.optLong(p, "type").map(Long::intValue).orElse(null), LenientJson.text(p, "xmlId"));
    }

    static Long positive(Long id) {
        return id == null || id <= 0 ? null : id;
    }
}
