package org.dealbridge.bitrix.store;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.dealbridge.bitrix.BatchCommand;
import org.dealbridge.bitrix.BatchResult;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.bitrix.BitrixDateTimes;
import org.dealbridge.bitrix.BitrixException;
import org.dealbridge.bitrix.Idempotence;
import org.dealbridge.bitrix.LenientJson;

/**
 * The store ({@code sale.*}) and catalog methods DealBridge uses (reference §11), over one {@link BitrixClient}.
 * Reads and updates are retried on transient failures; adds ({@link #addOrder}, {@link #addBasketItem},
 * {@link #addPayment}) are not.
 */
public final class StoreApi {
    private final BitrixClient client;

    public StoreApi(BitrixClient client) {
        this.client = Objects.requireNonNull(client, "client");
    }

    public BitrixClient client() {
        return client;
    }

    /**
     * The store's own time now ({@link org.dealbridge.bitrix.PortalClock}); before any answer has told it, one
     * {@code sale.status.list} (a handful of records) asks. Empty when the answers carry none.
     */
    public Optional<java.time.Instant> portalNow() {
        return client.portalNow().or(() -> {
            statuses();
            return client.portalNow();
        });
    }

    // ---- orders ----

    /** {@code sale.order.get} with basket, property values and payments; empty when the order does not exist. */
    public Optional<OrderDetails> order(long id) {
        JsonNode result;
        try {
            result = client.call("sale.order.get", Map.of("id", id));
        } catch (BitrixException.NotFound e) {
            return Optional.empty();
        }
        JsonNode o = wrapped(result, "order", "sale.order.get");
        return Optional.of(new OrderDetails(SaleOrder.from(o),
                LenientJson.elements(o, "basketItems").stream().map(BasketItem::from).toList(),
                LenientJson.elements(o, "propertyValues").stream().map(PropertyValue::from).toList(),
                LenientJson.elements(o, "payments").stream().map(Payment::from).toList()));
    }

    /** Orders one {@link #ordersInBulk} reads with one {@code sale.order.list} (one page: the portal's page size). */
    public static final int ORDERS_PER_BULK_READ = BitrixClient.PAGE_SIZE;

    /**
     * Many orders in full with one {@code batch} (reference §4): {@code sale.order.list} with {@code @id} (reference
     * §3.5: IN, the value an array) and the basket lines, payments and property values of all of them with
     * {@code @orderId}, then, only when a part has more than a page, one more {@code batch} with its further pages. So
     * 50 orders usually cost one or two requests instead of 50 {@code sale.order.get}.
     *
     * <p>The reference shows {@code @orderId} for {@code sale.basketitem.list} (§11.6) and states the {@code @} prefix
     * for every {@code sale.*} list (§3.5); for {@code sale.payment.list} and {@code sale.propertyvalue.list} it shows
     * only {@code orderId} equal to one value, so {@code @orderId} there rests on §3.5 alone (not shown for these two
     * methods; the emulator applies §3.5 to every sale list).
     *
     * <p>An id missing from the answer is an order that does not exist (or another site's: the filter is by id only).
     * An order saved while it is read is saved later than this read, so its hook event or the poller reads it again;
     * but the parts are paged by offset ({@code start}, reference §3.1), and a save between two requests that removes
     * lines of one order (a basket replaced) shifts the later pages, so lines of <em>another</em> order, saved before
     * the read, would fall between two pages and be lost for good. So a read that needs further pages ends with the
     * orders' {@code version} ("increments on save", §11.2) and {@code dateUpdate} listed again; when one moved, the
     * read is not used: the orders are read again in two halves (fewer lines, often one page each), and one order
     * alone with {@code sale.order.get}, whose answer holds all its parts.
     *
     * @param orderIds at most {@link #ORDERS_PER_BULK_READ}
     */
    public Map<Long, OrderDetails> ordersInBulk(Collection<Long> orderIds) {
        List<Long> ids = List.copyOf(new LinkedHashSet<>(orderIds));
        if (ids.size() > ORDERS_PER_BULK_READ) {
            throw new IllegalArgumentException("a bulk read takes at most " + ORDERS_PER_BULK_READ + " orders (one page), got " + ids.size());
        }
        return ids.isEmpty() ? Map.of() : readConsistently(ids);
    }

