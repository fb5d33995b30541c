package org.dealbridge.bitrix.store;

import com.fasterxml.jackson.databind.JsonNode;
import org.dealbridge.bitrix.LenientJson;

/** An order property value ({@code sale.propertyvalue.list}); codes are site-defined (PHONE, EMAIL, FIO…). */
public record PropertyValue(long id, long orderId, long orderPropsId, String code, String name, String value) {
    static PropertyValue from(JsonNode p) {
        JsonNode v = p.get("value");
        String value = v == null || v.isNull() ? null : v.isValueNode() ? v.asText() : v.toString();
        return new PropertyValue(LenientJson.optLong(p, "id").orElse(0L), LenientJson.optLong(p, "orderId").orElse(0L),
                LenientJson.optLong(p, "orderPropsId").orElse(0L), LenientJson.text(p, "code"), LenientJson.text(p, "name"), value);
    }
}
