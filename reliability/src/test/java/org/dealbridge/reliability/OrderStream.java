package org.dealbridge.reliability;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.dealbridge.schemas.BasketItem;
import org.dealbridge.schemas.Buyer;
import org.dealbridge.schemas.ChangeCause;
import org.dealbridge.schemas.ChangeSource;
import org.dealbridge.schemas.OrderChanged;

/**
 * A seeded stream of store changes as the store ingestion publishes them: every order is placed (status N) and some
 * move on (P, then F) a little later, interleaved with other orders. Before it is finished (F), an order may also have
 * its basket replaced by a shop manager (what {@code Store.updateOrderAsHuman} with {@code basketItems} does: new
 * lines, the price follows the basket total, same status), always by a basket the mapping puts in another pipeline,
 * so the order's deal has to move and change its amount and product rows. Knows every order's history and its last
 * state, which is what the CRM must show in the end.
 *
 * <p>Each change after a placement carries its pace ({@link Step}): a delay after the order's previous change and
 * whether it waits until the order has a deal. In a real store an order changes minutes after it was placed, long
 * after its deal exists, so most changes wait (and DealBridge decides them as UPDATEs of a linked deal); one in five
 * does not (a burst, decided before the deal or its link exists).
 */
final class OrderStream {
    static final String SITE = "s1";
    /** Section whose products go to pipeline 2 under {@link SyncScenario#MAPPING}. */
    static final long ELECTRONICS = 12;
    /** A subsection of {@link #ELECTRONICS}, not mapped itself: its products inherit pipeline 2. */
    static final long PHONES = 121;
    /** Section whose products go to pipeline 4 under {@link SyncScenario#MAPPING}. */
    static final long GARDEN = 13;
    /** A section in no mapping rule: alone in a basket it means {@code pipelines.default} (0). */
    static final long BOOKS = 11;
    /** Root-to-leaf section paths of the catalog the baskets are drawn from (three products in each leaf). */
    private static final List<List<Long>> PATHS = List.of(List.of(10L, BOOKS), List.of(10L, ELECTRONICS),
            List.of(10L, ELECTRONICS, PHONES), List.of(10L, GARDEN));

    /** A new order is placed every 20 ms: 1000 orders over 20 s. */
    static final long PLACEMENT_SPACING_MILLIS = 20;
    /** An order's next change comes 0.3-6 s after its previous one (and, when it waits, after the order has a deal). */
    static final int MIN_GAP_MILLIS = 300;
    static final int MAX_GAP_MILLIS = 6_000;

    /**
     * One change of an order and its pace: {@code delayMillis} after the start of publishing for a placement, else after
     * the order's previous change was published; {@code waitsForDeal}: not before the order has a deal.
     */
    record Step(OrderChanged change, long delayMillis, boolean waitsForDeal, boolean basketChange) {
    }

    private final List<OrderChanged> changes = new ArrayList<>();
    private final Map<Long, List<Step>> steps = new LinkedHashMap<>();
    private final Map<Long, OrderChanged> last = new HashMap<>();
    private long statusChanges;
    private long basketChanges;

    OrderStream(long firstOrderId, int orders, long seed) {
        Random random = new Random(seed);
        Instant start = Instant.parse("2026-11-01T00:00:00Z");
        // the store's timeline without waiting for deals: [offset in ms, sequence number, change], for changes()
        List<Object[]> timeline = new ArrayList<>();
        for (int i = 0; i < orders; i++) {
            long id = firstOrderId + i;
            int moves = random.nextInt(4); // 0: stays N; 1: goes to P; 2-3: goes to P then F
            List<String> events = new ArrayList<>(moves == 0 ? List.of("N") : moves == 1 ? List.of("N", "P") : List.of("N", "P", "F"));
            int baskets = random.nextInt(20);  // 11 in 20 orders keep their basket, 7 have it replaced once, 2 twice
            for (int b = baskets < 11 ? 0 : baskets < 18 ? 1 : 2; b > 0; b--) {
                int finished = events.indexOf("F");
                int before = finished < 0 ? events.size() : finished;  // after the placement, before the order is finished
                events.add(1 + random.nextInt(before), BASKET);
            }
            List<BasketItem> basket = basket(random);
            String status = "N";
            long offset = i * PLACEMENT_SPACING_MILLIS;
            long delay = offset;
            for (int s = 0; s < events.size(); s++) {
                if (events.get(s).equals(BASKET)) {
                    basket = otherPipelineBasket(random, basket);
                    basketChanges++;
                } else {
                    status = events.get(s);
                    statusChanges += s == 0 ? 0 : 1;
                }
                OrderChanged change = order(id, status, basket, start.plusSeconds(i).plusMillis(s * 1000L + 1));
                boolean waits = s > 0 && random.nextInt(5) != 0;
                steps.computeIfAbsent(id, o -> new ArrayList<>()).add(new Step(change, delay, waits, events.get(s).equals(BASKET)));
                timeline.add(new Object[] {offset, (long) timeline.size(), change});
                last.put(id, change);
                delay = MIN_GAP_MILLIS + random.nextInt(MAX_GAP_MILLIS - MIN_GAP_MILLIS);
                offset += delay;
            }
        }
        timeline.sort(java.util.Comparator.comparingLong((Object[] e) -> (Long) e[0]).thenComparingLong(e -> (Long) e[1]));
        for (Object[] e : timeline) {
            changes.add((OrderChanged) e[2]);
        }
    }

