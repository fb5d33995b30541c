package org.dealbridge.bitrix.crm;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.dealbridge.bitrix.LenientJson;

/** A deal custom field from {@code crm.deal.userfield.list}; {@code items} only for enumerations. */
public record DealUserField(long id, String fieldName, String userTypeId, String xmlId, boolean multiple, boolean mandatory, List<Item> items) {
    /** An enumeration value. */
    public record Item(long id, String value, String xmlId, boolean isDefault) {
    }

    static DealUserField from(JsonNode f) {
        List<Item> items = LenientJson.elements(f, "LIST").stream()
                .map(i -> new Item(LenientJson.requiredLong(i, "ID"), LenientJson.text(i, "VALUE"), LenientJson.text(i, "XML_ID"),
                        LenientJson.flag(i, "DEF", false)))
                .toList();
        return new DealUserField(LenientJson.requiredLong(f, "ID"), LenientJson.text(f, "FIELD_NAME"), LenientJson.text(f, "USER_TYPE_ID"),
                LenientJson.text(f, "XML_ID"), LenientJson.flag(f, "MULTIPLE", false), LenientJson.flag(f, "MANDATORY", false), items);
    }
}
