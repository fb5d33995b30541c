package org.dealbridge.orderevents;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.dealbridge.emulator.NewOrder;
import org.dealbridge.emulator.Portal;
import org.dealbridge.schemas.BasketItem;
import org.dealbridge.schemas.ChangeCause;
import org.dealbridge.schemas.ChangeSource;
import org.dealbridge.schemas.OrderChanged;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Enrichment over real HTTP against the store emulator. */
class OrderReaderTest {
    private static final ChangeCause CAUSE = ChangeCause.newBuilder().setSource(ChangeSource.STORE_POLL).setActor("test").build();
    private StoreFixture fx;

    @BeforeEach
    void start() {
        fx = new StoreFixture();
    }

    @AfterEach
    void stop() {
        fx.close();
    }

    private long seedMixedOrder() {
        return fx.emulator.store().addOrder(NewOrder.create().status("N").currency("RUB")
                .item(100, "Puzzle 500", "990.00", 2)
                .item(201, "T-shirt M", "1500.00", 1)
                .item(999, "Discontinued mug", "250.50", 1)
                .item(300, "Gift card", "500.00", 1)
                .payment(5, new java.math.BigDecimal("4230.50"), false)
                .property("FIO", "Ivan Petrov")
                .property("EMAIL", "Ivan.Petrov@Example.COM")
                .property("PHONE", "+7 (912) 345-67-89"));
    }

    @Test
    void everyBasketLineGetsItsSectionPathRootToLeaf() {
        long id = seedMixedOrder();
        OrderChanged event = fx.reader().read(id, CAUSE);

        assertThat(event.getSiteId()).isEqualTo("s1");
        assertThat(event.getOrderId()).isEqualTo(id);
        assertThat(event.getStatusId()).isEqualTo("N");
        assertThat(event.getCurrency()).isEqualTo("RUB");
        assertThat(event.getCause()).isEqualTo(CAUSE);
        assertThat(event.getItems()).hasSize(4);
        BasketItem puzzle = event.getItems().get(0);
        assertThat(puzzle.getProductId()).isEqualTo(100);
        assertThat(puzzle.getParentProductId()).isNull();
        assertThat(puzzle.getSectionPath()).as("subsection path, root first").containsExactly(1L, 2L, 3L);
        assertThat(puzzle.getPrice()).isEqualTo("990");
        assertThat(new java.math.BigDecimal(puzzle.getQuantity())).isEqualByComparingTo("2");

        BasketItem variation = event.getItems().get(1);
        assertThat(variation.getProductId()).isEqualTo(201);
        assertThat(variation.getParentProductId()).as("variation names its parent").isEqualTo(200L);
        assertThat(variation.getSectionPath()).as("the parent's sections").containsExactly(1L);

        BasketItem missing = event.getItems().get(2);
        assertThat(missing.getProductId()).isEqualTo(999);
        assertThat(missing.getParentProductId()).isNull();
        assertThat(missing.getSectionPath()).as("not in the catalog: empty path, default pipeline").isEmpty();

        BasketItem noSection = event.getItems().get(3);
        assertThat(noSection.getSectionPath()).isEmpty();
    }

    @Test
    void buyerComesFromTheOrderPropertiesAndPaymentsGivePaySystems() {
        long id = seedMixedOrder();
        OrderChanged event = fx.reader().read(id, CAUSE);
        assertThat(event.getBuyer().getName()).isEqualTo("Ivan Petrov");
        assertThat(event.getBuyer().getEmail()).as("lower-cased").isEqualTo("ivan.petrov@example.com");
        assertThat(event.getBuyer().getPhone()).as("as entered").isEqualTo("+7 (912) 345-67-89");
        assertThat(event.getPaySystemIds()).containsExactly(5L);
        assertThat(event.getPaid()).isFalse();
        assertThat(event.getAccountNumber()).isNotBlank();
        assertThat(event.getDateUpdate()).isEqualTo(StoreFixture.T0);
        assertThat(event.getVersion()).as("the store's document version").isEqualTo(1L);
    }

