package org.dealbridge.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class StoreTest {
    private final ManualClock clock = new ManualClock(Instant.parse("2024-09-01T14:19:11Z"));
    private BitrixEmulator emu;

    @BeforeEach
    void start() {
        emu = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled().clock(clock));
        Store store = emu.store();
        store.addSection(13, null, "Products");
        store.addSection(31, 13L, "Children's Toys");
        store.addProduct(1275, "Robot", 31L, "100.00");
        store.addVariation(1301, 1275, "Robot, red", "120.50");
        store.addPaySystem(6, "Cash", true);
        store.addPaySystem(48, "Card Payment", false);
        store.addStatus("P", "Paid");
    }

    @AfterEach
    void stop() {
        emu.close();
    }

    private long seedOrder(String xmlId) {
        return emu.store().addOrder(NewOrder.create().status("N").currency("RUB").userId(2).xmlId(xmlId)
                .item(1301, "Robot, red", "120.50", 2).item(1275, "Robot", "100", 1)
                .payment(48, new BigDecimal("341.00"), false)
                .property("FIO", "Anna Smirnova").property("EMAIL", "anna@example.com").property("PHONE", "14151234567"));
    }

    @Test
    void orderGetHasTheWrapperCamelCaseAndNestedCollections() {
        long id = seedOrder("shop-1");
        Rest.Answer a = Rest.store(emu, "sale.order.get", Map.of("id", id));
        assertThat(a.status()).isEqualTo(200);
        JsonNode order = a.result().get("order");
        assertThat(order.get("id").isNumber()).isTrue();
        assertThat(order.get("accountNumber").isTextual()).isTrue();
        assertThat(order.get("accountNumber").asText()).isNotEqualTo(Long.toString(id));
        assertThat(order.get("statusId").asText()).isEqualTo("N");
        assertThat(order.get("price").decimalValue()).isEqualByComparingTo("341");
        assertThat(order.get("payed").asText()).isEqualTo("N");
        assertThat(order.get("xmlId").asText()).isEqualTo("shop-1");
        assertThat(order.get("dateUpdate").asText()).isEqualTo("2024-09-01T17:19:11+03:00");
        JsonNode item = order.get("basketItems").get(0);
        assertThat(item.get("id").isTextual()).as("basket ids are strings inside sale.order.get").isTrue();
        assertThat(item.get("orderId").asText()).isEqualTo(Long.toString(id));
        assertThat(item.get("productId").asLong()).isEqualTo(1301);
        assertThat(order.get("payments").get(0).get("paySystemId").asLong()).isEqualTo(48);
        assertThat(order.get("propertyValues").size()).isEqualTo(3);
    }

    @Test
    void orderListFiltersByDateUpdateAndXmlIdWithSelectOrderAndPaging() {
        for (int i = 0; i < 55; i++) {
            seedOrder("shop-" + i);
            clock.advance(Duration.ofSeconds(10));
        }
        Rest.Answer page = Rest.store(emu, "sale.order.list", Map.of("select", List.of("id", "statusId", "dateUpdate"),
                "order", Map.of("id", "asc")));
        assertThat(page.result().get("orders").size()).isEqualTo(50);
        assertThat(page.body().get("total").asInt()).isEqualTo(55);
        assertThat(page.body().get("next").asInt()).isEqualTo(50);
        assertThat(page.result().get("orders").get(0).size()).isEqualTo(3);
        Rest.Answer rest = Rest.store(emu, "sale.order.list", Map.of("start", 50));
        assertThat(rest.result().get("orders").size()).isEqualTo(5);
        assertThat(rest.body().has("next")).isFalse();

        // orders were saved at 17:19:11+03:00 plus 10 s steps; orders 52..54 were saved after 17:27:41
        Rest.Answer since = Rest.store(emu, "sale.order.list", Map.of("filter", Map.of(">dateUpdate", "2024-09-01T17:27:41+03:00"),
                "order", Map.of("dateUpdate", "asc", "id", "asc")));
        assertThat(since.body().get("total").asInt()).isEqualTo(3);
        Rest.Answer sameMoment = Rest.store(emu, "sale.order.list", Map.of("filter", Map.of("=dateUpdate", "2024-09-01T14:19:21Z")));
        assertThat(sameMoment.body().get("total").asInt()).isEqualTo(1); // order 1, saved at 17:19:21+03:00
        Rest.Answer byXml = Rest.store(emu, "sale.order.list", Map.of("filter", Map.of("xmlId", "shop-7")));
        assertThat(byXml.result().get("orders").get(0).get("xmlId").asText()).isEqualTo("shop-7");
        Rest.Answer fast = Rest.store(emu, "sale.order.list", Map.of("start", -1));
        assertThat(fast.body().has("total")).isFalse();
        Rest.Answer unknown = Rest.store(emu, "sale.order.list", Map.of("filter", Map.of("STATUS_ID", "N")));
        assertThat(unknown.status()).isEqualTo(400); // D7 names are exact camelCase
    }

    @Test
    void updateSetsDateUpdateToTheSaveTimeIncrementsVersionAndRejectsUnknownStatus() {
        long id = seedOrder("shop-u");
        JsonNode before = Rest.store(emu, "sale.order.get", Map.of("id", id)).result().get("order");
        Rest.Answer updated = Rest.store(emu, "sale.order.update", Map.of("id", id, "fields", Map.of("statusId", "P")));
        assertThat(updated.status()).as(updated.raw()).isEqualTo(200);
        JsonNode after = updated.result().get("order");
        assertThat(after.get("statusId").asText()).isEqualTo("P");
        assertThat(after.get("version").asInt()).isGreaterThan(before.get("version").asInt());
        // same clock second: dateUpdate (second precision) stays, as on a real store; only version tells the saves apart
        assertThat(after.get("dateUpdate").asText()).isEqualTo(before.get("dateUpdate").asText());
        clock.advance(java.time.Duration.ofSeconds(3));
        JsonNode later = Rest.store(emu, "sale.order.update", Map.of("id", id, "fields", Map.of("statusId", "N"))).result().get("order");
        assertThat(later.get("dateUpdate").asText()).as("the save's time").isEqualTo("2024-09-01T17:19:14+03:00");
        assertThat(later.get("version").asInt()).isEqualTo(after.get("version").asInt() + 1);
        Rest.Answer bad = Rest.store(emu, "sale.order.update", Map.of("id", id, "fields", Map.of("statusId", "ZZ")));
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.body().get("error").isNumber()).isTrue();
        Rest.Answer missing = Rest.store(emu, "sale.order.update", Map.of("id", 999, "fields", Map.of("statusId", "P")));
        assertThat(missing.body().get("error").asLong()).isEqualTo(200540400001L);
    }

    // reference: UNVERIFIED — whether payed is recomputed at once when a payment is marked paid over REST
    @Test
    void paymentsMarkTheOrderPaidWhenCovered() {
        long id = seedOrder("shop-p");
        JsonNode payments = Rest.store(emu, "sale.payment.list", Map.of("filter", Map.of("orderId", id))).result().get("payments");
        long paymentId = payments.get(0).get("id").asLong();
        Rest.Answer paid = Rest.store(emu, "sale.payment.update", Map.of("id", paymentId, "fields", Map.of("paid", "Y")));
        assertThat(paid.result().get("payment").get("paid").asText()).isEqualTo("Y");
        assertThat(paid.result().get("payment").get("datePaid").isNull()).isFalse();
        assertThat(emu.store().order(id).get("payed")).isEqualTo("Y");
        Rest.Answer added = Rest.store(emu, "sale.payment.add", Map.of("fields", Map.of("orderId", id, "paySystemId", 6, "sum", 10)));
        assertThat(added.result().get("payment").get("paySystemName").asText()).isEqualTo("Cash");
        assertThat(Rest.store(emu, "sale.payment.update", Map.of("id", 4242, "fields", Map.of("paid", "Y"))).body().get("error").asLong())
                .isEqualTo(200640400001L);
    }

    @Test
    void basketPropertiesStatusesAndPaySystems() {
        long id = seedOrder("shop-b");
        JsonNode items = Rest.store(emu, "sale.basketitem.list", Map.of("filter", Map.of("@orderId", List.of(id)))).result().get("basketItems");
        assertThat(items.size()).isEqualTo(2);
        assertThat(items.get(0).get("id").isNumber()).isTrue();
        JsonNode props = Rest.store(emu, "sale.propertyvalue.list", Map.of("filter", Map.of("orderId", id, "=code", "PHONE"))).result().get("propertyValues");
        assertThat(props.size()).isEqualTo(1);
        assertThat(props.get(0).get("value").asText()).isEqualTo("14151234567");
        JsonNode defs = Rest.store(emu, "sale.property.list", Map.of()).result().get("properties");
        List<String> phoneFlags = new ArrayList<>();
        defs.forEach(d -> phoneFlags.add(d.get("code").asText() + "=" + d.get("isPhone").asText()));
        assertThat(phoneFlags).contains("PHONE=Y", "EMAIL=N");

        JsonNode statuses = Rest.store(emu, "sale.status.list", Map.of("filter", Map.of("type", "O"))).result().get("statuses");
        List<String> ids = new ArrayList<>();
        statuses.forEach(s -> ids.add(s.get("id").asText()));
        assertThat(ids).contains("N", "P", "F").doesNotContain("DN");
        assertThat(statuses.get(0).has("name")).isFalse(); // names come from sale.statuslang.list
        JsonNode langs = Rest.store(emu, "sale.statuslang.list", Map.of("filter", Map.of("statusId", "P"))).result().get("statusLangs");
        assertThat(langs.get(0).get("name").asText()).isEqualTo("Paid");

        Rest.Answer ps = Rest.store(emu, "sale.paysystem.list", Map.of("FILTER", Map.of("IS_CASH", "Y"), "SELECT", List.of("ID", "NAME")));
        assertThat(ps.result().isArray()).isTrue(); // flat, no wrapper
        assertThat(ps.result().size()).isEqualTo(1);
        assertThat(ps.result().get(0).get("NAME").asText()).isEqualTo("Cash");
        assertThat(ps.result().get(0).size()).isEqualTo(2);
    }

    @Test
    void catalogResolvesVariationToParentAndSectionChain() {
        JsonNode offer = Rest.store(emu, "catalog.product.offer.get", Map.of("id", 1301)).result().get("offer");
        assertThat(offer.get("iblockSectionId").isNull()).isTrue();
        assertThat(offer.get("type").asInt()).isEqualTo(4);
        String parent = offer.get("parentId").get("value").asText();
        assertThat(parent).isEqualTo("1275");
        JsonNode product = Rest.store(emu, "catalog.product.get", Map.of("id", parent)).result().get("product");
        assertThat(product.get("type").asInt()).isEqualTo(3);
        long section = product.get("iblockSectionId").asLong();
        JsonNode child = Rest.store(emu, "catalog.section.get", Map.of("id", section)).result().get("section");
        assertThat(child.get("name").asText()).isEqualTo("Children's Toys");
        JsonNode root = Rest.store(emu, "catalog.section.get", Map.of("id", child.get("iblockSectionId").asLong())).result().get("section");
        assertThat(root.get("iblockSectionId").isNull()).isTrue();

        JsonNode sections = Rest.store(emu, "catalog.section.list", Map.of("filter", Map.of("iblockId", Store.CATALOG_IBLOCK_ID),
                "select", List.of("id", "iblockSectionId", "name"), "order", Map.of("id", "asc"))).result().get("sections");
        assertThat(sections.size()).isEqualTo(2);
        assertThat(Rest.store(emu, "catalog.section.list", Map.of()).status()).isEqualTo(400);
        JsonNode catalogs = Rest.store(emu, "catalog.catalog.list", Map.of()).result().get("catalogs");
        assertThat(catalogs.get(0).get("iblockId").asLong()).isEqualTo(Store.CATALOG_IBLOCK_ID);
        assertThat(catalogs.get(1).get("productIblockId").asLong()).isEqualTo(Store.CATALOG_IBLOCK_ID);
        assertThat(Rest.store(emu, "catalog.section.list", Map.of("filter", Map.of("iblockId", Store.OFFERS_IBLOCK_ID)))
                .result().get("sections").size()).isZero();

        Rest.Answer missing = Rest.store(emu, "catalog.product.get", Map.of("id", 5555));
        assertThat(missing.body().get("error").isNumber()).isTrue();
        assertThat(missing.body().get("error").asLong()).isZero();
        assertThat(Rest.store(emu, "catalog.product.offer.get", Map.of("id", 1275)).status()).isEqualTo(400);
    }

    @Test
    void saleOrderAddRequiresSiteTypeAndCurrency() {
        Rest.Answer noFields = Rest.store(emu, "sale.order.add", Map.of());
        assertThat(noFields.body().get("error").asLong()).isEqualTo(100);
        Rest.Answer noCurrency = Rest.store(emu, "sale.order.add", Map.of("fields", Map.of("lid", "s1", "personTypeId", 1)));
        assertThat(noCurrency.status()).isEqualTo(400);
        Rest.Answer ok = Rest.store(emu, "sale.order.add", Map.of("fields", Map.of("lid", "s1", "personTypeId", 1, "currency", "RUB")));
        assertThat(ok.result().get("order").get("id").asLong()).isPositive();
    }

    @Test
    void propertyValueModifyReplacesTheWholeSet() {
        long id = seedOrder("shop-m");
        JsonNode defs = Rest.store(emu, "sale.property.list", Map.of("filter", Map.of("code", "EMAIL"))).result().get("properties");
        long emailProp = defs.get(0).get("id").asLong();
        Rest.Answer a = Rest.store(emu, "sale.propertyvalue.modify", Map.of("fields", Map.of("order",
                Map.of("id", id, "propertyValues", List.of(Map.of("orderPropsId", emailProp, "value", "new@example.com"))))));
        assertThat(a.status()).as(a.raw()).isEqualTo(200);
        JsonNode left = Rest.store(emu, "sale.propertyvalue.list", Map.of("filter", Map.of("orderId", id))).result().get("propertyValues");
        assertThat(left.size()).isEqualTo(1); // FIO and PHONE were not passed, so they are gone
        assertThat(left.get(0).get("value").asText()).isEqualTo("new@example.com");
    }

    private long emptyOrder() {
        return Rest.store(emu, "sale.order.add", Map.of("fields", Map.of("lid", "s1", "personTypeId", 1, "currency", "RUB")))
                .result().get("order").get("id").asLong();
    }

    private static Map<String, Object> item(Object... keyValues) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put((String) keyValues[i], keyValues[i + 1]);
        }
        return Map.of("fields", m);
    }

    @Test
    void basketItemAddTakesCatalogOrCustomPricesAndTheOrderTotalFollowsTheBasket() {
        long id = emptyOrder();
        int versionBefore = Rest.store(emu, "sale.order.get", Map.of("id", id)).result().get("order").get("version").asInt();

        // a catalog product without customPrice: its catalog price (100.00)
        Rest.Answer catalog = Rest.store(emu, "sale.basketitem.add", item("orderId", id, "productId", 1275, "quantity", 2, "currency", "RUB"));
        assertThat(catalog.status()).as(catalog.raw()).isEqualTo(200);
        JsonNode line = catalog.result().get("basketItem");
        assertThat(line.get("id").isNumber()).as("numeric id in the basketItem wrapper").isTrue();
        assertThat(line.get("orderId").asLong()).isEqualTo(id);
        assertThat(line.get("productId").asLong()).isEqualTo(1275);
        assertThat(line.get("name").asText()).isEqualTo("Robot");
        assertThat(line.get("price").decimalValue()).isEqualByComparingTo("100");
        assertThat(line.get("customPrice").asText()).isEqualTo("N");
        JsonNode afterOne = Rest.store(emu, "sale.order.get", Map.of("id", id)).result().get("order");
        assertThat(afterOne.get("price").decimalValue()).isEqualByComparingTo("200");
        assertThat(afterOne.get("version").asInt()).as("the add saves the order").isGreaterThan(versionBefore);

        // a variation with a custom price and a discount: basePrice = price + discountPrice
        Rest.Answer custom = Rest.store(emu, "sale.basketitem.add", item("orderId", id, "productId", 1301, "quantity", "1",
                "currency", "RUB", "customPrice", "Y", "price", "99.50", "basePrice", "120.50", "discountPrice", "21"));
        assertThat(custom.status()).as(custom.raw()).isEqualTo(200);
        assertThat(custom.result().get("basketItem").get("customPrice").asText()).isEqualTo("Y");
        assertThat(custom.result().get("basketItem").get("basePrice").decimalValue()).isEqualByComparingTo("120.50");

        // a non-catalog item: productId 0, its own name and price
        Rest.Answer free = Rest.store(emu, "sale.basketitem.add", item("orderId", id, "productId", 0, "quantity", 3,
                "currency", "RUB", "name", "Gift wrapping", "customPrice", "Y", "price", "10"));
        assertThat(free.status()).as(free.raw()).isEqualTo(200);
        assertThat(free.result().get("basketItem").get("productId").asLong()).isZero();
        assertThat(free.result().get("basketItem").get("name").asText()).isEqualTo("Gift wrapping");

        JsonNode order = Rest.store(emu, "sale.order.get", Map.of("id", id)).result().get("order");
        assertThat(order.get("basketItems").size()).isEqualTo(3);
        assertThat(order.get("price").decimalValue()).as("2 x 100 + 99.50 + 3 x 10").isEqualByComparingTo("329.50");
        JsonNode listed = Rest.store(emu, "sale.basketitem.list", Map.of("filter", Map.of("orderId", id))).result().get("basketItems");
        assertThat(listed.size()).isEqualTo(3);
    }

    @Test
    void basketItemAddRejectsBadInputNamingTheFieldAndChangesNothing() {
        long id = emptyOrder();
        Rest.Answer noFields = Rest.store(emu, "sale.basketitem.add", Map.of());
        assertThat(noFields.body().get("error").asLong()).isEqualTo(100);
        Rest.Answer noOrder = Rest.store(emu, "sale.basketitem.add", item("productId", 1275, "quantity", 1, "currency", "RUB"));
        assertThat(noOrder.status()).isEqualTo(400);
        assertThat(noOrder.body().get("error").isNumber()).isTrue();
        assertThat(noOrder.body().get("error_description").asText()).contains("orderId");
        Rest.Answer unknownOrder = Rest.store(emu, "sale.basketitem.add", item("orderId", 999, "productId", 1275, "quantity", 1, "currency", "RUB"));
        assertThat(unknownOrder.body().get("error").asLong()).isEqualTo(200540400001L);
        Rest.Answer unknownProduct = Rest.store(emu, "sale.basketitem.add", item("orderId", id, "productId", 5555, "quantity", 1, "currency", "RUB"));
        assertThat(unknownProduct.status()).isEqualTo(400);
        assertThat(unknownProduct.body().get("error_description").asText()).contains("5555", "does not exist");
        Rest.Answer noQuantity = Rest.store(emu, "sale.basketitem.add", item("orderId", id, "productId", 1275, "currency", "RUB"));
        assertThat(noQuantity.body().get("error_description").asText()).contains("quantity");
        Rest.Answer zeroQuantity = Rest.store(emu, "sale.basketitem.add", item("orderId", id, "productId", 1275, "quantity", 0, "currency", "RUB"));
        assertThat(zeroQuantity.body().get("error_description").asText()).contains("quantity", "'0'");
        Rest.Answer noCurrency = Rest.store(emu, "sale.basketitem.add", item("orderId", id, "productId", 1275, "quantity", 1));
        assertThat(noCurrency.body().get("error_description").asText()).contains("currency");
        Rest.Answer otherCurrency = Rest.store(emu, "sale.basketitem.add", item("orderId", id, "productId", 1275, "quantity", 1, "currency", "USD"));
        assertThat(otherCurrency.body().get("error_description").asText()).contains("currency", "USD");
        Rest.Answer customWithoutPrice = Rest.store(emu, "sale.basketitem.add", item("orderId", id, "productId", 1275, "quantity", 1,
                "currency", "RUB", "customPrice", "Y"));
        assertThat(customWithoutPrice.body().get("error_description").asText()).contains("price");
        Rest.Answer freeWithoutName = Rest.store(emu, "sale.basketitem.add", item("orderId", id, "quantity", 1, "currency", "RUB",
                "customPrice", "Y", "price", "5"));
        assertThat(freeWithoutName.body().get("error_description").asText()).contains("name");
        Rest.Answer inconsistent = Rest.store(emu, "sale.basketitem.add", item("orderId", id, "productId", 1275, "quantity", 1,
                "currency", "RUB", "customPrice", "Y", "price", "90", "basePrice", "100", "discountPrice", "5"));
        assertThat(inconsistent.body().get("error_description").asText()).contains("basePrice", "discountPrice");
        Rest.Answer badPrice = Rest.store(emu, "sale.basketitem.add", item("orderId", id, "productId", 1275, "quantity", 1,
                "currency", "RUB", "customPrice", "Y", "price", "cheap"));
        assertThat(badPrice.body().get("error_description").asText()).contains("price", "'cheap'");

        JsonNode order = Rest.store(emu, "sale.order.get", Map.of("id", id)).result().get("order");
        assertThat(order.get("basketItems").size()).isZero();
        assertThat(order.get("version").asInt()).as("no rejected add saved the order").isEqualTo(1);
    }
}