    private Map<Long, OrderDetails> readConsistently(List<Long> ids) {
        Optional<Map<Long, OrderDetails>> read = readInBulk(ids);
        if (read.isPresent()) {
            return read.get();
        }
        if (ids.size() == 1) {
            return order(ids.get(0)).map(details -> Map.of(ids.get(0), details)).orElseGet(Map::of);
        }
        Map<Long, OrderDetails> out = new LinkedHashMap<>(readConsistently(ids.subList(0, ids.size() / 2)));
        out.putAll(readConsistently(ids.subList(ids.size() / 2, ids.size())));
        return out;
    }

    /** One bulk read of the orders; empty when one of them was saved between its first and last request. */
    private Optional<Map<Long, OrderDetails>> readInBulk(List<Long> ids) {
        Map<String, String> wrappers = new LinkedHashMap<>();
        wrappers.put("basket", "basketItems");
        wrappers.put("payments", "payments");
        wrappers.put("props", "propertyValues");
        Map<String, String> methods = Map.of("orders", "sale.order.list", "basket", "sale.basketitem.list", "payments", "sale.payment.list",
                "props", "sale.propertyvalue.list");
        List<BatchCommand> first = new ArrayList<>();
        first.add(BatchCommand.of("orders", "sale.order.list", Map.of("filter", Map.of("@id", ids), "order", Map.of("id", "asc"), "start", 0)));
        for (String part : wrappers.keySet()) {
            first.add(partPage(part, methods.get(part), ids, 0));
        }
        BatchResult answer = client.batch(first, false);
        List<JsonNode> orderRows = LenientJson.elements(LenientJson.asObject("sale.order.list result", answer.result("orders")), "orders");
        Map<String, List<JsonNode>> rows = new LinkedHashMap<>();
        List<BatchCommand> more = new ArrayList<>();
        for (Map.Entry<String, String> part : wrappers.entrySet()) {
            String key = part.getKey();
            rows.put(key, new ArrayList<>(LenientJson.elements(LenientJson.asObject(methods.get(key) + " result", answer.result(key)), part.getValue())));
            long total = answer.total(key).orElse(0);
            for (long start = answer.next(key).orElse(total); start < total; start += BitrixClient.PAGE_SIZE) {
                more.add(partPage(key, methods.get(key), ids, start));
            }
        }
        if (!more.isEmpty()) {
            // the orders' saves, listed again last: unchanged means no page shifted between the requests
            more.add(BatchCommand.of(SAVES_AGAIN, "sale.order.list", Map.of("filter", Map.of("@id", ids), "order", Map.of("id", "asc"),
                    "select", SAVES_SELECT, "start", 0)));
        }
        for (int from = 0; from < more.size(); from += BitrixClient.MAX_BATCH) {
            List<BatchCommand> pages = more.subList(from, Math.min(more.size(), from + BitrixClient.MAX_BATCH));
            BatchResult next = client.batch(pages, false);
            for (BatchCommand page : pages) {
                if (page.key().equals(SAVES_AGAIN)) {
                    List<JsonNode> again = LenientJson.elements(LenientJson.asObject("sale.order.list result", next.result(SAVES_AGAIN)), "orders");
                    if (!saves(again).equals(saves(orderRows))) {
                        return Optional.empty();
                    }
                    continue;
                }
                String part = page.key().substring(0, page.key().indexOf('_'));
                rows.get(part).addAll(LenientJson.elements(LenientJson.asObject(page.method() + " result", next.result(page.key())), wrappers.get(part)));
            }
        }
        Map<Long, List<BasketItem>> basket = new LinkedHashMap<>();
        rows.get("basket").stream().map(BasketItem::from).forEach(b -> basket.computeIfAbsent(b.orderId(), k -> new ArrayList<>()).add(b));
        Map<Long, List<Payment>> payments = new LinkedHashMap<>();
        rows.get("payments").stream().map(Payment::from).forEach(p -> payments.computeIfAbsent(p.orderId(), k -> new ArrayList<>()).add(p));
        Map<Long, List<PropertyValue>> props = new LinkedHashMap<>();
        rows.get("props").stream().map(PropertyValue::from).forEach(v -> props.computeIfAbsent(v.orderId(), k -> new ArrayList<>()).add(v));
        Map<Long, OrderDetails> out = new LinkedHashMap<>();
        for (JsonNode row : orderRows) {
            SaleOrder order = SaleOrder.from(row);
            out.put(order.id(), new OrderDetails(order, List.copyOf(basket.getOrDefault(order.id(), List.of())),
                    List.copyOf(props.getOrDefault(order.id(), List.of())), List.copyOf(payments.getOrDefault(order.id(), List.of()))));
        }
        return Optional.of(out);
    }