    @Test
    void theListedDigestIsTheReadEventsAndEverySaveChangesIt() {
        long id = seedMixedOrder();
        OrderChanged read = fx.reader().read(id, CAUSE);
        org.dealbridge.bitrix.store.SaleOrder listed = fx.store.findOrdersByXmlId(String.valueOf(fx.emulator.store().order(id).get("xmlId"))).get(0);
        assertThat(OrderReader.listedContent(listed)).as("a sale.order.list row and sale.order.get agree").isEqualTo(OrderReader.content(read));

        fx.emulator.store().updateOrderAsHuman(id, Map.of("properties", Map.of("PHONE", "+7 900 000-00-00")));  // same second, own fields the same
        OrderChanged saved = fx.reader().read(id, CAUSE);
        assertThat(saved.getDateUpdate()).isEqualTo(read.getDateUpdate());
        assertThat(saved.getVersion()).isEqualTo(read.getVersion() + 1);
        assertThat(OrderReader.content(saved)).as("told apart by version alone").isNotEqualTo(OrderReader.content(read));
    }

    @Test
    void anOrderWithoutPropertiesHasAnEmptyBuyer() {
        long id = fx.emulator.store().addOrder(NewOrder.create().item(100, "Puzzle 500", "990.00", 1));
        OrderChanged event = fx.reader().read(id, CAUSE);
        assertThat(event.getBuyer().getName()).isNull();
        assertThat(event.getBuyer().getEmail()).isNull();
        assertThat(event.getBuyer().getPhone()).isNull();
    }

    @Test
    void catalogLookupsAreCachedUntilTheTtlPasses() {
        ProductSections sections = new ProductSections(fx.store, Duration.ofMinutes(5), fx.clock);
        OrderReader reader = new OrderReader(fx.store, sections);
        long first = fx.emulator.store().addOrder(NewOrder.create().item(300, "Gift card", "500.00", 1));
        long second = fx.emulator.store().addOrder(NewOrder.create().item(300, "Gift card", "500.00", 1));

        assertThat(reader.read(first, CAUSE).getItems().get(0).getSectionPath()).isEmpty();
        int productReads = fx.emulator.calls().count(Portal.STORE, "catalog.product.get");
        assertThat(productReads).isPositive();

        // the shop moves the gift card into Toys; within the TTL the cached placement is used
        fx.emulator.store().addProduct(300, "Gift card", 2L, "500.00");
        assertThat(reader.read(second, CAUSE).getItems().get(0).getSectionPath()).isEmpty();
        assertThat(fx.emulator.calls().count(Portal.STORE, "catalog.product.get")).isEqualTo(productReads);

        fx.clock.advance(Duration.ofMinutes(6));
        assertThat(reader.read(second, CAUSE).getItems().get(0).getSectionPath()).containsExactly(1L, 2L);
        assertThat(fx.emulator.calls().count(Portal.STORE, "catalog.product.get")).isGreaterThan(productReads);
    }

    @Test
    void aMissingOrderIsUnreadableNamingTheOrder() {
        assertThatThrownBy(() -> fx.reader().read(424242, CAUSE))
                .isInstanceOf(OrderUnreadableException.class)
                .hasMessageContaining("order 424242 does not exist");
    }

    @Test
    void anOrderWithoutCurrencyIsUnreadableNamingTheField() {
        long id = fx.emulator.store().addOrder(Map.of("currency", "", "basketItems", java.util.List.of(
                Map.of("productId", 100, "price", "990.00", "quantity", 1))));
        assertThatThrownBy(() -> fx.reader().read(id, CAUSE))
                .isInstanceOf(OrderUnreadableException.class)
                .hasMessageContaining("order " + id).hasMessageContaining("currency");
    }

    @Test
    void instantIsFromThePortalOffsetNotLocalTime() {
        fx.clock.set(Instant.parse("2026-02-01T21:30:15Z"));
        long id = fx.emulator.store().addOrder(NewOrder.create().item(100, "Puzzle 500", "990.00", 1));
        assertThat(fx.reader().read(id, CAUSE).getDateUpdate()).isEqualTo(Instant.parse("2026-02-01T21:30:15Z"));
    }
}
