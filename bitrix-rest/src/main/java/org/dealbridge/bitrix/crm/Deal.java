package org.dealbridge.bitrix.crm;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.util.Map;
import org.dealbridge.bitrix.LenientJson;

/**
 * A CRM deal as {@code crm.deal.get}/{@code list} return it (UPPER_SNAKE, numbers as strings), or as {@code crm.item.*}
 * returns it (camelCase) after a move.
 *
 * @param userFields the {@code UF_CRM_*} values as returned (type depends on the field)
 * @param movedById  who last changed the stage ({@code MOVED_BY_ID}; null when not returned)
 */
public record Deal(long id, String title, long categoryId, String stageId, Long assignedById, Long contactId, BigDecimal opportunity,
                   String currency, String originatorId, String originId, Map<String, JsonNode> userFields, OffsetDateTime dateModify,
                   Long movedById) {

    /** True when the deal's stage was last set by this user (e.g. the webhook's: a stage DealBridge wrote itself). */
    public boolean stageSetBy(String userId) {
        return movedById != null && userId != null && userId.equals(Long.toString(movedById));
    }

    /** True when somebody other than this user (e.g. the webhook's: a person) last set the deal's stage. */
    public boolean stageSetByAnotherThan(String userId) {
        return movedById != null && movedById > 0 && !stageSetBy(userId);
    }

    /** From a classic {@code crm.deal.*} object. */
    public static Deal fromClassic(JsonNode d) {
        return new Deal(
                LenientJson.requiredLong(d, "ID"),
                LenientJson.text(d, "TITLE"),
                LenientJson.optLong(d, "CATEGORY_ID").orElse(0L),
                LenientJson.text(d, "STAGE_ID"),
                LenientJson.optLong(d, "ASSIGNED_BY_ID").orElse(null),
                positive(LenientJson.optLong(d, "CONTACT_ID").orElse(null)),
                LenientJson.optDecimal(d, "OPPORTUNITY").orElse(null),
                LenientJson.text(d, "CURRENCY_ID"),
                LenientJson.optText(d, "ORIGINATOR_ID").filter(s -> !s.isEmpty()).orElse(null),
                LenientJson.optText(d, "ORIGIN_ID").filter(s -> !s.isEmpty()).orElse(null),
                LenientJson.fieldsWithPrefix(d, "UF_"),
                LenientJson.optDateTime(d, "DATE_MODIFY").orElse(null),
                LenientJson.optLong(d, "MOVED_BY_ID").orElse(null));
    }

    /** From a {@code crm.item.*} object (entityTypeId 2): camelCase, UF names camelCased ({@code ufCrm…}). */
    public static Deal fromItem(JsonNode d) {
        return new Deal(
                LenientJson.requiredLong(d, "id"),
                LenientJson.text(d, "title"),
                LenientJson.optLong(d, "categoryId").orElse(0L),
                LenientJson.text(d, "stageId"),
                LenientJson.optLong(d, "assignedById").orElse(null),
                positive(LenientJson.optLong(d, "contactId").orElse(null)),
                LenientJson.optDecimal(d, "opportunity").orElse(null),
                LenientJson.text(d, "currencyId"),
                LenientJson.optText(d, "originatorId").filter(s -> !s.isEmpty()).orElse(null),
                LenientJson.optText(d, "originId").filter(s -> !s.isEmpty()).orElse(null),
                LenientJson.fieldsWithPrefix(d, "ufCrm"),
                LenientJson.optDateTime(d, "updatedTime").orElse(null),
                LenientJson.optLong(d, "movedBy").orElse(null));
    }

    private static Long positive(Long id) {
        return id == null || id <= 0 ? null : id;
    }
}