    /** The batch key of a bulk read's closing list of the orders' saves. */
    private static final String SAVES_AGAIN = "saves";
    /** What that closing list selects: no more than tells a save. */
    public static final List<String> SAVES_SELECT = List.of("id", "version", "dateUpdate");

    /** Each listed order's save: its {@code version} and {@code dateUpdate} (second precision: the version tells saves within a second). */
    private static Map<Long, String> saves(List<JsonNode> orderRows) {
        Map<Long, String> saves = new LinkedHashMap<>();
        for (JsonNode row : orderRows) {
            saves.put(LenientJson.requiredLong(row, "id"), LenientJson.text(row, "version") + "@" + LenientJson.text(row, "dateUpdate"));
        }
        return saves;
    }

    private static BatchCommand partPage(String part, String method, List<Long> orderIds, long start) {
        return BatchCommand.of(start == 0 ? part : part + "_" + start, method,
                Map.of("filter", Map.of("@orderId", orderIds), "order", Map.of("id", "asc"), "start", start));
    }

    /**
     * Orders of a site changed strictly after {@code since}, oldest first (dateUpdate, then id), every page.
     * {@code siteId} null means every site. An order changed while the scan runs may be returned twice (its new
     * {@code dateUpdate} is later); none is skipped.
     */
    public List<SaleOrder> listOrdersUpdatedSince(OffsetDateTime since, String siteId) {
        List<SaleOrder> all = new ArrayList<>();
        forEachOrderPageUpdatedSince(since, siteId, all::addAll);
        return all;
    }

    /**
     * As {@link #listOrdersUpdatedSince}, page by page, for large backlogs. Pages by keyset on (dateUpdate, id) with
     * {@code start=-1} rather than by offset: with offsets, an order updated mid-scan moves to the end and shifts every
     * later row one place forward, so one row at the next page boundary would never be seen — and a cursor that has
     * moved past its dateUpdate would lose it for good.
     */
    public void forEachOrderPageUpdatedSince(OffsetDateTime since, String siteId, Consumer<List<SaleOrder>> pageConsumer) {
        Objects.requireNonNull(since, "since");
        String after = BitrixDateTimes.format(since);
        Long afterId = null;
        while (true) {
            // rows sharing the last row's dateUpdate (same second) with a greater id, by keyset on id too: paged by
            // offset, an order of that second saved again meanwhile (it moves to a later second) shifted the rest one
            // place forward, and the row at a page boundary, which stays in that second, was never listed again
            if (afterId != null) {
                Map<String, Object> ties = siteFilter(siteId);
                ties.put("=dateUpdate", after);
                ties.put(">id", afterId);
                client.exportById("sale.order.list", Map.of("filter", ties), "id", "orders",
                        page -> pageConsumer.accept(page.stream().map(SaleOrder::from).toList()));
            }
            Map<String, Object> later = siteFilter(siteId);
            later.put(">dateUpdate", after);
            Map<String, Object> order = new LinkedHashMap<>();
            order.put("dateUpdate", "asc");
            order.put("id", "asc");
            Map<String, Object> params = new LinkedHashMap<>();
            params.put("filter", later);
            params.put("order", order);
            params.put("start", -1);
            JsonNode result = client.call("sale.order.list", params);
            List<SaleOrder> page = LenientJson.elements(LenientJson.asObject("sale.order.list result", result), "orders").stream()
                    .map(SaleOrder::from).toList();
            if (!page.isEmpty()) {
                pageConsumer.accept(page);
            }
            if (page.size() < BitrixClient.PAGE_SIZE) {
                return;
            }
            SaleOrder last = page.get(page.size() - 1);
            if (last.dateUpdate() == null) {
                throw new LenientJson.MalformedValue("sale.order.list orders[].dateUpdate", null, "a datetime on every order");
            }
            after = BitrixDateTimes.format(last.dateUpdate());
            afterId = last.id();
        }
    }

