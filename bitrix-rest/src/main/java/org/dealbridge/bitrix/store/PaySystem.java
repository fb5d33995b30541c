package org.dealbridge.bitrix.store;

import com.fasterxml.jackson.databind.JsonNode;
import org.dealbridge.bitrix.LenientJson;

/** A payment system from {@code sale.paysystem.list} (flat UPPER_CASE objects); {@code isCash} is N, Y or A (acquiring). */
public record PaySystem(long id, String name, boolean active, String isCash) {
    static PaySystem from(JsonNode p) {
        return new PaySystem(LenientJson.requiredLong(p, "ID"), LenientJson.text(p, "NAME"), LenientJson.flag(p, "ACTIVE", true),
                LenientJson.text(p, "IS_CASH"));
    }
}
