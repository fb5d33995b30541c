package org.dealbridge.demo;

import java.io.PrintStream;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.dealbridge.mapping.OrderFromDeal;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.dealbridge.emulator.BitrixEmulator;

/**
 * What happens in the demo shop, step by step, done the way people do it: buyers place orders in the store, the shop
 * changes a status, a manager moves a deal in the CRM and creates one by hand. Each step waits for DealBridge's effect
 * (up to a limit) and prints it, so the demo shows order → deal and stage → status as they happen.
 */
final class DemoStory {
    static final String ORIGINATOR = "dealbridge:s1";
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss");

    private final BitrixEmulator emu;
    private final PrintStream out;
    private final Duration step;
    private int stepsDone;
    private int effectsSeen;

    DemoStory(BitrixEmulator emu, PrintStream out, Duration step) {
        this.emu = emu;
        this.out = out;
        this.step = step;
    }

    void play(CountDownLatch stop) {
        try {
            long books = say("store", "Olga orders 2 books (status N, cash)",
                    () -> emu.store().addOrder(DemoShop.bookOrder("Olga Petrova", "olga@example.ru")));
            expectDeal(books, stop);
            if (pause(stop)) {
                return;
            }
            long phone = say("store", "Pavel orders a blue Phone X (a variation) and a book (status N, card)",
                    () -> emu.store().addOrder(DemoShop.phoneOrder("Pavel Ivanov", "+7 900 123-45-67")));
            expectDeal(phone, stop);
            if (pause(stop)) {
                return;
            }
            say("store", "Ivan orders a charger; the order waits for the supplier (status W, which the mapping does not map)",
                    () -> emu.store().addOrder(DemoShop.waitingOrder("Ivan Sidorov")));
            if (pause(stop)) {
                return;
            }
            say("store", "the shop marks Olga's order paid (status N → P)", () -> {
                emu.store().updateOrderAsHuman(books, Map.of("statusId", "P"));
                return books;
            });
            expectDeal(books, stop);
            if (pause(stop)) {
                return;
            }
            Optional<Map<String, Object>> phoneDeal = dealOf(phone);
            if (phoneDeal.isPresent()) {
                long dealId = Long.parseLong(String.valueOf(phoneDeal.get().get("ID")));
                say("crm", "manager Egor moves deal " + dealId + " (Pavel's phone) to C2:WON", () -> {
                    emu.crm().updateDealAsHuman(dealId, Map.of("STAGE_ID", "C2:WON"));
                    return dealId;
                });
                expectStatus(phone, "F", stop);
            }
            if (pause(stop)) {
                return;
            }
            long handMade = say("crm", "manager Egor creates a deal by hand in pipeline 2 (card payment)", () -> emu.crm().addDealAsHuman(Map.of(
                    "TITLE", "Phone X for a walk-in buyer", "CATEGORY_ID", "2", "STAGE_ID", "C2:NEW", "OPPORTUNITY", "49990.00",
                    "CURRENCY_ID", "RUB", "ASSIGNED_BY_ID", "9", "UF_CRM_PAY_SYSTEM", "2")));
            say("crm", "Egor adds the blue Phone X to deal " + handMade + " and saves it", () -> {
                emu.crm().setProductRowsAsHuman(handMade, List.of(Map.of("PRODUCT_ID", DemoShop.VARIATION_PHONE_BLUE,
                        "PRODUCT_NAME", "Phone X, blue, 256 GB", "PRICE", "49990.00", "QUANTITY", 1)));
                return handMade;
            });
            long madeOrder = expectOrderFrom(handMade, stop);
            if (pause(stop)) {
                return;
            }
            if (madeOrder > 0) {
                say("store", "the shop marks order " + madeOrder + " (made from deal " + handMade + ") paid (status N → P)", () -> {
                    emu.store().updateOrderAsHuman(madeOrder, Map.of("statusId", "P"));
                    return madeOrder;
                });
                expectHandMadeDealAt(handMade, "C2:EXECUTING", stop);
                if (pause(stop)) {
                    return;
                }
            }
            printState();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            out.println("  demo story stopped: " + e.getMessage());
        }
    }

    private interface Action {
        long run();
    }

    private long say(String side, String what, Action action) {
        long id = action.run();
        stepsDone++;
        out.printf("%n  %s  %-5s  %s%n", LocalTime.now().format(TIME), side, what);
        return id;
    }

    private boolean pause(CountDownLatch stop) throws InterruptedException {
        return stop.await(step.toMillis(), TimeUnit.MILLISECONDS);
    }

    private Optional<Map<String, Object>> dealOf(long orderId) {
        List<Map<String, Object>> deals = emu.crm().dealsByOrigin(ORIGINATOR, Long.toString(orderId));
        return deals.isEmpty() ? Optional.empty() : Optional.of(deals.get(0));
    }

    /**
     * Polls every half second, for at most 30 s, until {@code what} is there; empty when it did not come or the demo
     * was stopped (then {@code missing} is said, unless stopped).
     */
    private <T> Optional<T> waitFor(java.util.function.Supplier<Optional<T>> what, String missing, CountDownLatch stop)
            throws InterruptedException {
        for (int i = 0; i < 60; i++) {
            Optional<T> found = what.get();
            if (found.isPresent()) {
                effectsSeen++;
                return found;
            }
            if (stop.await(500, TimeUnit.MILLISECONDS)) {
                return Optional.empty();
            }
        }
        out.println("  (" + missing + " yet)");
        return Optional.empty();
    }