    private static final String BASKET = "basket";

    /** One to three distinct products from anywhere in the catalog, each 1-3 pieces at a price with kopecks. */
    private static List<BasketItem> basket(Random random) {
        Map<Long, BasketItem> lines = new LinkedHashMap<>();
        for (int n = 1 + random.nextInt(3); lines.size() < n; ) {
            List<Long> path = PATHS.get(random.nextInt(PATHS.size()));
            long productId = path.get(path.size() - 1) * 100 + 1 + random.nextInt(3);
            String price = BigDecimal.valueOf(10_000 + random.nextInt(3_000_000), 2).toPlainString();
            lines.putIfAbsent(productId, item(productId, path, price, Integer.toString(1 + random.nextInt(3))));
        }
        return List.copyOf(lines.values());
    }

    /**
     * A new basket the mapping puts in another pipeline than {@code old}'s, at another total. (A second replacement may
     * take the order back to its first pipeline: A to B to A.)
     */
    private static List<BasketItem> otherPipelineBasket(Random random, List<BasketItem> old) {
        long oldPipeline = SyncScenario.mapping().pipelineFor(old);
        while (true) {
            List<BasketItem> basket = basket(random);
            if (SyncScenario.mapping().pipelineFor(basket) != oldPipeline && total(basket).compareTo(total(old)) != 0) {
                return basket;
            }
        }
    }

    /** The basket's total (price x quantity of every line), as the store sets an order's price from it. */
    static BigDecimal total(List<BasketItem> items) {
        return items.stream().map(i -> new BigDecimal(i.getPrice().toString()).multiply(new BigDecimal(i.getQuantity().toString())))
                .reduce(BigDecimal.ZERO, BigDecimal::add).setScale(2);
    }

    static BasketItem item(long productId, List<Long> sectionPath, String price, String quantity) {
        return BasketItem.newBuilder().setProductId(productId).setName("Product " + productId)
                .setPrice(price).setQuantity(quantity).setSectionPath(sectionPath).build();
    }

    /** An order of one piece of one product of {@code section} (a child of section 10) at {@code price}. */
    static OrderChanged order(long orderId, String status, long section, int price, Instant dateUpdate) {
        return order(orderId, status, List.of(item(section * 100 + 1, List.of(10L, section), price + ".00", "1")), dateUpdate);
    }

    /** An order with this basket; its price is the basket's total, as the store computes it. */
    static OrderChanged order(long orderId, String status, List<BasketItem> basket, Instant dateUpdate) {
        return OrderChanged.newBuilder().setSiteId(SITE).setOrderId(orderId).setAccountNumber("R-" + orderId)
                .setStatusId(status).setPaid(!"N".equals(status)).setCurrency("RUB").setPrice(total(basket).toPlainString())
                .setPaySystemIds(List.of(1L))
                .setBuyer(Buyer.newBuilder().setName("Buyer " + orderId).build())
                .setItems(basket)
                .setDateUpdate(dateUpdate)
                .setCause(ChangeCause.newBuilder().setSource(ChangeSource.STORE_HOOK).build())
                .build();
    }

    /** Every change in publishing order when nothing waits for a deal; changes of one order are in their own order. */
    List<OrderChanged> changes() {
        return changes;
    }

    /** Order id → its changes with their pace, placement first. */
    Map<Long, List<Step>> steps() {
        return steps;
    }

    /** Order id → its last change: what the deal must show. */
    Map<Long, OrderChanged> lastChanges() {
        return last;
    }

    /** Order id → every change of the order, placement first: to explain an order that came out wrong. */
    Map<Long, List<OrderChanged>> history() {
        Map<Long, List<OrderChanged>> history = new LinkedHashMap<>();
        steps.forEach((id, of) -> history.put(id, of.stream().map(Step::change).toList()));
        return history;
    }

    /** Status changes after the placements (N to P, P to F). */
    long statusChanges() {
        return statusChanges;
    }

    /** Basket replacements, each moving the order to another pipeline at another price. */
    long basketChanges() {
        return basketChanges;
    }
}
