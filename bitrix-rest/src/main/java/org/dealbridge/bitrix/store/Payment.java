package org.dealbridge.bitrix.store;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.time.OffsetDateTime;
import org.dealbridge.bitrix.LenientJson;

/** An order payment ({@code sale.payment.*}). */
public record Payment(long id, long orderId, long paySystemId, String paySystemName, BigDecimal sum, String currency, boolean paid,
                      OffsetDateTime datePaid, String accountNumber, String xmlId) {
    static Payment from(JsonNode p) {
        return new Payment(LenientJson.requiredLong(p, "id"), LenientJson.optLong(p, "orderId").orElse(0L),
                LenientJson.optLong(p, "paySystemId").orElse(0L), LenientJson.text(p, "paySystemName"),
                LenientJson.optDecimal(p, "sum").orElse(null), LenientJson.text(p, "currency"), LenientJson.flag(p, "paid", false),
                LenientJson.optDateTime(p, "datePaid").orElse(null), LenientJson.text(p, "accountNumber"), LenientJson.text(p, "xmlId"));
    }
}
