package org.dealbridge.bitrix.store;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import org.dealbridge.bitrix.LenientJson;

/**
 * A basket line (reference §11.6). {@code productId} may be a variation (resolve with {@link StoreApi#offer}) or 0 for a
 * non-catalog item; {@code price} is after discounts ({@code basePrice = price + discountPrice}); {@code vatRate} is a
 * fraction (0.2 = 20 %) or null.
 */
public record BasketItem(long id, long orderId, long productId, String name, BigDecimal price, BigDecimal basePrice, BigDecimal discountPrice,
                         BigDecimal quantity, String currency, String measureCode, String measureName, String xmlId, BigDecimal vatRate) {
    static BasketItem from(JsonNode b) {
        return new BasketItem(LenientJson.requiredLong(b, "id"), LenientJson.optLong(b, "orderId").orElse(0L),
                LenientJson.optLong(b, "productId").orElse(0L), LenientJson.text(b, "name"), LenientJson.optDecimal(b, "price").orElse(null),
                LenientJson.optDecimal(b, "basePrice").orElse(null), LenientJson.optDecimal(b, "discountPrice").orElse(null),
                LenientJson.optDecimal(b, "quantity").orElse(null), LenientJson.text(b, "currency"), LenientJson.text(b, "measureCode"),
                LenientJson.text(b, "measureName"), LenientJson.text(b, "xmlId"), LenientJson.optDecimal(b, "vatRate").orElse(null));
    }
}
