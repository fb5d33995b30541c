package org.dealbridge.emulator;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A store order to seed with {@link Store#addOrder(NewOrder)}: status, buyer, basket, payments and order properties
 * (by code, e.g. {@code FIO}, {@code EMAIL}, {@code PHONE}).
 */
public final class NewOrder {
    final Map<String, Object> fields = new LinkedHashMap<>();
    final List<Map<String, Object>> basket = new ArrayList<>();
    final List<Map<String, Object>> payments = new ArrayList<>();
    final Map<String, String> properties = new LinkedHashMap<>();

    public static NewOrder create() {
        return new NewOrder();
    }

    public NewOrder status(String statusId) {
        fields.put("statusId", statusId);
        return this;
    }

    public NewOrder currency(String currency) {
        fields.put("currency", currency);
        return this;
    }

    public NewOrder personType(long personTypeId) {
        fields.put("personTypeId", personTypeId);
        return this;
    }

    public NewOrder userId(long userId) {
        fields.put("userId", userId);
        return this;
    }

    public NewOrder responsibleId(long userId) {
        fields.put("responsibleId", userId);
        return this;
    }

    public NewOrder xmlId(String xmlId) {
        fields.put("xmlId", xmlId);
        return this;
    }

    public NewOrder site(String lid) {
        fields.put("lid", lid);
        return this;
    }

    public NewOrder comments(String comments) {
        fields.put("comments", comments);
        return this;
    }

    public NewOrder userDescription(String text) {
        fields.put("userDescription", text);
        return this;
    }

    public NewOrder canceled(boolean canceled) {
        fields.put("canceled", canceled ? "Y" : "N");
        return this;
    }

    /** A basket line for a catalog product or variation. */
    public NewOrder item(long productId, String name, BigDecimal price, double quantity) {
        Map<String, Object> item = new LinkedHashMap<>();
        item.put("productId", productId);
        item.put("name", name);
        item.put("price", price);
        item.put("quantity", quantity);
        basket.add(item);
        return this;
    }

    public NewOrder item(long productId, String name, String price, double quantity) {
        return item(productId, name, new BigDecimal(price), quantity);
    }

    public NewOrder payment(long paySystemId, BigDecimal sum, boolean paid) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("paySystemId", paySystemId);
        p.put("sum", sum);
        p.put("paid", paid ? "Y" : "N");
        payments.add(p);
        return this;
    }

    public NewOrder property(String code, String value) {
        properties.put(code, value);
        return this;
    }

    /** The same order as the JSON accepted by {@code POST /emulator/store/orders}. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>(fields);
        m.put("basketItems", basket);
        m.put("payments", payments);
        m.put("properties", properties);
        return m;
    }
}
