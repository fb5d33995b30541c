package org.dealbridge.demo;

import java.math.BigDecimal;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.NewOrder;
import org.dealbridge.emulator.StageSemantics;

/**
 * The small shop the demo runs on, seeded into the emulators: a catalog section tree (books; electronics with
 * smartphones below it), products and a variation, statuses N/P/F plus a custom one nobody mapped, two pay systems,
 * two CRM pipelines with their stages, and the managers who own them.
 */
final class DemoShop {
    static final long SECTION_CATALOG = 10;
    static final long SECTION_BOOKS = 11;
    static final long SECTION_ELECTRONICS = 12;
    static final long SECTION_SMARTPHONES = 13;
    static final long PRODUCT_NOVEL = 101;
    static final long PRODUCT_PHONE = 201;
    static final long VARIATION_PHONE_BLUE = 202;
    static final long PRODUCT_CHARGER = 203;

    private DemoShop() {
    }

    static void seed(BitrixEmulator emu) {
        var crm = emu.crm();
        crm.addUser(1, "Anna Admin", true);
        crm.addUser(9, "Egor Electronics", true);
        crm.addPipeline(2, "Electronics", false);
        crm.addStage(2, "NEW", "New", StageSemantics.PROCESS);
        crm.addStage(2, "EXECUTING", "Assembling", StageSemantics.PROCESS);
        crm.addStage(2, "WON", "Delivered", StageSemantics.SUCCESS);
        crm.addStage(2, "LOSE", "Lost", StageSemantics.FAILURE);
        crm.addDealUserField("UF_CRM_PAY_SYSTEM", "string");

        var store = emu.store();
        store.addStatus("N", "Accepted");
        store.addStatus("P", "Paid, assembling");
        store.addStatus("F", "Delivered");
        store.addStatus("W", "Waiting for the supplier");
        store.addPaySystem(1, "Cash on delivery", true);
        store.addPaySystem(2, "Card online", false);
        store.addSection(SECTION_CATALOG, null, "Catalog");
        store.addSection(SECTION_BOOKS, SECTION_CATALOG, "Books");
        store.addSection(SECTION_ELECTRONICS, SECTION_CATALOG, "Electronics");
        store.addSection(SECTION_SMARTPHONES, SECTION_ELECTRONICS, "Smartphones");
        store.addProduct(PRODUCT_NOVEL, "War and Peace", SECTION_BOOKS, new BigDecimal("890.00"));
        store.addProduct(PRODUCT_PHONE, "Phone X", SECTION_SMARTPHONES, new BigDecimal("45990.00"));
        store.addVariation(VARIATION_PHONE_BLUE, PRODUCT_PHONE, "Phone X, blue, 256 GB", new BigDecimal("49990.00"));
        store.addProduct(PRODUCT_CHARGER, "USB-C charger", SECTION_ELECTRONICS, new BigDecimal("1490.00"));
    }

    static NewOrder bookOrder(String buyer, String email) {
        return NewOrder.create().status("N").item(PRODUCT_NOVEL, "War and Peace", new BigDecimal("890.00"), 2)
                .property("FIO", buyer).property("EMAIL", email).payment(1, new BigDecimal("1780.00"), false);
    }

    static NewOrder phoneOrder(String buyer, String phone) {
        return NewOrder.create().status("N")
                .item(VARIATION_PHONE_BLUE, "Phone X, blue, 256 GB", new BigDecimal("49990.00"), 1)
                .item(PRODUCT_NOVEL, "War and Peace", new BigDecimal("890.00"), 1)
                .property("FIO", buyer).property("PHONE", phone).payment(2, new BigDecimal("50880.00"), false);
    }

    static NewOrder waitingOrder(String buyer) {
        return NewOrder.create().status("W").item(PRODUCT_CHARGER, "USB-C charger", new BigDecimal("1490.00"), 1)
                .property("FIO", buyer).payment(1, new BigDecimal("1490.00"), false);
    }
}
