package org.dealbridge.orderevents;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import org.dealbridge.bitrix.LenientJson;
import org.dealbridge.bitrix.store.OrderDetails;
import org.dealbridge.bitrix.store.Payment;
import org.dealbridge.bitrix.store.PropertyValue;
import org.dealbridge.bitrix.store.SaleOrder;
import org.dealbridge.bitrix.store.StoreApi;
import org.dealbridge.ingestion.BulkRead;
import org.dealbridge.ingestion.PublishedVersions;
import org.dealbridge.ingestion.ReadFailures;
import org.dealbridge.schemas.BasketItem;
import org.dealbridge.schemas.Buyer;
import org.dealbridge.schemas.ChangeCause;
import org.dealbridge.schemas.ChangeSource;
import org.dealbridge.schemas.OrderChanged;

/**
 * Order id → {@link OrderChanged}: one {@code sale.order.get} (the order with its basket, property values and
 * payments, reference §11.2) plus the catalog placement of every basket product ({@link ProductSections}).
 *
 * <p>Buyer fields come from the order's property values by CODE. Property codes are site-defined (reference §11.7);
 * the reference names {@code FIO}, {@code EMAIL} and {@code PHONE} as the typical ones, and the definition flags
 * ({@code isPayer}/{@code isEmail}/{@code isPhone}) as the robust way, which would cost a {@code sale.property.list}
 * per person type. ASSUMED here: name = first non-blank of {@link #NAME_CODES}, e-mail = {@code EMAIL} (lower-cased),
 * phone = {@code PHONE} (as entered: Bitrix24's duplicate search normalises).
 *
 * <p>Failures: an order that does not exist or lacks a required field → {@link OrderUnreadableException} (permanent: the
 * caller dead-letters it); a {@link org.dealbridge.bitrix.BitrixException} that is {@code retryable()} propagates as is,
 * after the client's own retries.
 */
public final class OrderReader {
    /** Property codes read as the buyer's name, in order of preference. */
    public static final List<String> NAME_CODES = List.of("FIO", "NAME", "CONTACT_PERSON");
    public static final Set<String> EMAIL_CODES = Set.of("EMAIL");
    public static final Set<String> PHONE_CODES = Set.of("PHONE");

    private final StoreApi store;
    private final ProductSections sections;

    public OrderReader(StoreApi store, ProductSections sections) {
        this.store = Objects.requireNonNull(store, "store");
        this.sections = Objects.requireNonNull(sections, "sections");
    }

    public OrderChanged read(long orderId, ChangeCause cause) {
        try {
            return readOrThrow(orderId, cause);
        } catch (LenientJson.MalformedValue e) {
            throw new OrderUnreadableException(orderId, "order " + orderId + ": the store answered a malformed value: " + e.getMessage(), e);
        }
    }

    /**
     * Many orders with one bulk read ({@link StoreApi#ordersInBulk}: one or two store requests for up to 50 orders), each
     * answered on its own: the event, gone (the answer lacks it), or the failure of this order alone (a malformed field,
     * a catalog look-up that failed). When the bulk answer as a whole is refused or malformed for good, the orders are
     * read one by one ({@code sale.order.get}), so that only the order at fault becomes a dead letter.
     *
     * @throws org.dealbridge.bitrix.BitrixException when the bulk read should wait ({@link ReadFailures#waits})
     */
    public Map<Long, BulkRead.Result<OrderChanged>> readAll(List<Long> orderIds, ChangeCause cause) {
        Map<Long, OrderDetails> found;
        try {
            found = store.ordersInBulk(orderIds);
        } catch (RuntimeException e) {
            if (ReadFailures.waits(e)) {
                throw e;
            }
            Map<Long, BulkRead.Result<OrderChanged>> one = new LinkedHashMap<>();
            for (long id : orderIds) {
                BulkRead.Result<OrderChanged> result;
                try {
                    result = store.order(id).map(details -> result(id, details, cause)).orElseGet(BulkRead.Result.Gone::new);
                } catch (RuntimeException single) {
                    result = new BulkRead.Result.Failed<>(single);
                }
                one.put(id, result);
            }
            return one;
        }
        Map<Long, BulkRead.Result<OrderChanged>> out = new LinkedHashMap<>();
        for (long id : orderIds) {
            OrderDetails details = found.get(id);
            out.put(id, details == null ? new BulkRead.Result.Gone<>() : result(id, details, cause));
        }
        return out;
    }

    /** One order's event, or its own failure (malformed, a catalog look-up failing) as that order's answer. */
    private BulkRead.Result<OrderChanged> result(long orderId, OrderDetails details, ChangeCause cause) {
        try {
            return new BulkRead.Result.Found<>(event(orderId, details, cause));
        } catch (LenientJson.MalformedValue e) {
            return new BulkRead.Result.Failed<>(new OrderUnreadableException(orderId,
                    "order " + orderId + ": the store answered a malformed value: " + e.getMessage(), e));
        } catch (RuntimeException e) {
            return new BulkRead.Result.Failed<>(e);
        }
    }

