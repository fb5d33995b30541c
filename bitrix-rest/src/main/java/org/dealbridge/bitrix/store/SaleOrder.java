package org.dealbridge.bitrix.store;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.time.OffsetDateTime;
import org.dealbridge.bitrix.LenientJson;

/**
 * A store order ({@code sale.order.*}, camelCase, reference §11.2). {@code siteId} is {@code lid}; {@code payed} keeps
 * the portal's spelling. {@code version} is the order's document version, which every save increments (also a save in
 * the same second, which {@code dateUpdate}, second precision, cannot tell apart); null when the store does not answer it.
 */
public record SaleOrder(long id, String siteId, String accountNumber, String statusId, boolean canceled, boolean payed, String currency,
                        BigDecimal price, String xmlId, OffsetDateTime dateInsert, OffsetDateTime dateUpdate, Long userId,
                        Long personTypeId, Long responsibleId, Long version) {
    static SaleOrder from(JsonNode o) {
        return new SaleOrder(LenientJson.requiredLong(o, "id"), LenientJson.text(o, "lid"), LenientJson.text(o, "accountNumber"),
                LenientJson.text(o, "statusId"), LenientJson.flag(o, "canceled", false), LenientJson.flag(o, "payed", false),
                LenientJson.text(o, "currency"), LenientJson.optDecimal(o, "price").orElse(null), LenientJson.text(o, "xmlId"),
                LenientJson.optDateTime(o, "dateInsert").orElse(null), LenientJson.optDateTime(o, "dateUpdate").orElse(null),
                LenientJson.optLong(o, "userId").orElse(null), LenientJson.optLong(o, "personTypeId").orElse(null),
                LenientJson.optLong(o, "responsibleId").orElse(null), LenientJson.optLong(o, "version").orElse(null));
    }
}
