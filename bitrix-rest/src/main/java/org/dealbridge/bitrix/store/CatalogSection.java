package org.dealbridge.bitrix.store;

import com.fasterxml.jackson.databind.JsonNode;
import org.dealbridge.bitrix.LenientJson;

/** A catalog section; {@code parentId} ({@code iblockSectionId}) is null at the top level. */
public record CatalogSection(long id, Long iblockId, Long parentId, String name, String code, String xmlId) {
    static CatalogSection from(JsonNode s) {
        return new CatalogSection(LenientJson.requiredLong(s, "id"), LenientJson.optLong(s, "iblockId").orElse(null),
                CatalogProduct.positive(LenientJson.optLong(s, "iblockSectionId").orElse(null)), LenientJson.text(s, "name"),
                LenientJson.text(s, "code"), LenientJson.text(s, "xmlId"));
    }
}
