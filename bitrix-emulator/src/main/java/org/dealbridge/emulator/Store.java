package org.dealbridge.emulator;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The emulated 1C-Bitrix online store behind the {@code sale.*} and {@code catalog.*} REST methods: catalog sections,
 * products and variations, order statuses, pay systems, person types, order properties and orders with their basket,
 * payments and property values.
 *
 * <p>D7 conventions: camelCase, JSON numbers (with the documented inconsistencies: basket items inside
 * {@code sale.order.get} carry {@code "id"}/{@code "orderId"} as strings), wrapper keys ({@code {"order":{...}}},
 * {@code {"orders":[...]}}), numeric error codes. Every change of an order sets its {@code dateUpdate} to the save's
 * time, increments its {@code version} and fires {@code ONSALEORDERSAVED}.
 */
public final class Store {
    /** The product catalog's iblock id. */
    public static final long CATALOG_IBLOCK_ID = 14;
    /** The iblock holding variations (trade offers); they have no section. */
    public static final long OFFERS_IBLOCK_ID = 15;

    private static final long ORDER_NOT_FOUND = 200540400001L;
    private static final long PAYMENT_NOT_FOUND = 200640400001L;
    private static final long REQUIRED = 100;
    private static final long OTHER = 0;

    private final PortalTime time;
    private final OutboundEvents events;
    private final TreeMap<Long, Map<String, Object>> sections = new TreeMap<>();
    private final TreeMap<Long, Map<String, Object>> products = new TreeMap<>();
    private final Map<Long, BigDecimal> prices = new HashMap<>();
    private final LinkedHashMap<String, Map<String, Object>> statuses = new LinkedHashMap<>();
    private final Map<String, String> statusNames = new HashMap<>();
    private final TreeMap<Long, Map<String, Object>> paySystems = new TreeMap<>();
    private final TreeMap<Long, Map<String, Object>> personTypes = new TreeMap<>();
    private final TreeMap<Long, Map<String, Object>> properties = new TreeMap<>();
    private final TreeMap<Long, Order> orders = new TreeMap<>();
    private long nextOrderId = 1;
    private long nextBasketId = 1;
    private long nextPaymentId = 1;
    private long nextPropertyValueId = 1;
    private long nextOfferValueId = 9000;

    private static final class Order {
        final Map<String, Object> fields = new LinkedHashMap<>();
        final List<Map<String, Object>> basket = new ArrayList<>();
        final List<Map<String, Object>> payments = new ArrayList<>();
        final List<Map<String, Object>> props = new ArrayList<>();

        long id() {
            return (Long) fields.get("id");
        }
    }

    Store(PortalTime time, OutboundEvents events) {
        this.time = time;
        this.events = events;
        String[][] defaults = {{"N", "O", "Accepted, awaiting payment"}, {"P", "O", "Paid, preparing for shipment"},
                {"S", "O", "Shipped"}, {"D", "O", "Canceled"}, {"F", "O", "Completed"},
                {"DN", "D", "Awaiting processing"}, {"DD", "D", "Canceled"}, {"DF", "D", "Shipped"}};
        for (String[] d : defaults) {
            addStatus(d[0], d[2], d[1]);
        }
        addPersonType(1, "Individual");
    }

    // =====================================================================================================
    // Seeding and inspection
    // =====================================================================================================

    public synchronized void addSection(long id, Long parentId, String name) {
        if (parentId != null && !sections.containsKey(parentId)) {
            throw new IllegalArgumentException("parentId: no section " + parentId);
        }
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("id", id);
        s.put("iblockId", CATALOG_IBLOCK_ID);
        s.put("iblockSectionId", parentId);
        s.put("name", requireText(name, "section name"));
        s.put("code", "section-" + id);
        s.put("xmlId", Long.toString(id));
        s.put("sort", 500);
        s.put("active", "Y");
        s.put("description", "");
        s.put("descriptionType", "text");
        sections.put(id, s);
    }

    /** A simple product in {@code sectionId} (null: no section) with a base price used for new basket lines. */
    public synchronized void addProduct(long id, String name, Long sectionId, BigDecimal price) {
        if (sectionId != null && !sections.containsKey(sectionId)) {
            throw new IllegalArgumentException("sectionId: no section " + sectionId);
        }
        products.put(id, product(id, name, CATALOG_IBLOCK_ID, sectionId, 1));
        prices.put(id, price);
    }

    public void addProduct(long id, String name, Long sectionId, String price) {
        addProduct(id, name, sectionId, new BigDecimal(price));
    }

    /** A variation (trade offer, type 4) of {@code parentProductId}; the parent becomes type 3. */
    public synchronized void addVariation(long id, long parentProductId, String name, BigDecimal price) {
        Map<String, Object> parent = products.get(parentProductId);
        if (parent == null || !Long.valueOf(CATALOG_IBLOCK_ID).equals(parent.get("iblockId"))) {
            throw new IllegalArgumentException("parentProductId: no catalog product " + parentProductId);
        }
        parent.put("type", 3);
        Map<String, Object> offer = product(id, name, OFFERS_IBLOCK_ID, null, 4);
        Map<String, Object> parentRef = new LinkedHashMap<>();
        parentRef.put("value", Long.toString(parentProductId)); // a string, as in the reference example
        parentRef.put("valueId", Long.toString(nextOfferValueId++));
        offer.put("parentId", parentRef);
        products.put(id, offer);
        prices.put(id, price);
    }

    public void addVariation(long id, long parentProductId, String name, String price) {
        addVariation(id, parentProductId, name, new BigDecimal(price));
    }

