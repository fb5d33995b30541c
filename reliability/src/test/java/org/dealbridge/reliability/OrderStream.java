package org.dealbridge.reliability;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
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
 * move on (P, then F) a little later, interleaved with other orders. Knows the last status of every order, which is
 * what the CRM must show in the end.
 */
final class OrderStream {
    static final String SITE = "s1";
    /** Section whose products go to pipeline 2 under {@link SyncScenario#MAPPING}; every other section to pipeline 0. */
    static final long ELECTRONICS = 12;
    static final long BOOKS = 11;

    private final List<OrderChanged> changes = new ArrayList<>();
    private final Map<Long, OrderChanged> last = new HashMap<>();

    OrderStream(long firstOrderId, int orders, long seed) {
        Random random = new Random(seed);
        Instant start = Instant.parse("2026-11-01T00:00:00Z");
        // slot i of the timeline; later status changes are placed a random distance behind the placement
        List<List<OrderChanged>> timeline = new ArrayList<>(Collections.nCopies(orders + 200, null));
        for (int i = 0; i < orders; i++) {
            long id = firstOrderId + i;
            long section = random.nextInt(3) == 0 ? ELECTRONICS : BOOKS;
            int price = 100 + random.nextInt(90_000);
            int steps = random.nextInt(4); // 0: stays N; 1: goes to P; 2-3: goes to P then F
            String[] statuses = steps == 0 ? new String[] {"N"} : steps == 1 ? new String[] {"N", "P"} : new String[] {"N", "P", "F"};
            int slot = i;
            for (int s = 0; s < statuses.length; s++) {
                OrderChanged change = order(id, statuses[s], section, price, start.plusSeconds(i).plusMillis(s * 1000L + 1));
                if (timeline.get(slot) == null) {
                    timeline.set(slot, new ArrayList<>());
                }
                timeline.get(slot).add(change);
                last.put(id, change);
                slot += 1 + random.nextInt(150);
                slot = Math.min(slot, timeline.size() - 1);
            }
        }
        timeline.stream().filter(java.util.Objects::nonNull).forEach(changes::addAll);
    }

    static OrderChanged order(long orderId, String status, long section, int price, Instant dateUpdate) {
        String amount = price + ".00";
        return OrderChanged.newBuilder().setSiteId(SITE).setOrderId(orderId).setAccountNumber("R-" + orderId)
                .setStatusId(status).setPaid(!"N".equals(status)).setCurrency("RUB").setPrice(amount).setPaySystemIds(List.of(1L))
                .setBuyer(Buyer.newBuilder().setName("Buyer " + orderId).build())
                .setItems(List.of(BasketItem.newBuilder().setProductId(section * 100 + 1).setName("Item of section " + section)
                        .setPrice(amount).setQuantity("1").setSectionPath(List.of(10L, section)).build()))
                .setDateUpdate(dateUpdate)
                .setCause(ChangeCause.newBuilder().setSource(ChangeSource.STORE_HOOK).build())
                .build();
    }

    /** Every change in publishing order; changes of one order are in their own order. */
    List<OrderChanged> changes() {
        return changes;
    }

    /** Order id → its last change: what the deal must show. */
    Map<Long, OrderChanged> lastChanges() {
        return last;
    }

    long stageChanges() {
        return changes.size() - last.size();
    }
}
