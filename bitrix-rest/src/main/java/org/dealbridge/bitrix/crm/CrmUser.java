package org.dealbridge.bitrix.crm;

import com.fasterxml.jackson.databind.JsonNode;
import org.dealbridge.bitrix.LenientJson;

/** A portal user from {@code user.get}; {@code active} is false for dismissed users. */
public record CrmUser(long id, String name, String lastName, String email, boolean active) {
    static CrmUser from(JsonNode u) {
        return new CrmUser(LenientJson.requiredLong(u, "ID"), LenientJson.text(u, "NAME"), LenientJson.text(u, "LAST_NAME"),
                LenientJson.text(u, "EMAIL"), LenientJson.flag(u, "ACTIVE", false));
    }
}