    private static Map<String, Object> siteFilter(String siteId) {
        Map<String, Object> filter = new LinkedHashMap<>();
        if (siteId != null) {
            filter.put("lid", siteId);
        }
        return filter;
    }

    /** Orders whose {@code xmlId} equals the given value. */
    public List<SaleOrder> findOrdersByXmlId(String xmlId) {
        Objects.requireNonNull(xmlId, "xmlId");
        return client.listAll("sale.order.list", Map.of("filter", Map.of("=xmlId", xmlId), "order", Map.of("id", "asc")), "orders")
                .stream().map(SaleOrder::from).toList();
    }

    /** {@code sale.order.update}; returns the updated order. */
    public SaleOrder updateOrder(long id, Map<String, ?> fields) {
        return SaleOrder.from(wrapped(client.call("sale.order.update", Map.of("id", id, "fields", fields), Idempotence.IDEMPOTENT),
                "order", "sale.order.update"));
    }

    /** {@code sale.order.add} (requires {@code lid}, {@code personTypeId}, {@code currency}); not retried on transient failures. */
    public SaleOrder addOrder(Map<String, ?> fields) {
        return SaleOrder.from(wrapped(client.call("sale.order.add", Map.of("fields", fields), Idempotence.NOT_IDEMPOTENT),
                "order", "sale.order.add"));
    }

    // ---- reference data ----

    public List<OrderStatus> statuses() {
        return client.listAll("sale.status.list", Map.of("order", Map.of("sort", "asc")), "statuses").stream().map(OrderStatus::from).toList();
    }

    /**
     * Status names by status id ({@code sale.statuslang.list}, reference §11.3: {@code sale.status.list} has none), in
     * the given language when the portal has it, else the first one listed.
     */
    public Map<String, String> statusNames(String language) {
        Map<String, String> names = new java.util.LinkedHashMap<>();
        for (JsonNode row : client.listAll("sale.statuslang.list", Map.of("select", List.of("statusId", "lid", "name")), "statusLangs")) {
            String id = LenientJson.text(row, "statusId");
            String name = LenientJson.text(row, "name");
            if (id != null && name != null && (language.equals(LenientJson.text(row, "lid")) || !names.containsKey(id))) {
                names.put(id, name);
            }
        }
        return names;
    }

    /**
     * The iblock ids of the product catalogs ({@code catalog.catalog.list}), without the variations' iblocks (those
     * name their product iblock): sections live in product catalogs only (reference §13.19).
     */
    public List<Long> productCatalogIblockIds() {
        return client.listAll("catalog.catalog.list", Map.of("select", List.of("iblockId", "productIblockId")), "catalogs").stream()
                .filter(c -> c.path("productIblockId").isNull() || c.path("productIblockId").isMissingNode())
                .map(c -> c.path("iblockId").asLong())
                .filter(id -> id > 0)
                .distinct().toList();
    }

    /** {@code sale.paysystem.list}: UPPER_CASE parameters, a flat array result (reference §11.4). */
    public List<PaySystem> paySystems() {
        JsonNode result = client.call("sale.paysystem.list", Map.of("ORDER", Map.of("SORT", "ASC")));
        return LenientJson.asElements("sale.paysystem.list result", result).stream().map(PaySystem::from).toList();
    }

    // ---- order parts ----

    public List<BasketItem> basketItems(long orderId) {
        return client.listAll("sale.basketitem.list", Map.of("filter", Map.of("orderId", orderId), "order", Map.of("id", "asc")), "basketItems")
                .stream().map(BasketItem::from).toList();
    }

    /**
     * {@code sale.basketitem.add} (reference §11.2, §11.6): {@code orderId}, {@code productId} (catalog product or
     * variation; 0 for a non-catalog item), {@code quantity}, {@code currency}, {@code name}, and {@code customPrice: "Y"}
     * with {@code price} (and {@code basePrice}/{@code discountPrice}, {@code basePrice = price + discountPrice}) or,
     * for a catalog product, its catalog price. The store recomputes the order's price from its basket. Not retried
     * on transient failures: a repeat would add a second line.
     */
    public BasketItem addBasketItem(Map<String, ?> fields) {
        return BasketItem.from(wrapped(client.call("sale.basketitem.add", Map.of("fields", fields), Idempotence.NOT_IDEMPOTENT),
                "basketItem", "sale.basketitem.add"));
    }

