package org.dealbridge.bitrix.store;

import java.util.List;

/** {@code sale.order.get}: the order with its basket, property values and payments. */
public record OrderDetails(SaleOrder order, List<BasketItem> basketItems, List<PropertyValue> propertyValues, List<Payment> payments) {
}
