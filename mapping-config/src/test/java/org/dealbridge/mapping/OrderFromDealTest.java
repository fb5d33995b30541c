package org.dealbridge.mapping;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class OrderFromDealTest {

    @Test
    void theXmlIdOfAnOrderMadeFromADealNamesTheDealAndReadsBack() {
        assertThat(OrderFromDeal.xmlId(812)).isEqualTo("dealbridge-deal:812");
        assertThat(OrderFromDeal.dealId(OrderFromDeal.xmlId(812))).isEqualTo(OptionalLong.of(812));
    }

    @Test
    void otherXmlIdsNameNoDeal() {
        assertThat(OrderFromDeal.dealId(null)).isEmpty();
        assertThat(OrderFromDeal.dealId("bx_63498bf7c8d31")).isEmpty();
        assertThat(OrderFromDeal.dealId("812")).isEmpty();
        assertThat(OrderFromDeal.dealId("dealbridge-deal:")).isEmpty();
        assertThat(OrderFromDeal.dealId("dealbridge-deal:0")).isEmpty();
        assertThat(OrderFromDeal.dealId("dealbridge-deal:-3")).isEmpty();
        assertThat(OrderFromDeal.dealId("dealbridge-deal:12x")).isEmpty();
        assertThat(OrderFromDeal.dealId("dealbridge-deal:99999999999999999999")).isEmpty();
    }

    @Test
    void aDealIdThatIsNotPositiveIsRefusedWithItsValue() {
        assertThatThrownBy(() -> OrderFromDeal.xmlId(0)).hasMessageContaining("dealId").hasMessageContaining("0");
    }
}
