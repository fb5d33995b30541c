package org.dealbridge.bitrix.store;

import com.fasterxml.jackson.databind.JsonNode;
import org.dealbridge.bitrix.LenientJson;

/**
 * A status from {@code sale.status.list}: {@code type} O = order, D = delivery. The portal returns no name here (names
 * live in {@code sale.statuslang.list}); {@code name} is filled only if the response carries one.
 */
public record OrderStatus(String id, String type, int sort, String xmlId, String name) {
    static OrderStatus from(JsonNode s) {
        return new OrderStatus(LenientJson.text(s, "id"), LenientJson.text(s, "type"), LenientJson.optLong(s, "sort").orElse(0L).intValue(),
                LenientJson.text(s, "xmlId"), LenientJson.text(s, "name"));
    }
}