    private OrderChanged readOrThrow(long orderId, ChangeCause cause) {
        OrderDetails details = store.order(orderId).orElseThrow(() -> new OrderUnreadableException(orderId,
                "order " + orderId + " does not exist (sale.order.get answered not found)", null));
        return event(orderId, details, cause);
    }

    private OrderChanged event(long orderId, OrderDetails details, ChangeCause cause) {
        SaleOrder order = details.order();
        List<BasketItem> items = new ArrayList<>(details.basketItems().size());
        for (org.dealbridge.bitrix.store.BasketItem line : details.basketItems()) {
            ProductSections.Placement placement = sections.placementOf(line.productId());
            items.add(BasketItem.newBuilder()
                    .setProductId(line.productId())
                    .setParentProductId(placement.parentProductId())
                    .setName(line.name() == null ? "" : line.name())
                    .setPrice(decimal(orderId, "basketItems[" + line.id() + "].price", line.price()))
                    .setQuantity(decimal(orderId, "basketItems[" + line.id() + "].quantity", line.quantity()))
                    .setSectionPath(placement.sectionPath())
                    .build());
        }
        List<Long> paySystems = new ArrayList<>();
        for (Payment payment : details.payments()) {
            if (payment.paySystemId() > 0) {
                paySystems.add(payment.paySystemId());
            }
        }
        return header(orderId, order)
                .setPaySystemIds(paySystems)
                .setBuyer(buyer(details.propertyValues()))
                .setItems(items)
                .setCause(cause)
                .build();
    }

    /** What an order event takes from the order itself ({@code sale.order.list}'s row), basket, payments and buyer aside. */
    private static OrderChanged.Builder header(long orderId, SaleOrder order) {
        return OrderChanged.newBuilder()
                .setSiteId(required(orderId, "lid", order.siteId()))
                .setOrderId(order.id())
                .setAccountNumber(blankToNull(order.accountNumber()))
                .setStatusId(required(orderId, "statusId", order.statusId()))
                .setCanceled(order.canceled())
                .setPaid(order.payed())
                .setCurrency(required(orderId, "currency", order.currency()))
                .setPrice(decimal(orderId, "price", order.price()))
                .setXmlId(blankToNull(order.xmlId()))
                .setDateUpdate(requiredDate(orderId, order))
                .setVersion(order.version());
    }

    /**
     * The digest of what an order event says of the order's own fields and its {@code version} (its basket, payments,
     * buyer, date and cause aside): the same for an event read in full and for a {@code sale.order.list} row
     * ({@link #listedContent}), so a poller can tell from its listing whether an order published at the same
     * {@code dateUpdate} (second precision) was saved again since ({@link PublishedVersions}). The {@code version}
     * ("increments on save", reference §11.2) is what tells a same-second save that changed only the basket, payments or
     * properties; a store that does not answer it leaves the digest to the order's own fields, and such a save reads as
     * unchanged there.
     */
    public static String content(OrderChanged order) {
        return PublishedVersions.digest(Arrays.asList(order.getDeleted(), order.getSiteId(), order.getAccountNumber(), order.getStatusId(),
                order.getCanceled(), order.getPaid(), order.getCurrency(), order.getPrice(), order.getXmlId(), order.getVersion()));
    }

    /** {@link #content} of an order as {@code sale.order.list} lists it; null when the row would not make an event (read it). */
    public static String listedContent(SaleOrder order) {
        try {
            return content(header(order.id(), order).setBuyer(Buyer.newBuilder().build())
                    .setCause(ChangeCause.newBuilder().setSource(ChangeSource.STORE_POLL).build()).build());
        } catch (RuntimeException malformed) {
            return null;
        }
    }

    static Buyer buyer(List<PropertyValue> properties) {
        String name = null;
        for (String code : NAME_CODES) {
            name = valueOf(properties, Set.of(code));
            if (name != null) {
                break;
            }
        }
        String email = valueOf(properties, EMAIL_CODES);
        return Buyer.newBuilder()
                .setName(name)
                .setEmail(email == null ? null : email.toLowerCase(Locale.ROOT))
                .setPhone(valueOf(properties, PHONE_CODES))
                .build();
    }

    private static String valueOf(List<PropertyValue> properties, Set<String> codes) {
        for (PropertyValue p : properties) {
            if (p.code() != null && codes.contains(p.code().toUpperCase(Locale.ROOT))) {
                String v = blankToNull(p.value());
                if (v != null) {
                    return v.trim();
                }
            }
        }
        return null;
    }

    private static String required(long orderId, String field, String value) {
        if (value == null || value.isBlank()) {
            throw new OrderUnreadableException(orderId, "order " + orderId + ": field " + field + " is missing or empty in sale.order.get", null);
        }
        return value;
    }

    private static java.time.Instant requiredDate(long orderId, SaleOrder order) {
        if (order.dateUpdate() == null) {
            throw new OrderUnreadableException(orderId, "order " + orderId + ": field dateUpdate is missing in sale.order.get", null);
        }
        return order.dateUpdate().toInstant();
    }

    private static String decimal(long orderId, String field, BigDecimal value) {
        if (value == null) {
            throw new OrderUnreadableException(orderId, "order " + orderId + ": field " + field + " is missing in sale.order.get", null);
        }
        return value.toPlainString();
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