    private Map<String, Object> product(long id, String name, long iblockId, Long sectionId, int type) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("id", id);
        p.put("iblockId", iblockId);
        p.put("iblockSectionId", sectionId);
        p.put("name", requireText(name, "product name"));
        p.put("code", "product-" + id);
        p.put("xmlId", Long.toString(id));
        p.put("active", "Y");
        p.put("available", "Y");
        p.put("type", type);
        p.put("measure", 5);
        p.put("vatId", null);
        p.put("vatIncluded", "Y");
        p.put("quantity", 100);
        p.put("purchasingPrice", null);
        p.put("purchasingCurrency", null);
        p.put("dateCreate", time.nowText());
        p.put("timestampX", time.nowText());
        return p;
    }

    /** An order status (type {@code O}); an existing id is replaced. */
    public void addStatus(String id, String name) {
        addStatus(id, name, "O");
    }

    public synchronized void addStatus(String id, String name, String type) {
        if (id == null || !id.matches("[A-Z0-9]{1,2}")) {
            throw new IllegalArgumentException("status id: one or two upper-case letters/digits, got '" + id + "'");
        }
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("id", id);
        s.put("type", type);
        s.put("notify", "Y");
        s.put("color", "#" + Integer.toHexString(0x1000000 + (id.hashCode() & 0xFFFFFF)).substring(1).toUpperCase(Locale.ROOT));
        s.put("sort", statuses.containsKey(id) ? statuses.get(id).get("sort") : 100 + 10 * statuses.size());
        s.put("xmlId", "");
        statuses.put(id, s);
        statusNames.put(id, requireText(name, "status name"));
    }

    public void addPaySystem(long id, String name) {
        addPaySystem(id, name, false);
    }

    public synchronized void addPaySystem(long id, String name, boolean cash) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("ID", id);
        p.put("NAME", requireText(name, "pay system name"));
        p.put("PSA_NAME", name);
        p.put("DESCRIPTION", "");
        p.put("ACTION_FILE", cash ? "cash" : "bill");
        p.put("ACTIVE", "Y");
        p.put("PERSON_TYPE_ID", null);
        p.put("ENTITY_REGISTRY_TYPE", "ORDER");
        p.put("IS_CASH", cash ? "Y" : "N");
        p.put("NEW_WINDOW", "N");
        p.put("ALLOW_EDIT_PAYMENT", "Y");
        p.put("AUTO_CHANGE_1C", "N");
        p.put("CAN_PRINT_CHECK", "N");
        p.put("ENCODING", null);
        p.put("PS_MODE", null);
        p.put("SORT", 100);
        p.put("XML_ID", "ps_" + id);
        p.put("TARIFF", null);
        paySystems.put(id, p);
    }

    public synchronized void addPersonType(long id, String name) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("id", id);
        p.put("name", requireText(name, "person type name"));
        p.put("lid", "s1");
        p.put("sort", 100);
        p.put("active", "Y");
        p.put("code", null);
        p.put("xmlId", "");
        personTypes.put(id, p);
    }

    /** An order property definition; role flags follow the usual codes ({@code FIO} payer, {@code EMAIL}, {@code PHONE}). */
    public synchronized long addOrderProperty(long id, String code, String name) {
        Map<String, Object> p = new LinkedHashMap<>();
        String c = requireText(code, "property code").toUpperCase(Locale.ROOT);
        p.put("id", id);
        p.put("personTypeId", 1);
        p.put("propsGroupId", 1);
        p.put("name", requireText(name, "property name"));
        p.put("type", "STRING");
        p.put("code", c);
        p.put("active", "Y");
        p.put("util", "N");
        p.put("userProps", "Y");
        p.put("isFiltered", "N");
        p.put("sort", 100 + 10 * properties.size());
        p.put("description", "");
        p.put("required", "N");
        p.put("multiple", "N");
        p.put("xmlId", "prop_" + c.toLowerCase(Locale.ROOT));
        p.put("defaultValue", "");
        p.put("isProfileName", c.equals("FIO") ? "Y" : "N");
        p.put("isPayer", c.equals("FIO") ? "Y" : "N");
        p.put("isEmail", c.equals("EMAIL") ? "Y" : "N");
        p.put("isPhone", c.equals("PHONE") ? "Y" : "N");
        p.put("isZip", c.equals("ZIP") ? "Y" : "N");
        p.put("isAddress", c.equals("ADDRESS") ? "Y" : "N");
        p.put("isLocation", c.equals("LOCATION") ? "Y" : "N");
        properties.put(id, p);
        return id;
    }

    /** Seeds an order (fires {@code ONSALEORDERSAVED}, as saving any order does). Returns its id. */
    public long addOrder(NewOrder order) {
        return addOrder(order.toMap());
    }

    /** Seeds an order from the JSON shape documented on {@code POST /emulator/store/orders}. */
    public synchronized long addOrder(Map<String, ?> spec) {
        Map<String, Object> fields = new LinkedHashMap<>(spec);
        List<Object> basket = Params.asList(fields.remove("basketItems"));
        List<Object> pays = Params.asList(fields.remove("payments"));
        Map<String, Object> props = Params.asMap(fields.remove("properties"));
        fields.putIfAbsent("lid", "s1");
        fields.putIfAbsent("personTypeId", 1L);
        fields.putIfAbsent("currency", "RUB");
        Order o = createOrder(fields);
        if (basket != null) {
            for (Object b : basket) {
                addBasketItem(o, Params.asMap(b));
            }
        }
        if (fields.get("price") == null) {
            o.fields.put("price", CrmPortal.number(basketTotal(o)));
        }
        if (pays != null) {
            for (Object p : pays) {
                addPayment(o, Params.asMap(p));
            }
        }
        if (props != null) {
            props.forEach((code, value) -> setProperty(o, code, Params.asString(value)));
        }
        recomputePaid(o);
        saved(o);
        return o.id();
    }

    /**
     * Changes an order the way a shop manager does in the admin panel ({@code statusId}, {@code canceled},
     * {@code payed} (marks every payment paid), {@code comments}, {@code responsibleId}, {@code price}, properties by
     * code under {@code properties}, the whole basket under {@code basketItems} as {@code POST /emulator/store/orders}
     * takes it, which also sets the price to the basket's total), then fires {@code ONSALEORDERSAVED}.
     */
    public synchronized void updateOrderAsHuman(long orderId, Map<String, ?> changes) {
        Order o = orders.get(orderId);
        if (o == null) {
            throw new IllegalArgumentException("orderId: no order " + orderId);
        }
        Map<String, Object> c = new LinkedHashMap<>(changes);
        Map<String, Object> props = Params.asMap(c.remove("properties"));
        List<Object> basket = Params.asList(c.remove("basketItems"));
        Object payed = c.remove("payed");
        String status = Params.asString(c.get("statusId"));
        if (status != null && !statuses.containsKey(status)) {
            throw new IllegalArgumentException("statusId: no status '" + status + "'");
        }
        writeOrderFields(o, c);
        if (basket != null) {
            // the manager edits the basket in the order form: the lines are replaced and the total follows them
            o.basket.clear();
            for (Object b : basket) {
                addBasketItem(o, Params.asMap(b));
            }
            o.fields.put("price", CrmPortal.number(basketTotal(o)));
        }
        if (c.containsKey("price")) {
            o.fields.put("price", CrmPortal.number(Params.asDecimal(c.get("price"))));
        }
        if (payed != null) {
            for (Map<String, Object> p : o.payments) {
                markPaid(p, Params.isYes(payed));
            }
            recomputePaid(o);
            if (o.payments.isEmpty()) {
                o.fields.put("payed", Params.isYes(payed) ? "Y" : "N");
            }
        }
        if (props != null) {
            props.forEach((code, value) -> setProperty(o, code, Params.asString(value)));
        }
        saved(o);
    }

    /**
     * Changes an order's stored fields the way a repair in the shop's database (or an import that bypasses Bitrix's
     * order API) does: no {@code ONSALEORDERSAVED}, and {@code dateUpdate} stays, so neither a hook nor a
     * {@code >dateUpdate} poll learns of it.
     */
    public synchronized void repairOrderBehindTheApi(long orderId, Map<String, ?> fields) {
        Order o = orders.get(orderId);
        if (o == null) {
            throw new IllegalArgumentException("orderId: no order " + orderId);
        }
        o.fields.putAll(fields);
    }

    /** An order as {@code sale.order.get} returns it (inside {@code "order"}), or null. */
    public synchronized Map<String, Object> order(long id) {
        Order o = orders.get(id);
        return o == null ? null : fullOrder(o);
    }

    public synchronized List<Map<String, Object>> orders() {
        List<Map<String, Object>> out = new ArrayList<>();
        orders.values().forEach(o -> out.add(fullOrder(o)));
        return out;
    }

    private static String requireText(String value, String what) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(what + ": must not be blank");
        }
        return value;
    }

    // ---- order internals

    private Order createOrder(Map<String, Object> fields) {
        long id = nextOrderId++;
        Order o = new Order();
        String now = time.nowText();
        Map<String, Object> f = o.fields;
        f.put("id", id);
        // accountNumber differs from id on real stores; the emulator keeps them apart so clients do not mix them up
        f.put("accountNumber", Long.toString(id + 1000));
        f.put("lid", "s1");
        f.put("personTypeId", 1L);
        f.put("personTypeXmlId", "");
        f.put("statusId", "N");
        f.put("statusXmlId", "");
        f.put("dateStatus", now);
        f.put("empStatusId", null);
        f.put("currency", "RUB");
        f.put("price", 0);
        f.put("discountValue", 0);
        f.put("taxValue", 0);
        f.put("payed", "N");
        f.put("datePayed", null);
        f.put("canceled", "N");
        f.put("dateCanceled", null);
        f.put("empCanceledId", null);
        f.put("reasonCanceled", "");
        f.put("deducted", "N");
        f.put("marked", "N");
        f.put("dateMarked", null);
        f.put("reasonMarked", "");
        f.put("dateInsert", now);
        f.put("dateUpdate", now);
        f.put("userId", null);
        f.put("responsibleId", null);
        f.put("userDescription", "");
        f.put("comments", "");
        f.put("xmlId", "bx_" + Long.toHexString(0x6340000000L + id * 7919));
        f.put("id1c", "");
        f.put("version1c", "");
        f.put("updated1c", "N");
        f.put("version", 0);
        f.put("externalOrder", "N");
        f.put("companyId", null);
        f.put("affiliateId", null);
        f.put("recurringId", null);
        f.put("lockedBy", null);
        f.put("dateLock", null);
        for (String key : List.of("lid", "currency", "userDescription")) {
            if (fields.get(key) != null) {
                f.put(key, Params.asString(fields.get(key)));
            }
        }
        for (String key : List.of("personTypeId", "userId")) {
            if (fields.get(key) != null) {
                f.put(key, Params.asLong(fields.get(key)));
            }
        }
        writeOrderFields(o, fields);
        if (fields.get("price") != null) {
            f.put("price", CrmPortal.number(Params.asDecimal(fields.get("price"))));
        }
        orders.put(id, o);
        return o;
    }

    /** The fields a manager or {@code sale.order.update} may change; unknown keys are ignored. */
    private void writeOrderFields(Order o, Map<String, Object> fields) {
        Map<String, Object> f = o.fields;
        String now = time.nowText();
        for (Map.Entry<String, Object> e : fields.entrySet()) {
            Object v = e.getValue();
            switch (e.getKey()) {
                case "statusId":
                    String status = Params.asString(v);
                    if (!status.equals(f.get("statusId"))) {
                        f.put("statusId", status);
                        f.put("dateStatus", now);
                    }
                    break;
                case "canceled":
                    boolean canceled = Params.isYes(v);
                    if (canceled != "Y".equals(f.get("canceled"))) {
                        f.put("canceled", canceled ? "Y" : "N");
                        f.put("dateCanceled", canceled ? now : null);
                    }
                    break;
                case "reasonCanceled": case "comments": case "userDescription": case "xmlId": case "reasonMarked":
                    f.put(e.getKey(), Params.asString(v) == null ? "" : Params.asString(v));
                    break;
                case "marked":
                    f.put("marked", Params.isYes(v) ? "Y" : "N");
                    break;
                case "responsibleId": case "empStatusId": case "companyId":
                    f.put(e.getKey(), Params.asLong(v));
                    break;
                default:
                    break;
            }
        }
    }

    /**
     * Adds one line to the basket (seeding, a manager's basket edit, {@code sale.basketitem.add} after its checks): a
     * given {@code price} makes it a custom-price line, else the catalog price of {@code productId} is used. The
     * order's price is the caller's to recompute.
     */
    private Map<String, Object> addBasketItem(Order o, Map<String, Object> in) {
        if (in == null) {
            throw new IllegalArgumentException("basketItems: each item must be an object");
        }
        Long productId = Params.asLong(in.get("productId"));
        BigDecimal price = Params.asDecimal(in.get("price"));
        if (price == null && productId != null) {
            price = prices.get(productId);
        }
        if (price == null) {
            throw new IllegalArgumentException("basketItems.price: missing for product " + productId);
        }
        BigDecimal discount = Params.asDecimal(in.get("discountPrice"));
        if (discount == null) {
            discount = BigDecimal.ZERO;
        }
        Map<String, Object> product = productId == null ? null : products.get(productId);
        String name = Params.asString(in.get("name"));
        if (name == null) {
            name = product == null ? "Item" : (String) product.get("name");
        }
        Map<String, Object> b = new LinkedHashMap<>();
        String now = time.nowText();
        b.put("id", nextBasketId++);
        b.put("orderId", o.id());
        b.put("sort", 100);
        b.put("productId", productId == null ? 0 : productId);
        b.put("name", name);
        b.put("price", CrmPortal.number(price));
        b.put("basePrice", CrmPortal.number(price.add(discount)));
        b.put("discountPrice", CrmPortal.number(discount));
        b.put("customPrice", in.get("price") != null ? "Y" : "N");
        b.put("currency", o.fields.get("currency"));
        BigDecimal qty = Params.asDecimal(in.get("quantity"));
        b.put("quantity", CrmPortal.number(qty == null ? BigDecimal.ONE : qty));
        b.put("xmlId", "bx_b" + b.get("id"));
        b.put("dateInsert", now);
        b.put("dateUpdate", now);
        b.put("properties", new ArrayList<>());
        b.put("weight", 0);
        b.put("dimensions", "a:3:{s:5:\"WIDTH\";N;s:6:\"HEIGHT\";N;s:6:\"LENGTH\";N;}");
        b.put("measureCode", "796");
        b.put("measureName", "pcs");
        b.put("canBuy", "Y");
        b.put("vatRate", null);
        b.put("vatIncluded", "Y");
        b.put("type", null);
        b.put("catalogXmlId", product == null ? null : product.get("iblockId").toString());
        b.put("productXmlId", product == null ? null : product.get("xmlId"));
        o.basket.add(b);
        return b;
    }

    private BigDecimal basketTotal(Order o) {
        BigDecimal sum = BigDecimal.ZERO;
        for (Map<String, Object> b : o.basket) {
            sum = sum.add(Params.asDecimal(b.get("price")).multiply(Params.asDecimal(b.get("quantity"))));
        }
        return sum;
    }

    private Map<String, Object> addPayment(Order o, Map<String, Object> in) {
        Long paySystemId = Params.asLong(in.get("paySystemId"));
        Map<String, Object> ps = paySystemId == null ? null : paySystems.get(paySystemId);
        if (ps == null) {
            throw BitrixError.sale(OTHER, "pay system " + paySystemId + " not found");
        }
        Map<String, Object> p = new LinkedHashMap<>();
        long number = o.payments.size() + 1;
        p.put("id", nextPaymentId++);
        p.put("orderId", o.id());
        p.put("accountNumber", o.fields.get("accountNumber") + "/" + number);
        p.put("paid", "N");
        p.put("datePaid", null);
        p.put("empPaidId", null);
        p.put("paySystemId", paySystemId);
        p.put("paySystemName", ps.get("NAME"));
        p.put("paySystemXmlId", ps.get("XML_ID"));
        p.put("paySystemIsCash", ps.get("IS_CASH"));
        BigDecimal sum = Params.asDecimal(in.get("sum"));
        p.put("sum", CrmPortal.number(sum == null ? Params.asDecimal(o.fields.get("price")) : sum));
        p.put("currency", o.fields.get("currency"));
        p.put("psStatus", null);
        p.put("psStatusCode", null);
        p.put("psStatusDescription", null);
        p.put("psStatusMessage", null);
        p.put("psSum", null);
        p.put("psCurrency", null);
        p.put("psResponseDate", null);
        p.put("psInvoiceId", null);
        p.put("payVoucherNum", null);
        p.put("payVoucherDate", null);
        p.put("dateBill", time.nowText());
        p.put("xmlId", "");
        p.put("companyId", null);
        p.put("isReturn", "N");
        p.put("responsibleId", null);
        p.put("comments", "");
        p.put("externalPayment", "N");
        p.put("marked", "N");
        p.put("reasonMarked", "");
        o.payments.add(p);
        writePayment(p, in);
        return p;
    }

    private void writePayment(Map<String, Object> p, Map<String, Object> in) {
        for (Map.Entry<String, Object> e : in.entrySet()) {
            Object v = e.getValue();
            switch (e.getKey()) {
                case "paid":
                    markPaid(p, Params.isYes(v));
                    break;
                case "sum":
                    p.put("sum", CrmPortal.number(Params.asDecimal(v)));
                    break;
                case "comments": case "xmlId": case "psStatus": case "psStatusCode": case "psStatusDescription":
                case "psStatusMessage": case "psInvoiceId": case "payVoucherNum":
                    p.put(e.getKey(), Params.asString(v));
                    break;
                case "responsibleId": case "empPaidId":
                    p.put(e.getKey(), Params.asLong(v));
                    break;
                case "paySystemId":
                    Long psId = Params.asLong(v);
                    Map<String, Object> ps = psId == null ? null : paySystems.get(psId);
                    if (ps == null) {
                        throw BitrixError.sale(OTHER, "pay system " + v + " not found");
                    }
                    p.put("paySystemId", psId);
                    p.put("paySystemName", ps.get("NAME"));
                    p.put("paySystemXmlId", ps.get("XML_ID"));
                    p.put("paySystemIsCash", ps.get("IS_CASH"));
                    break;
                default:
                    break;
            }
        }
    }

    private void markPaid(Map<String, Object> p, boolean paid) {
        if (paid != "Y".equals(p.get("paid"))) {
            p.put("paid", paid ? "Y" : "N");
            p.put("datePaid", paid ? time.nowText() : null);
        }
    }

    // reference: UNVERIFIED — order.payed follows the paid payments as soon as they cover the order price
    private void recomputePaid(Order o) {
        if (o.payments.isEmpty()) {
            return;
        }
        BigDecimal paid = BigDecimal.ZERO;
        for (Map<String, Object> p : o.payments) {
            if ("Y".equals(p.get("paid"))) {
                paid = paid.add(Params.asDecimal(p.get("sum")));
            }
        }
        BigDecimal price = Params.asDecimal(o.fields.get("price"));
        boolean covered = paid.signum() > 0 && paid.compareTo(price) >= 0;
        if (covered != "Y".equals(o.fields.get("payed"))) {
            o.fields.put("payed", covered ? "Y" : "N");
            o.fields.put("datePayed", covered ? time.nowText() : null);
        }
    }

    private void setProperty(Order o, String code, String value) {
        String c = code.toUpperCase(Locale.ROOT);
        Map<String, Object> def = null;
        for (Map<String, Object> p : properties.values()) {
            if (c.equals(p.get("code"))) {
                def = p;
            }
        }
        if (def == null) {
            long id = properties.isEmpty() ? 1 : properties.lastKey() + 1;
            addOrderProperty(id, c, c.equals("FIO") ? "Full name" : c.substring(0, 1) + c.substring(1).toLowerCase(Locale.ROOT));
            def = properties.get(id);
        }
        for (Map<String, Object> pv : o.props) {
            if (c.equals(pv.get("code"))) {
                pv.put("value", value);
                return;
            }
        }
        Map<String, Object> pv = new LinkedHashMap<>();
        pv.put("id", nextPropertyValueId++);
        pv.put("orderId", o.id());
        pv.put("orderPropsId", def.get("id"));
        pv.put("orderPropsXmlId", def.get("xmlId"));
        pv.put("code", c);
        pv.put("name", def.get("name"));
        pv.put("value", value);
        o.props.add(pv);
    }

    /** Deletes an order the way a shop manager does in the admin panel, firing {@code ONSALEBEFOREORDERDELETE}. */
    public synchronized void deleteOrderAsHuman(long orderId) {
        Order o = orders.get(orderId);
        if (o == null) {
            throw new IllegalArgumentException("orderId: no order " + orderId);
        }
        deleteOrder(o);
    }

    private void deleteOrder(Order o) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("ID", o.id());
        data.put("XML_ID", o.fields.get("xmlId"));
        data.put("ACTION", "delete");
        events.fire(Portal.STORE, "ONSALEBEFOREORDERDELETE", data);
        orders.remove(o.id());
    }

    /**
     * Every save, as the real store does it: {@code dateUpdate} is the save's time (second precision, so two saves within
     * one second share it) and {@code version} increments (the only field that tells such saves apart, reference §11.2).
     */
    private void saved(Order o) {
        o.fields.put("dateUpdate", time.nowText());
        o.fields.put("version", ((Integer) o.fields.get("version")) + 1);
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("ID", o.id());
        data.put("XML_ID", o.fields.get("xmlId"));
        data.put("ACTION", "save");
        events.fire(Portal.STORE, "ONSALEORDERSAVED", data);
    }

    private Map<String, Object> fullOrder(Order o) {
        Map<String, Object> out = new LinkedHashMap<>(o.fields);
        List<Map<String, Object>> basket = new ArrayList<>();
        for (Map<String, Object> b : o.basket) {
            Map<String, Object> item = new LinkedHashMap<>(b);
            // as in the reference's sale.order.get example: basket ids come back as strings here
            item.put("id", b.get("id").toString());
            item.put("orderId", b.get("orderId").toString());
            item.put("module", "catalog");
            item.put("productProviderClass", "\\Bitrix\\Catalog\\Product\\CatalogProvider");
            item.put("lid", o.fields.get("lid"));
            basket.add(item);
        }
        out.put("basketItems", basket);
        out.put("payments", copy(o.payments));
        out.put("shipments", new ArrayList<>());
        out.put("propertyValues", copy(o.props));
        out.put("clients", new ArrayList<>());
        out.put("requisiteLink", new ArrayList<>());
        out.put("tradeBindings", new ArrayList<>());
        return out;
    }

    private static List<Map<String, Object>> copy(List<Map<String, Object>> rows) {
        List<Map<String, Object>> out = new ArrayList<>();
        rows.forEach(r -> out.add(new LinkedHashMap<>(r)));
        return out;
    }

    // =====================================================================================================
    // REST methods
    // =====================================================================================================

    Map<String, RestMethod> methods() {
        Map<String, RestMethod> m = new HashMap<>();
        m.put("sale.order.get", p -> sync(() -> Map.of("order", fullOrder(requireOrder(p.exact("id"))))));
        m.put("sale.order.list", p -> sync(() -> {
            List<Map<String, Object>> rows = new ArrayList<>();
            orders.values().forEach(o -> rows.add(o.fields));
            return list(p, rows, "orders", orders.isEmpty() ? orderFieldNames() : orders.firstEntry().getValue().fields.keySet());
        }));
        m.put("sale.order.add", p -> sync(() -> {
            Map<String, Object> fields = fieldsParam(p);
            for (String required : List.of("lid", "personTypeId", "currency")) {
                if (fields.get(required) == null || Params.asString(fields.get(required)).isBlank()) {
                    throw BitrixError.sale(OTHER, "Required fields: " + required);
                }
            }
            Map<String, Object> spec = new LinkedHashMap<>(fields);
            spec.remove("basketItems");
            spec.remove("payments");
            spec.remove("properties");
            spec.put("price", fields.get("price") == null ? 0 : fields.get("price"));
            Order o = createOrder(spec);
            saved(o);
            return Map.of("order", fullOrder(o));
        }));
        // reference §11.2 lists sale.order.delete (id); UNVERIFIED: its answer. Assumed {"result": true}, like the
        // classic delete methods, and the REST event ONSALEBEFOREORDERDELETE {ID, XML_ID, ACTION: "delete"} (§11.9)
        m.put("sale.order.delete", p -> sync(() -> {
            deleteOrder(requireOrder(p.exact("id")));
            return true;
        }));
        m.put("sale.order.update", p -> sync(() -> {
            Order o = requireOrder(p.exact("id"));
            Map<String, Object> fields = fieldsParam(p);
            String status = Params.asString(fields.get("statusId"));
            if (status != null && !statuses.containsKey(status)) {
                // reference: UNVERIFIED — code and text for an unknown status in sale.order.update
                throw BitrixError.sale(OTHER, "status " + status + " not found");
            }
            writeOrderFields(o, fields);
            saved(o);
            return Map.of("order", fullOrder(o));
        }));
        m.put("sale.status.list", p -> sync(() -> list(p, new ArrayList<>(statuses.values()), "statuses",
                Set.of("id", "type", "notify", "color", "sort", "xmlId"))));
        m.put("sale.statuslang.list", p -> sync(() -> {
            List<Map<String, Object>> rows = new ArrayList<>();
            for (String id : statuses.keySet()) {
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("statusId", id);
                r.put("lid", "en");
                r.put("name", statusNames.get(id));
                r.put("description", "");
                rows.add(r);
            }
            return list(p, rows, "statusLangs", Set.of("statusId", "lid", "name", "description"));
        }));
        m.put("sale.persontype.list", p -> sync(() -> list(p, new ArrayList<>(personTypes.values()), "personTypes", Set.of("id", "name", "lid", "sort", "active", "code", "xmlId"))));
        m.put("sale.paysystem.list", p -> sync(() -> paySystemList(p)));
        m.put("sale.payment.list", p -> sync(() -> {
            List<Map<String, Object>> rows = new ArrayList<>();
            orders.values().forEach(o -> rows.addAll(o.payments));
            return list(p, rows, "payments", paymentFieldNames());
        }));
        m.put("sale.payment.get", p -> sync(() -> Map.of("payment", new LinkedHashMap<>(requirePayment(p.exact("id"))))));
        m.put("sale.payment.add", p -> sync(() -> {
            Map<String, Object> fields = fieldsParam(p);
            if (fields.get("orderId") == null || fields.get("paySystemId") == null) {
                throw BitrixError.sale(OTHER, "Required fields: orderId, paySystemId");
            }
            Order o = requireOrder(fields.get("orderId"));
            Map<String, Object> payment = addPayment(o, fields);
            recomputePaid(o);
            saved(o);
            return Map.of("payment", new LinkedHashMap<>(payment));
        }));
        m.put("sale.payment.update", p -> sync(() -> {
            Map<String, Object> payment = requirePayment(p.exact("id"));
            Map<String, Object> fields = fieldsParam(p);
            Order o = orders.get((Long) payment.get("orderId"));
            writePayment(payment, fields);
            recomputePaid(o);
            saved(o);
            return Map.of("payment", new LinkedHashMap<>(payment));
        }));
        m.put("sale.basketitem.list", p -> sync(() -> {
            List<Map<String, Object>> rows = new ArrayList<>();
            orders.values().forEach(o -> rows.addAll(o.basket));
            return list(p, rows, "basketItems", basketFieldNames());
        }));
        m.put("sale.basketitem.add", p -> sync(() -> basketItemAdd(fieldsParam(p))));
        m.put("sale.basketitem.getFields", p -> sync(() -> Map.of("basketItem", basketItemFieldDescriptions())));
        m.put("sale.basketitem.get", p -> sync(() -> {
            Long id = Params.asLong(p.exact("id"));
            if (id == null) {
                throw BitrixError.sale(REQUIRED, "Required parameter id is missing");
            }
            for (Order o : orders.values()) {
                for (Map<String, Object> b : o.basket) {
                    if (b.get("id").equals(id)) {
                        return Map.of("basketItem", new LinkedHashMap<>(b));
                    }
                }
            }
            throw BitrixError.sale(OTHER, "basket item does not exist");
        }));
        m.put("sale.propertyvalue.list", p -> sync(() -> {
            List<Map<String, Object>> rows = new ArrayList<>();
            orders.values().forEach(o -> rows.addAll(o.props));
            return list(p, rows, "propertyValues",
                    Set.of("id", "orderId", "orderPropsId", "orderPropsXmlId", "code", "name", "value"));
        }));
        m.put("sale.propertyvalue.modify", p -> sync(() -> {
            Map<String, Object> fields = fieldsParam(p);
            Map<String, Object> orderSpec = Params.asMap(fields.get("order"));
            if (orderSpec == null) {
                throw BitrixError.sale(REQUIRED, "Required parameter fields[order] is missing");
            }
            Order o = requireOrder(orderSpec.get("id"));
            List<Object> values = Params.asList(orderSpec.get("propertyValues"));
            Map<String, String> byCode = new LinkedHashMap<>();
            for (Object v : values == null ? List.of() : values) {
                Map<String, Object> pv = Params.asMap(v);
                Long propId = pv == null ? null : Params.asLong(pv.get("orderPropsId"));
                Map<String, Object> def = propId == null ? null : properties.get(propId);
                if (def == null) {
                    throw BitrixError.sale(OTHER, "property " + (pv == null ? null : pv.get("orderPropsId")) + " not found");
                }
                byCode.put((String) def.get("code"), Params.asString(pv.get("value")));
            }
            // the complete set is replaced: properties not passed are deleted from the order
            o.props.clear();
            byCode.forEach((code, value) -> setProperty(o, code, value));
            saved(o);
            return Map.of("propertyValues", copy(o.props));
        }));
        m.put("sale.property.list", p -> sync(() -> list(p, new ArrayList<>(properties.values()), "properties",
                properties.isEmpty() ? Set.of("id", "code", "name") : properties.firstEntry().getValue().keySet())));
        m.put("catalog.product.get", p -> sync(() -> {
            Long id = Params.asLong(p.exact("id"));
            if (id == null) {
                throw BitrixError.sale(REQUIRED, "Required parameter id is missing");
            }
            Map<String, Object> product = products.get(id);
            if (product == null) {
                throw BitrixError.sale(OTHER, "product does not exist");
            }
            Map<String, Object> out = new LinkedHashMap<>(product);
            out.remove("parentId");
            return Map.of("product", out);
        }));
        m.put("catalog.product.offer.get", p -> sync(() -> {
            Long id = Params.asLong(p.exact("id"));
            if (id == null) {
                throw BitrixError.sale(REQUIRED, "Required parameter id is missing");
            }
            Map<String, Object> offer = products.get(id);
            if (offer == null || !offer.containsKey("parentId")) {
                // reference: UNVERIFIED — error for an id that is not a variation
                throw BitrixError.sale(OTHER, "offer does not exist");
            }
            return Map.of("offer", new LinkedHashMap<>(offer));
        }));
        m.put("catalog.product.list", p -> sync(() -> {
            requireIblockFilter(p);
            List<Object> select = Params.asList(p.exact("select"));
            if (select == null || !select.contains("id") || !select.contains("iblockId")) {
                // reference: catalog.product.list requires select with id and iblockId; the exact error is UNVERIFIED
                throw BitrixError.sale(REQUIRED, "Required select fields: id, iblockId");
            }
            return list(p, new ArrayList<>(products.values()), "products", productFieldNames());
        }));
        m.put("catalog.catalog.list", p -> sync(() -> {
            // reference: only names the method ("Catalog iblock ids: catalog.catalog.list"); fields are UNVERIFIED
            List<Map<String, Object>> rows = new ArrayList<>();
            Map<String, Object> catalog = new LinkedHashMap<>();
            catalog.put("id", CATALOG_IBLOCK_ID);
            catalog.put("iblockId", CATALOG_IBLOCK_ID);
            catalog.put("iblockTypeId", "CRM_PRODUCT_CATALOG");
            catalog.put("lid", "s1");
            catalog.put("name", "Products");
            catalog.put("productIblockId", null);
            catalog.put("skuPropertyId", null);
            rows.add(catalog);
            Map<String, Object> offers = new LinkedHashMap<>(catalog);
            offers.put("id", OFFERS_IBLOCK_ID);
            offers.put("iblockId", OFFERS_IBLOCK_ID);
            offers.put("name", "Variations");
            offers.put("productIblockId", CATALOG_IBLOCK_ID);
            offers.put("skuPropertyId", 101);
            rows.add(offers);
            return list(p, rows, "catalogs", catalog.keySet());
        }));
        m.put("catalog.section.get", p -> sync(() -> {
            Long id = Params.asLong(p.exact("id"));
            if (id == null) {
                throw BitrixError.sale(REQUIRED, "Required parameter id is missing");
            }
            Map<String, Object> s = sections.get(id);
            if (s == null) {
                throw BitrixError.sale(OTHER, "section does not exist");
            }
            return Map.of("section", new LinkedHashMap<>(s));
        }));
        m.put("catalog.section.list", p -> sync(() -> {
            requireIblockFilter(p);
            return list(p, new ArrayList<>(sections.values()), "sections",
                    Set.of("id", "iblockId", "iblockSectionId", "name", "code", "xmlId", "sort", "active", "description", "descriptionType"));
        }));
        return m;
    }

    /**
     * {@code sale.basketitem.add} (reference §11.2, §11.6): {@code fields.orderId}, {@code productId} (a catalog product
     * or variation; 0 or absent for a non-catalog item), {@code quantity}, {@code currency}, {@code name}, and either
     * {@code customPrice: "Y"} with {@code price} (plus {@code basePrice}/{@code discountPrice},
     * {@code basePrice = price + discountPrice}) or, for a catalog product, its catalog price. The order's price
     * becomes its basket's total and the order is saved ({@code ONSALEORDERSAVED}), as every other sale.* write here.
     *
     * <p>reference: UNVERIFIED — the reference lists these fields but not which are required, nor the error codes and
     * texts of this method; the emulator requires {@code orderId}, {@code quantity} (positive) and {@code currency}
     * (the order's), a {@code name} and {@code price} for a non-catalog item, and answers code 0 (like
     * {@code sale.payment.add}) or the order-not-found / missing-parameter codes the other sale methods use. Also
     * UNVERIFIED: that a non-catalog item is stored with {@code customPrice: "Y"} (its price can only be its own) and
     * that inconsistent {@code basePrice}/{@code discountPrice} are rejected rather than recomputed.
     */
    private Object basketItemAdd(Map<String, Object> fields) {
        List<String> missing = new ArrayList<>();
        for (String required : List.of("orderId", "quantity", "currency")) {
            if (Params.asString(fields.get(required)) == null || Params.asString(fields.get(required)).isBlank()) {
                missing.add(required);
            }
        }
        if (!missing.isEmpty()) {
            throw BitrixError.sale(OTHER, "Required fields: " + String.join(", ", missing));
        }
        Order o = requireOrder(fields.get("orderId"));
        Object rawProduct = fields.get("productId");
        long productId = 0;
        if (rawProduct != null && !Params.asString(rawProduct).isBlank()) {
            Long parsed = Params.asLong(rawProduct);
            if (parsed == null || parsed < 0) {
                throw BitrixError.sale(OTHER, "productId: '" + Params.asString(rawProduct) + "' is not a product id");
            }
            productId = parsed;
        }
        if (productId != 0 && !products.containsKey(productId)) {
            throw BitrixError.sale(OTHER, "productId: product " + productId + " does not exist");
        }
        BigDecimal quantity = Params.asDecimal(fields.get("quantity"));
        if (quantity == null || quantity.signum() <= 0) {
            throw BitrixError.sale(OTHER, "quantity: '" + Params.asString(fields.get("quantity")) + "' is not a positive number");
        }
        String currency = Params.asString(fields.get("currency"));
        if (!currency.equals(o.fields.get("currency"))) {
            throw BitrixError.sale(OTHER, "currency: '" + currency + "' is not the currency of order " + o.id() + " ("
                    + o.fields.get("currency") + ")");
        }
        boolean custom = Params.isYes(fields.get("customPrice")) || productId == 0;
        Map<String, Object> item = new LinkedHashMap<>();
        item.put("productId", productId);
        item.put("quantity", quantity);
        String name = Params.asString(fields.get("name"));
        if (name != null && !name.isBlank()) {
            item.put("name", name);
        } else if (productId == 0) {
            throw BitrixError.sale(OTHER, "name: required for a non-catalog item (productId 0)");
        }
        if (custom) {
            BigDecimal price = decimalField(fields, "price");
            if (price == null) {
                throw BitrixError.sale(OTHER, "price: required with customPrice Y and for a non-catalog item (productId 0), got '"
                        + Params.asString(fields.get("price")) + "'");
            }
            BigDecimal base = decimalField(fields, "basePrice");
            BigDecimal discount = decimalField(fields, "discountPrice");
            if (discount == null) {
                discount = base == null ? BigDecimal.ZERO : base.subtract(price);
            }
            if (base != null && base.compareTo(price.add(discount)) != 0) {
                throw BitrixError.sale(OTHER, "basePrice " + base.toPlainString() + " must equal price + discountPrice ("
                        + price.toPlainString() + " + " + discount.toPlainString() + ")");
            }
            item.put("price", price);
            item.put("discountPrice", discount);
        }
        Map<String, Object> added = addBasketItem(o, item);
        o.fields.put("price", CrmPortal.number(basketTotal(o)));
        recomputePaid(o);
        saved(o);
        return Map.of("basketItem", new LinkedHashMap<>(added));
    }

    /** A decimal field or null when absent; a value that is not a number is an error naming it. */
    private static BigDecimal decimalField(Map<String, Object> fields, String name) {
        Object raw = fields.get(name);
        if (raw == null || (raw instanceof String && ((String) raw).isBlank())) {
            return null;
        }
        BigDecimal value = Params.asDecimal(raw);
        if (value == null || value.signum() < 0) {
            throw BitrixError.sale(OTHER, name + ": '" + Params.asString(raw) + "' is not a non-negative number");
        }
        return value;
    }

    /** {@code sale.basketitem.getFields}: the shape of §11.1; types, flags: reference UNVERIFIED beyond the field list. */
    private Map<String, Object> basketItemFieldDescriptions() {
        Map<String, Object> out = new LinkedHashMap<>();
        String[][] types = {{"id", "integer"}, {"orderId", "integer"}, {"sort", "integer"}, {"productId", "integer"},
                {"name", "string"}, {"price", "double"}, {"basePrice", "double"}, {"discountPrice", "double"},
                {"customPrice", "char"}, {"currency", "string"}, {"quantity", "double"}, {"xmlId", "string"},
                {"dateInsert", "datetime"}, {"dateUpdate", "datetime"}};
        Set<String> required = Set.of("orderId", "quantity", "currency");
        Set<String> readOnly = Set.of("id", "dateInsert", "dateUpdate");
        for (String[] t : types) {
            String field = t[0];
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("type", t[1]);
            d.put("isRequired", required.contains(field));
            d.put("isReadOnly", readOnly.contains(field));
            d.put("isImmutable", field.equals("orderId"));
            out.put(field, d);
        }
        return out;
    }

    private Object sync(java.util.function.Supplier<Object> body) {
        synchronized (this) {
            return body.get();
        }
    }

    // reference: UNVERIFIED — code/text when filter.iblockId is missing
    private static void requireIblockFilter(Params p) {
        Map<String, Object> filter = Params.asMap(p.exact("filter"));
        if (filter == null || filter.keySet().stream().noneMatch(k -> k.replaceAll("^[!=<>@%]+", "").equals("iblockId"))) {
            throw BitrixError.sale(REQUIRED, "Required filter field iblockId is missing");
        }
    }

    private static Map<String, Object> fieldsParam(Params p) {
        Map<String, Object> fields = Params.asMap(p.exact("fields"));
        if (fields == null || fields.isEmpty()) {
            throw BitrixError.sale(REQUIRED, "Required parameter fields is missing");
        }
        return fields;
    }

    private Order requireOrder(Object idParam) {
        if (idParam == null || Params.asString(idParam) == null || Params.asString(idParam).isBlank()) {
            throw BitrixError.sale(REQUIRED, "Required parameter id is missing");
        }
        Long id = Params.asLong(idParam);
        Order o = id == null ? null : orders.get(id);
        if (o == null) {
            throw BitrixError.sale(ORDER_NOT_FOUND, "order does not exist");
        }
        return o;
    }

    private Map<String, Object> requirePayment(Object idParam) {
        Long id = Params.asLong(idParam);
        if (id == null) {
            throw BitrixError.sale(REQUIRED, "Required parameter id is missing");
        }
        for (Order o : orders.values()) {
            for (Map<String, Object> p : o.payments) {
                if (p.get("id").equals(id)) {
                    return p;
                }
            }
        }
        throw BitrixError.sale(PAYMENT_NOT_FOUND, "payment does not exist");
    }

    private Set<String> orderFieldNames() {
        return Set.copyOf(List.of("id", "accountNumber", "lid", "personTypeId", "statusId", "dateStatus", "currency",
                "price", "payed", "canceled", "dateInsert", "dateUpdate", "userId", "responsibleId", "xmlId", "version",
                "comments", "userDescription", "discountValue", "taxValue", "deducted", "marked", "externalOrder"));
    }

    private Set<String> paymentFieldNames() {
        return Set.of("id", "orderId", "accountNumber", "paid", "datePaid", "paySystemId", "paySystemName", "sum",
                "currency", "xmlId", "comments", "isReturn", "externalPayment", "paySystemIsCash", "paySystemXmlId",
                "psStatus", "responsibleId", "dateBill", "marked");
    }

    private Set<String> basketFieldNames() {
        return Set.of("id", "orderId", "productId", "name", "price", "basePrice", "discountPrice", "customPrice",
                "currency", "quantity", "xmlId", "dateInsert", "dateUpdate", "measureCode", "measureName", "vatRate",
                "vatIncluded", "type", "sort", "properties", "catalogXmlId", "productXmlId", "canBuy", "weight", "dimensions");
    }

    private Set<String> productFieldNames() {
        return Set.of("id", "iblockId", "iblockSectionId", "name", "code", "xmlId", "active", "available", "type",
                "measure", "vatId", "vatIncluded", "quantity", "dateCreate", "timestampX", "purchasingPrice",
                "purchasingCurrency", "parentId");
    }

    /**
     * A D7 list: {@code filter} with exact camelCase names (an unknown name is an error, as the ORM raises one),
     * {@code order}, {@code select} (default: every field), pages of 50 from {@code start}, the wrapper key.
     */
    private Object list(Params p, List<Map<String, Object>> rows, String wrapper, Set<String> known) {
        Map<String, Object> filter = Params.asMap(p.exact("filter"));
        Function<String, String> field = n -> known.contains(n) ? n : null;
        List<Map<String, Object>> matched = new ArrayList<>();
        for (Map<String, Object> r : rows) {
            if (ListQuery.matches(r, filter, field, time.zone, unknown -> {
                // reference: UNVERIFIED — the D7 ORM rejects unknown filter fields; code 0 is a guess
                throw BitrixError.sale(OTHER, "Unknown field definition `" + unknown + "`");
            })) {
                matched.add(r);
            }
        }
        matched.sort(ListQuery.order(Params.asMap(p.exact("order")), field, (f, v) -> v, "id", time.zone));
        List<Object> selectRaw = Params.asList(p.exact("select"));
        return ListQuery.page(matched, p.exact("start"), false, page -> {
            List<Map<String, Object>> out = new ArrayList<>();
            for (Map<String, Object> row : page) {
                if (selectRaw == null || selectRaw.isEmpty() || selectRaw.contains("*")) {
                    out.add(new LinkedHashMap<>(row));
                } else {
                    List<String> names = new ArrayList<>();
                    selectRaw.forEach(s -> names.add(String.valueOf(s)));
                    out.add(ListQuery.select(row, names));
                }
            }
            return Map.of(wrapper, out);
        });
    }

    /** {@code sale.paysystem.list}: UPPER_CASE {@code SELECT}/{@code FILTER}/{@code ORDER}, flat array result. */
    private Object paySystemList(Params p) {
        Map<String, Object> filter = Params.asMap(p.exact("FILTER"));
        Set<String> known = paySystems.isEmpty() ? Set.of("ID", "NAME", "ACTIVE") : paySystems.firstEntry().getValue().keySet();
        Function<String, String> field = n -> known.contains(n) ? n : null;
        List<Map<String, Object>> matched = new ArrayList<>();
        for (Map<String, Object> ps : paySystems.values()) {
            if (ListQuery.matches(ps, filter, field, time.zone, u -> { })) {
                matched.add(ps);
            }
        }
        matched.sort(ListQuery.order(Params.asMap(p.exact("ORDER")), field, (f, v) -> v, "ID", time.zone));
        List<Object> select = Params.asList(p.exact("SELECT"));
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> ps : matched) {
            if (select == null || select.isEmpty()) {
                out.add(new LinkedHashMap<>(ps));
            } else {
                List<String> names = new ArrayList<>();
                select.forEach(s -> names.add(String.valueOf(s)));
                out.add(ListQuery.select(ps, names));
            }
        }
        return out;
    }
}
