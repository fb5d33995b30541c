package org.dealbridge.bitrix.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import org.dealbridge.bitrix.BitrixException;
import org.dealbridge.bitrix.EmulatorClients;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.emulator.Fault;
import org.dealbridge.emulator.NewOrder;
import org.dealbridge.emulator.Portal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link StoreApi} against the store emulator over real HTTP. */
class StoreApiHttpTest {
    private BitrixEmulator emu;
    private StoreApi store;

    @BeforeEach
    void start() {
        emu = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled());
        emu.store().addSection(13, null, "Products");
        emu.store().addSection(31, 13L, "Toys");
        emu.store().addSection(32, 31L, "Soft toys");
        emu.store().addProduct(100, "Bear", 32L, "990.00");
        emu.store().addProduct(200, "T-shirt", 13L, "500");
        emu.store().addVariation(201, 200, "T-shirt red L", "550");
        emu.store().addProduct(300, "Loose", null, "1");
        emu.store().addPaySystem(6, "Cash", true);
        emu.store().addPaySystem(48, "Card");
        emu.store().addOrderProperty(1, "PHONE", "Phone");
        emu.store().addOrderProperty(2, "EMAIL", "E-mail");
        store = new StoreApi(EmulatorClients.store(emu, new SimpleMeterRegistry()).build());
    }

    @AfterEach
    void stop() {
        emu.close();
    }

    private long seedOrder() {
        return emu.store().addOrder(NewOrder.create().status("N").xmlId("ext-1")
                .item(100, "Bear", "990.00", 2).item(201, "T-shirt red L", "550", 1)
                .payment(48, new BigDecimal("2530.00"), false)
                .property("PHONE", "+79990001122").property("EMAIL", "anna@example.com"));
    }

    @Test
    void statusNamesComeFromTheLanguageListAndSectionsFromTheProductCatalogsOnly() {
        emu.store().addStatus("W", "Waiting for the supplier");
        assertThat(store.statusNames("en")).containsEntry("W", "Waiting for the supplier").containsKey("N");
        List<Long> catalogs = store.productCatalogIblockIds();
        assertThat(catalogs).as("the variations' iblock names its product iblock and is left out").hasSize(1);
        assertThat(store.sections(catalogs.get(0))).extracting(CatalogSection::name).contains("Products", "Toys", "Soft toys");
    }

    @Test
    void orderWithBasketPropertiesAndPayments() {
        long id = seedOrder();
        OrderDetails details = store.order(id).orElseThrow();
        SaleOrder o = details.order();
        assertThat(o.id()).isEqualTo(id);
        assertThat(o.siteId()).isEqualTo("s1");
        assertThat(o.statusId()).isEqualTo("N");
        assertThat(o.payed()).isFalse();
        assertThat(o.canceled()).isFalse();
        assertThat(o.xmlId()).isEqualTo("ext-1");
        assertThat(o.price()).isEqualByComparingTo("2530");
        assertThat(o.dateUpdate()).isNotNull();
        assertThat(details.basketItems()).extracting(BasketItem::productId).containsExactly(100L, 201L);
        assertThat(details.basketItems().get(0).quantity()).isEqualByComparingTo("2");
        assertThat(details.basketItems()).allSatisfy(b -> assertThat(b.orderId()).isEqualTo(id));
        assertThat(details.propertyValues()).extracting(PropertyValue::code, PropertyValue::value)
                .contains(org.assertj.core.groups.Tuple.tuple("PHONE", "+79990001122"));
        assertThat(details.payments()).singleElement().satisfies(p -> {
            assertThat(p.paySystemId()).isEqualTo(48);
            assertThat(p.paid()).isFalse();
        });
        assertThat(store.order(987654)).isEmpty();
    }

    @Test
    void orderPartsByTheirOwnListMethods() {
        long id = seedOrder();
        assertThat(store.basketItems(id)).extracting(BasketItem::name).containsExactly("Bear", "T-shirt red L");
        assertThat(store.payments(id)).singleElement().extracting(Payment::sum).satisfies(s -> assertThat(s).isEqualByComparingTo("2530"));
        assertThat(store.propertyValues(id)).extracting(PropertyValue::code).contains("PHONE", "EMAIL");
        assertThat(store.basketItems(987654)).isEmpty();
    }

    @Test
    void listsOrdersUpdatedSinceAcrossPagesOldestFirst() {
        OffsetDateTime before = OffsetDateTime.now().minusHours(1);
        for (int i = 0; i < 60; i++) {
            emu.store().addOrder(NewOrder.create().item(100, "Bear", "990.00", 1));
        }
        List<SaleOrder> orders = store.listOrdersUpdatedSince(before, "s1");
        assertThat(orders).hasSize(60);
        for (int i = 1; i < orders.size(); i++) {
            SaleOrder prev = orders.get(i - 1);
            SaleOrder cur = orders.get(i);
            assertThat(!cur.dateUpdate().isBefore(prev.dateUpdate())).isTrue();
            if (cur.dateUpdate().isEqual(prev.dateUpdate())) {
                assertThat(cur.id()).isGreaterThan(prev.id());
            }
        }
        assertThat(emu.calls().of(Portal.STORE, "sale.order.list")).allSatisfy(c ->
                assertThat(c.param("start") == null ? c.param("filter", ">id") : c.param("start")).isNotNull());
        assertThat(store.listOrdersUpdatedSince(OffsetDateTime.now().plusHours(1), "s1")).isEmpty();
        assertThat(store.listOrdersUpdatedSince(before, "zz")).isEmpty();
    }

    @Test
    void updateAndFindByXmlId() {
        long id = seedOrder();
        SaleOrder updated = store.updateOrder(id, Map.of("statusId", "P"));
        assertThat(updated.statusId()).isEqualTo("P");
        assertThat(store.order(id).orElseThrow().order().statusId()).isEqualTo("P");
        assertThat(store.findOrdersByXmlId("ext-1")).extracting(SaleOrder::id).containsExactly(id);
        assertThat(store.findOrdersByXmlId("nope")).isEmpty();
        assertThatThrownBy(() -> store.updateOrder(987654, Map.of("statusId", "P")))
                .isInstanceOfSatisfying(BitrixException.NotFound.class, e -> assertThat(e.errorCode()).isEqualTo("200540400001"));
    }

    @Test
    void addOrderAndPayments() {
        SaleOrder o = store.addOrder(Map.of("lid", "s1", "personTypeId", 1, "currency", "RUB"));
        assertThat(o.id()).isPositive();
        assertThat(o.currency()).isEqualTo("RUB");
        Payment p = store.addPayment(Map.of("orderId", o.id(), "paySystemId", 6, "sum", 100));
        assertThat(p.orderId()).isEqualTo(o.id());
        assertThat(p.paid()).isFalse();
        Payment paid = store.updatePayment(p.id(), Map.of("paid", "Y", "paySystemId", 6));
        assertThat(paid.paid()).isTrue();
        assertThat(store.payments(o.id())).extracting(Payment::paid).containsExactly(true);
        assertThatThrownBy(() -> store.updatePayment(987654, Map.of("paid", "Y", "paySystemId", 6)))
                .isInstanceOf(BitrixException.NotFound.class);
        assertThatThrownBy(() -> store.addOrder(Map.of("lid", "s1")))
                .isInstanceOf(BitrixException.ValidationFailure.class);
    }

    @Test
    void addOrderIsNotRetriedOnTransientFailure() {
        emu.faults().failNext("sale.order.add", 1, Fault.HTTP_500);
        assertThatThrownBy(() -> store.addOrder(Map.of("lid", "s1", "personTypeId", 1, "currency", "RUB")))
                .isInstanceOf(BitrixException.TransientFailure.class);
        assertThat(emu.calls().count(Portal.STORE, "sale.order.add")).isEqualTo(1);
    }

    @Test
    void addBasketItemAddsCatalogAndCustomLinesAndTheOrderTotalFollows() {
        SaleOrder o = store.addOrder(Map.of("lid", "s1", "personTypeId", 1, "currency", "RUB"));
        BasketItem bear = store.addBasketItem(Map.of("orderId", o.id(), "productId", 100, "quantity", "2", "currency", "RUB",
                "customPrice", "Y", "price", "900.00", "basePrice", "990.00", "discountPrice", "90.00"));
        assertThat(bear.id()).isPositive();
        assertThat(bear.orderId()).isEqualTo(o.id());
        assertThat(bear.productId()).isEqualTo(100);
        assertThat(bear.price()).isEqualByComparingTo("900");
        assertThat(bear.basePrice()).isEqualByComparingTo("990");
        BasketItem custom = store.addBasketItem(Map.of("orderId", o.id(), "productId", 0, "quantity", "1", "currency", "RUB",
                "name", "Assembly", "customPrice", "Y", "price", "150.00"));
        assertThat(custom.productId()).isZero();
        assertThat(custom.name()).isEqualTo("Assembly");
        assertThat(store.basketItems(o.id())).extracting(BasketItem::id).containsExactly(bear.id(), custom.id());
        assertThat(store.order(o.id()).orElseThrow().order().price()).isEqualByComparingTo("1950");
        assertThatThrownBy(() -> store.addBasketItem(Map.of("orderId", o.id(), "productId", 987654, "quantity", "1", "currency", "RUB")))
                .isInstanceOf(BitrixException.class).hasMessageContaining("987654");
        assertThatThrownBy(() -> store.addBasketItem(Map.of("orderId", o.id(), "productId", 100, "currency", "RUB")))
                .isInstanceOf(BitrixException.ValidationFailure.class).hasMessageContaining("quantity");
    }

    @Test
    void addBasketItemIsNotRetriedOnTransientFailure() {
        SaleOrder o = store.addOrder(Map.of("lid", "s1", "personTypeId", 1, "currency", "RUB"));
        emu.faults().failNext("sale.basketitem.add", 1, Fault.APPLY_THEN_DROP);
        assertThatThrownBy(() -> store.addBasketItem(Map.of("orderId", o.id(), "productId", 100, "quantity", "1", "currency", "RUB")))
                .isInstanceOf(BitrixException.class);
        assertThat(emu.calls().count(Portal.STORE, "sale.basketitem.add")).isEqualTo(1);
        assertThat(store.basketItems(o.id())).as("applied once, never repeated").hasSize(1);
    }

    @Test
    void statusesAndPaySystems() {
        assertThat(store.statuses()).extracting(OrderStatus::id).contains("N", "P", "F", "DN");
        assertThat(store.statuses()).filteredOn(s -> s.id().equals("DN")).extracting(OrderStatus::type).containsExactly("D");
        assertThat(store.paySystems()).extracting(PaySystem::id, PaySystem::isCash)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(6L, "Y"), org.assertj.core.groups.Tuple.tuple(48L, "N"));
    }

    @Test
    void catalogProductsVariationsAndSections() {
        assertThat(store.product(100)).get().extracting(CatalogProduct::sectionId).isEqualTo(32L);
        assertThat(store.product(987654)).isEmpty();
        assertThat(store.offer(201)).get().extracting(ProductOffer::parentId).isEqualTo(200L);
        assertThat(store.section(31)).get().extracting(CatalogSection::parentId).isEqualTo(13L);
        assertThat(store.section(13)).get().extracting(CatalogSection::parentId).isNull();
        assertThat(store.section(987654)).isEmpty();
        assertThat(store.sections(14)).extracting(CatalogSection::id).containsExactly(13L, 31L, 32L);

        assertThat(store.sectionPath(100)).extracting(CatalogSection::name).containsExactly("Products", "Toys", "Soft toys");
        // a variation has no section: its parent's is used
        assertThat(store.sectionPath(201)).extracting(CatalogSection::name).containsExactly("Products");
        assertThat(store.sectionPath(300)).isEmpty();
        assertThat(store.sectionPath(987654)).isEmpty();
    }

    @Test
    void sectionsArePagedBeyond50() {
        for (int i = 0; i < 60; i++) {
            emu.store().addSection(1000 + i, 13L, "S" + i);
        }
        assertThat(store.sections(14)).hasSize(63);
    }

    @Test
    void anOrderUpdatedDuringTheScanDoesNotHideAnother() {
        OffsetDateTime before = OffsetDateTime.now().minusHours(1);
        List<Long> ids = new java.util.ArrayList<>();
        for (int i = 0; i < 120; i++) {
            ids.add(emu.store().addOrder(NewOrder.create().item(100, "Bear", "990.00", 1)));
        }
        java.util.Set<Long> seen = new java.util.HashSet<>();
        java.util.concurrent.atomic.AtomicBoolean touched = new java.util.concurrent.atomic.AtomicBoolean();
        store.forEachOrderPageUpdatedSince(before, "s1", page -> {
            page.forEach(o -> seen.add(o.id()));
            if (touched.compareAndSet(false, true)) {
                // a manager edits an order of the first page while we page: it moves to the end of the ordering
                emu.store().updateOrderAsHuman(page.get(0).id(), Map.of("statusId", "P"));
            }
        });
        assertThat(seen).containsExactlyInAnyOrderElementsOf(ids);
    }

    @Test
    void aBasketReplacedBetweenTheRequestsOfABulkReadLosesNoLineOfAnotherOrder() {
        List<Long> ids = new java.util.ArrayList<>();
        for (int i = 0; i < 40; i++) {
            ids.add(emu.store().addOrder(NewOrder.create().item(100, "Bear", "990.00", 1).item(200, "T-shirt", "500", i + 1)));
        }
        // 80 basket lines: two pages. Right after the first page, a manager replaces the first order's basket: its two
        // lines (the lowest ids) go, two new ones come last, and every line after them moves two places forward
        emu.faults().afterNext(Portal.STORE, "sale.basketitem.list", () -> emu.store().updateOrderAsHuman(ids.get(0),
                Map.of("basketItems", List.of(Map.of("productId", 300, "name", "Loose", "price", "1", "quantity", "5"),
                        Map.of("productId", 100, "name", "Bear", "price", "990.00", "quantity", "1")))));

        Map<Long, OrderDetails> read = store.ordersInBulk(ids);

        assertThat(read).containsOnlyKeys(ids);
        List<Long> othersFirst = new java.util.ArrayList<>(ids.subList(1, ids.size()));
        othersFirst.add(ids.get(0));  // saved during the read, it would be read again anyway; the others would not
        for (long id : othersFirst) {
            OrderDetails now = store.order(id).orElseThrow();
            assertThat(read.get(id).basketItems()).as("the basket lines of order %d", id)
                    .extracting(BasketItem::id, BasketItem::productId, BasketItem::quantity)
                    .containsExactlyElementsOf(now.basketItems().stream()
                            .map(b -> org.assertj.core.groups.Tuple.tuple(b.id(), b.productId(), b.quantity())).toList());
        }
    }

    @Test
    void aBulkReadOfOrdersNobodyEditsCostsTwoRequestsWhenALinePageFollows() {
        List<Long> ids = new java.util.ArrayList<>();
        for (int i = 0; i < 40; i++) {
            ids.add(emu.store().addOrder(NewOrder.create().item(100, "Bear", "990.00", 1).item(200, "T-shirt", "500", 1)));
        }
        int before = emu.calls().count(Portal.STORE, "batch");

        assertThat(store.ordersInBulk(ids)).containsOnlyKeys(ids)
                .allSatisfy((id, details) -> assertThat(details.basketItems()).hasSize(2));
        assertThat(emu.calls().count(Portal.STORE, "batch") - before).as("the first page of every part, then the lines' second page and the saves").isEqualTo(2);
    }

    /**
     * The 10 000-order crash loop of 2026-12-07 05:46: order 2006, saved once, never reached Kafka. 120 orders saved in
     * one second are listed 50 at a time; the ones after the first page share its last row's second and were paged by
     * offset. An order of that second saved again while they are listed moves to a later second, the rows behind it
     * move one place forward, and the one at the page boundary was skipped, for good: the cursor passes its second.
     */
    @Test
    void anOrderSavedAgainWhileItsSecondIsListedDoesNotHideAnotherOfThatSecond() {
        org.dealbridge.emulator.ManualClock clock = new org.dealbridge.emulator.ManualClock(java.time.Instant.parse("2026-12-07T05:47:49Z"));
        try (BitrixEmulator sameSecond = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled().clock(clock))) {
            StoreApi api = new StoreApi(EmulatorClients.store(sameSecond, new SimpleMeterRegistry()).build());
            List<Long> ids = new java.util.ArrayList<>();
            for (int i = 0; i < 160; i++) {
                ids.add(sameSecond.store().addOrder(NewOrder.create().item(100, "Bear", "990.00", 1)));
            }
            java.util.Set<Long> seen = new java.util.HashSet<>();
            java.util.concurrent.atomic.AtomicInteger pages = new java.util.concurrent.atomic.AtomicInteger();
            api.forEachOrderPageUpdatedSince(OffsetDateTime.parse("2026-12-07T05:47:00Z"), "s1", page -> {
                page.forEach(o -> seen.add(o.id()));
                if (pages.incrementAndGet() == 2) {
                    // a manager saves an order of this second's second page a second later: it leaves the second
                    clock.advance(java.time.Duration.ofSeconds(1));
                    sameSecond.store().updateOrderAsHuman(page.get(0).id(), Map.of("statusId", "P"));
                }
            });
            assertThat(seen).containsExactlyInAnyOrderElementsOf(ids);
        }
    }
}