    private void expectDeal(long orderId, CountDownLatch stop) throws InterruptedException {
        String statusNow = String.valueOf(emu.store().order(orderId).get("statusId"));
        waitFor(() -> dealOf(orderId).filter(d -> stageMatches(d, statusNow)), "no matching deal for order " + orderId, stop)
                .ifPresent(d -> out.printf("  %s  crm    deal %s for order %d: pipeline %s, stage %s, responsible %s, "
                                + "pay system field %s%n", LocalTime.now().format(TIME), d.get("ID"), orderId, d.get("CATEGORY_ID"),
                        d.get("STAGE_ID"), d.get("ASSIGNED_BY_ID"), d.get("UF_CRM_PAY_SYSTEM")));
    }

    private static boolean stageMatches(Map<String, Object> deal, String status) {
        String stage = String.valueOf(deal.get("STAGE_ID"));
        return switch (status) {
            case "N" -> stage.endsWith("NEW") || stage.endsWith("PREPARATION");
            case "P" -> stage.endsWith("EXECUTING");
            case "F" -> stage.endsWith("WON");
            default -> true;
        };
    }

    private void expectStatus(long orderId, String status, CountDownLatch stop) throws InterruptedException {
        waitFor(() -> Optional.of(String.valueOf(emu.store().order(orderId).get("statusId"))).filter(status::equals),
                "order " + orderId + " has not reached status " + status, stop)
                .ifPresent(now -> out.printf("  %s  store  order %d is now in status %s%n", LocalTime.now().format(TIME), orderId, now));
    }

    /** Waits for the order made from a deal, with its payment and basket, and returns its id (0 when none came). */
    private long expectOrderFrom(long dealId, CountDownLatch stop) throws InterruptedException {
        // the order is added first, then its basket lines and payment: report it once it is whole
        Optional<Map<String, Object>> order = waitFor(() -> orderMadeFrom(dealId)
                .filter(o -> !"none".equals(paySystemOf(o)) && !basketOf(o).isEmpty()), "no order made from deal " + dealId, stop);
        order.ifPresent(o -> out.printf("  %s  store  order %s made from deal %d: status %s, pay system %s, price %s, basket %s%n",
                LocalTime.now().format(TIME), o.get("id"), dealId, o.get("statusId"), paySystemOf(o), o.get("price"), basketOf(o)));
        return order.map(o -> Long.parseLong(String.valueOf(o.get("id")))).orElse(0L);
    }

    /** Waits for a hand-made deal to reach a stage, then shows that the manager's pipeline, title, rows and amount stand. */
    private void expectHandMadeDealAt(long dealId, String stage, CountDownLatch stop) throws InterruptedException {
        waitFor(() -> Optional.ofNullable(emu.crm().deal(dealId)).filter(d -> stage.equals(String.valueOf(d.get("STAGE_ID")))),
                "deal " + dealId + " has not reached stage " + stage, stop)
                .ifPresent(d -> out.printf("  %s  crm    deal %d (made by hand) is at %s and keeps what Egor typed: pipeline %s, "
                                + "title \"%s\", amount %s, rows %s%n", LocalTime.now().format(TIME), dealId, d.get("STAGE_ID"),
                        d.get("CATEGORY_ID"), d.get("TITLE"), d.get("OPPORTUNITY"), rowsOf(dealId)));
    }

    private Optional<Map<String, Object>> orderMadeFrom(long dealId) {
        String xmlId = OrderFromDeal.xmlId(dealId);
        return emu.store().orders().stream().filter(o -> xmlId.equals(o.get("xmlId"))).findFirst();
    }

    private static List<String> basketOf(Map<String, Object> order) {
        List<String> lines = new java.util.ArrayList<>();
        if (order.get("basketItems") instanceof List<?> items) {
            for (Object item : items) {
                if (item instanceof Map<?, ?> line) {
                    lines.add(line.get("name") + " × " + line.get("quantity"));
                }
            }
        }
        return lines;
    }

    private List<String> rowsOf(long dealId) {
        List<String> rows = new java.util.ArrayList<>();
        for (Map<String, Object> row : emu.crm().dealProductRows(dealId)) {
            rows.add(row.get("PRODUCT_NAME") + " × " + row.get("QUANTITY"));
        }
        return rows;
    }

    @SuppressWarnings("unchecked")
    private static Object paySystemOf(Map<String, Object> order) {
        Object payments = order.get("payments");
        if (payments instanceof List<?> list && !list.isEmpty() && list.get(0) instanceof Map<?, ?> p) {
            return ((Map<String, Object>) p).get("paySystemId");
        }
        return "none";
    }

    private void printState() {
        out.printf("%n  Orders and their deals now:%n");
        for (Map<String, Object> order : emu.store().orders()) {
            Object id = order.get("id");
            // an order made from a deal is linked to that deal (it has no ORIGIN_ID: a person made it)
            OptionalLong madeFrom = OrderFromDeal.dealId(String.valueOf(order.get("xmlId")));
            Optional<Map<String, Object>> deal = madeFrom.isPresent()
                    ? Optional.ofNullable(emu.crm().deal(madeFrom.getAsLong()))
                    : dealOf(Long.parseLong(String.valueOf(id)));
            out.printf("    order %-4s status %-2s pay system %-4s → %s%n", id, order.get("statusId"), paySystemOf(order),
                    deal.map(d -> "deal " + d.get("ID") + (madeFrom.isPresent() ? " (made by hand)" : "") + " in pipeline "
                            + d.get("CATEGORY_ID") + " at " + d.get("STAGE_ID") + ", responsible " + d.get("ASSIGNED_BY_ID"))
                            .orElse("no deal"));
        }
        out.printf("  The emulators stay up: curl %s/emulator/crm/deals   (Ctrl-C to stop)%n", emu.baseUrl());
    }

    String summary() {
        return stepsDone + " story steps, " + effectsSeen + " effects seen in the CRM and the store";
    }
}
