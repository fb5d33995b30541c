package org.dealbridge.bitrix.crm;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.dealbridge.bitrix.LenientJson;

/** A CRM contact from {@code crm.contact.get}; {@code assignedById} is its owner. */
public record Contact(long id, String name, String lastName, Long assignedById, List<String> phones, List<String> emails) {
    static Contact from(JsonNode c) {
        return new Contact(LenientJson.requiredLong(c, "ID"), LenientJson.text(c, "NAME"), LenientJson.text(c, "LAST_NAME"),
                LenientJson.optLong(c, "ASSIGNED_BY_ID").orElse(null), values(c, "PHONE"), values(c, "EMAIL"));
    }

    private static List<String> values(JsonNode c, String field) {
        return LenientJson.elements(c, field).stream().map(v -> LenientJson.text(v, "VALUE")).filter(v -> v != null && !v.isEmpty()).toList();
    }
}