    public List<Payment> payments(long orderId) {
        return client.listAll("sale.payment.list", Map.of("filter", Map.of("orderId", orderId), "order", Map.of("id", "asc")), "payments")
                .stream().map(Payment::from).toList();
    }

    /** {@code sale.payment.add} (requires {@code orderId}, {@code paySystemId}); not retried on transient failures. */
    public Payment addPayment(Map<String, ?> fields) {
        return Payment.from(wrapped(client.call("sale.payment.add", Map.of("fields", fields), Idempotence.NOT_IDEMPOTENT),
                "payment", "sale.payment.add"));
    }

    public Payment updatePayment(long id, Map<String, ?> fields) {
        return Payment.from(wrapped(client.call("sale.payment.update", Map.of("id", id, "fields", fields), Idempotence.IDEMPOTENT),
                "payment", "sale.payment.update"));
    }

    public List<PropertyValue> propertyValues(long orderId) {
        return client.listAll("sale.propertyvalue.list", Map.of("filter", Map.of("orderId", orderId), "order", Map.of("id", "asc")),
                "propertyValues").stream().map(PropertyValue::from).toList();
    }

    // ---- catalog ----

    public Optional<CatalogProduct> product(long id) {
        try {
            return Optional.of(CatalogProduct.from(wrapped(client.call("catalog.product.get", Map.of("id", id)), "product", "catalog.product.get")));
        } catch (BitrixException.NotFound e) {
            return Optional.empty();
        }
    }

    public Optional<ProductOffer> offer(long id) {
        try {
            return Optional.of(ProductOffer.from(wrapped(client.call("catalog.product.offer.get", Map.of("id", id)), "offer",
                    "catalog.product.offer.get")));
        } catch (BitrixException.NotFound e) {
            return Optional.empty();
        }
    }

    public Optional<CatalogSection> section(long id) {
        try {
            return Optional.of(CatalogSection.from(wrapped(client.call("catalog.section.get", Map.of("id", id)), "section", "catalog.section.get")));
        } catch (BitrixException.NotFound e) {
            return Optional.empty();
        }
    }

    /**
     * Every section of a catalog iblock, all pages. The docs' example omits the {@code result} wrapper while the field
     * table has {@code result.sections} (CONFLICT, reference §11.1); the wrapper is expected, as in every other method.
     */
    public List<CatalogSection> sections(long iblockId) {
        return client.listAll("catalog.section.list", Map.of("filter", Map.of("iblockId", iblockId), "order", Map.of("id", "asc"),
                "select", List.of("id", "iblockId", "iblockSectionId", "name", "code", "xmlId")), "sections")
                .stream().map(CatalogSection::from).toList();
    }

    /**
     * The section path of a basket product, root first. A variation has no section of its own (pitfall §13.19), so its
     * parent product is used. Empty when the product (or its parent) has no section or does not exist.
     */
    public List<CatalogSection> sectionPath(long productId) {
        Optional<CatalogProduct> product = product(productId);
        if (product.isEmpty() || product.get().isVariation() || product.get().sectionId() == null) {
            Optional<ProductOffer> offer = offer(productId);
            if (offer.isPresent()) {
                product = product(offer.get().parentId());
            }
        }
        if (product.isEmpty() || product.get().sectionId() == null) {
            return List.of();
        }
        List<CatalogSection> path = new ArrayList<>();
        Set<Long> seen = new LinkedHashSet<>();
        Long next = product.get().sectionId();
        while (next != null) {
            if (!seen.add(next)) {
                throw new IllegalStateException("catalog sections form a cycle: " + seen);
            }
            Long current = next;
            CatalogSection s = section(current).orElseThrow(() -> new IllegalStateException(
                    "product " + productId + " refers to section " + current + " which does not exist"));
            path.add(s);
            next = s.parentId();
        }
        Collections.reverse(path);
        return List.copyOf(path);
    }

    private static JsonNode wrapped(JsonNode result, String key, String method) {
        JsonNode v = result == null ? null : result.get(key);
        if (v == null || !v.isObject()) {
            throw new LenientJson.MalformedValue(method + " result." + key, result, "an object");
        }
        return v;
    }
}
