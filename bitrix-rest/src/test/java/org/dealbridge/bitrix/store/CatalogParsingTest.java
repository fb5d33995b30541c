package org.dealbridge.bitrix.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** Parsing of the documented catalog and order shapes (reference §11), without HTTP. */
class CatalogParsingTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void offerParentAsDocumentedObjectOrPlainNumber() throws Exception {
        assertThat(ProductOffer.from(JSON.readTree("{\"id\":1301,\"parentId\":{\"value\":\"1275\",\"valueId\":\"9867\"}}")).parentId()).isEqualTo(1275);
        assertThat(ProductOffer.from(JSON.readTree("{\"id\":1301,\"parentId\":1275}")).parentId()).isEqualTo(1275);
    }

    @Test
    void topLevelSectionHasNoParent() throws Exception {
        assertThat(CatalogSection.from(JSON.readTree("{\"id\":13,\"iblockId\":14,\"iblockSectionId\":null,\"name\":\"Products\"}")).parentId()).isNull();
        assertThat(CatalogSection.from(JSON.readTree("{\"id\":31,\"iblockSectionId\":\"13\",\"name\":\"Toys\"}")).parentId()).isEqualTo(13L);
    }

    @Test
    void basketItemIdsAsStringsInsideOrderGet() throws Exception {
        BasketItem b = BasketItem.from(JSON.readTree("{\"id\":\"255\",\"orderId\":\"236\",\"productId\":1301,\"price\":899.1,"
                + "\"quantity\":2,\"vatRate\":null,\"measureCode\":\"796\"}"));
        assertThat(b.id()).isEqualTo(255);
        assertThat(b.orderId()).isEqualTo(236);
        assertThat(b.vatRate()).isNull();
        assertThat(b.measureCode()).isEqualTo("796");
    }

    @Test
    void orderFlagsAndSite() throws Exception {
        SaleOrder o = SaleOrder.from(JSON.readTree("{\"id\":9,\"lid\":\"s1\",\"accountNumber\":\"165\",\"statusId\":\"N\",\"price\":1176,"
                + "\"currency\":\"USD\",\"payed\":\"Y\",\"canceled\":\"N\",\"dateUpdate\":\"2024-09-01T17:19:11+03:00\",\"userId\":2}"));
        assertThat(o.siteId()).isEqualTo("s1");
        assertThat(o.payed()).isTrue();
        assertThat(o.canceled()).isFalse();
        assertThat(o.userId()).isEqualTo(2L);
        assertThat(o.version()).as("a row without version (the reference's select leaves it out)").isNull();
    }

    @Test
    void orderVersionAsNumberOrString() throws Exception {
        assertThat(SaleOrder.from(JSON.readTree("{\"id\":9,\"version\":12}")).version()).isEqualTo(12L);
        assertThat(SaleOrder.from(JSON.readTree("{\"id\":9,\"version\":\"13\"}")).version()).isEqualTo(13L);
    }
}
