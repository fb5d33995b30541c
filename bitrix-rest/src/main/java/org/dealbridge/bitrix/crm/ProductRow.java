package org.dealbridge.bitrix.crm;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.Map;
import org.dealbridge.bitrix.LenientJson;

/**
 * A deal product row ({@code crm.deal.productrows.set/get}). {@code productId} 0 is a free-text row. Null optional fields
 * are not sent, so the portal applies its defaults.
 */
public record ProductRow(Long id, long productId, String productName, BigDecimal price, BigDecimal quantity, Integer discountTypeId,
                         BigDecimal discountRate, BigDecimal discountSum, BigDecimal taxRate, Boolean taxIncluded, Integer measureCode,
                         String measureName, Integer sort) {

    public static ProductRow of(long productId, String productName, BigDecimal price, BigDecimal quantity) {
        return new ProductRow(null, productId, productName, price, quantity, null, null, null, null, null, null, null, null);
    }

    Map<String, Object> toFields() {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("PRODUCT_ID", productId);
        put(f, "PRODUCT_NAME", productName);
        put(f, "PRICE", price);
        put(f, "QUANTITY", quantity);
        put(f, "DISCOUNT_TYPE_ID", discountTypeId);
        put(f, "DISCOUNT_RATE", discountRate);
        put(f, "DISCOUNT_SUM", discountSum);
        put(f, "TAX_RATE", taxRate);
        if (taxIncluded != null) {
            f.put("TAX_INCLUDED", taxIncluded ? "Y" : "N");
        }
        put(f, "MEASURE_CODE", measureCode);
        put(f, "MEASURE_NAME", measureName);
        put(f, "SORT", sort);
        return f;
    }

    private static void put(Map<String, Object> f, String k, Object v) {
        if (v != null) {
            f.put(k, v);
        }
    }

    static ProductRow from(JsonNode r) {
        return new ProductRow(LenientJson.optLong(r, "ID").orElse(null), LenientJson.optLong(r, "PRODUCT_ID").orElse(0L),
                LenientJson.text(r, "PRODUCT_NAME"), LenientJson.optDecimal(r, "PRICE").orElse(null),
                LenientJson.optDecimal(r, "QUANTITY").orElse(null),
                LenientJson.optLong(r, "DISCOUNT_TYPE_ID").map(Long::intValue).orElse(null),
                LenientJson.optDecimal(r, "DISCOUNT_RATE").orElse(null), LenientJson.optDecimal(r, "DISCOUNT_SUM").orElse(null),
                LenientJson.optDecimal(r, "TAX_RATE").orElse(null), LenientJson.optFlag(r, "TAX_INCLUDED").orElse(null),
                LenientJson.optLong(r, "MEASURE_CODE").map(Long::intValue).orElse(null), LenientJson.text(r, "MEASURE_NAME"),
                LenientJson.optLong(r, "SORT").map(Long::intValue).orElse(null));
    }
}
