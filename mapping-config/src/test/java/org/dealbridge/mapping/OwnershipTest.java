package org.dealbridge.mapping;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import org.dealbridge.mapping.Ownership.FieldVerdict;
import org.dealbridge.mapping.Ownership.PipelineVerdict;
import org.dealbridge.schemas.LinkOrigin;
import org.dealbridge.schemas.SyncLink;
import org.junit.jupiter.api.Test;

/** Whose data is it, field by field, in the words of the ownership table (README). */
class OwnershipTest {

    private static SyncLink link(LinkOrigin origin, Map<String, String> written, Map<String, String> orderValues) {
        return SyncLink.newBuilder().setSiteId("s1").setOrderId(5).setDealId(9).setCategoryId(2).setStageId("C2:NEW")
                .setStatusId("N").setDealFields(written).setOrderValues(orderValues).setOrigin(origin)
                .setUpdatedAt(Instant.EPOCH).build();
    }

    private static final SyncLink AGREED_TITLE = link(LinkOrigin.ORDER, Map.of("TITLE", "Order #5"), Map.of("TITLE", "Order #5"));

    private static FieldVerdict title(SyncLink link, String order, String deal) {
        return Ownership.field(link, "TITLE", order, deal, Objects::equals);
    }

    @Test
    void anUnchangedOrderValueWritesNothingEvenOverAPersonsEdit() {
        assertThat(title(AGREED_TITLE, "Order #5", "Call Olga first")).isEqualTo(FieldVerdict.SOURCE_UNCHANGED);
    }

    @Test
    void aChangedOrderValueIsWrittenWhileTheDealHoldsDealBridgesValue() {
        assertThat(title(AGREED_TITLE, "Order #5-B", "Order #5")).isEqualTo(FieldVerdict.WRITE);
    }

    @Test
    void aChangedOrderValueNeverOverwritesAPersonsValue() {
        assertThat(title(AGREED_TITLE, "Order #5-B", "Call Olga first")).isEqualTo(FieldVerdict.PERSON_STANDS);
    }

    @Test
    void aDealThatAlreadyHasTheNewValueNeedsNoWrite() {
        assertThat(title(AGREED_TITLE, "Order #5-B", "Order #5-B")).isEqualTo(FieldVerdict.ALREADY_THERE);
    }

    @Test
    void aDealMadeByHandIsTheSourceOfItsFields() {
        SyncLink handMade = link(LinkOrigin.DEAL, Map.of(), Map.of());
        assertThat(title(handMade, "Order #5", "Egor's phone deal")).isEqualTo(FieldVerdict.DEAL_IS_SOURCE);
    }

    @Test
    void aFieldNeverWrittenIsFilledOnlyWhenTheDealHasNoValue() {
        SyncLink none = link(LinkOrigin.ORDER, Map.of(), Map.of());
        assertThat(Ownership.field(none, "UF_CRM_PAY", "2", "", Objects::equals)).isEqualTo(FieldVerdict.WRITE);
        assertThat(Ownership.field(none, "UF_CRM_PAY", "2", "3", Objects::equals)).isEqualTo(FieldVerdict.PERSON_STANDS);
    }

    @Test
    void aLinkFromBeforeOrderValuesTakesWhatDealBridgeWroteAsTheAgreement() {
        SyncLink old = link(LinkOrigin.ORDER, Map.of("OPPORTUNITY", "100.00"), Map.of());
        assertThat(Ownership.field(old, "OPPORTUNITY", "100.00", "150.00", Objects::equals)).isEqualTo(FieldVerdict.SOURCE_UNCHANGED);
        assertThat(Ownership.field(old, "OPPORTUNITY", "120.00", "100.00", Objects::equals)).isEqualTo(FieldVerdict.WRITE);
    }

    // ---- pipeline ----

    private static SyncLink inPipeline(long written, String basket) {
        return link(LinkOrigin.ORDER, Map.of("CATEGORY_ID", Long.toString(written), Ownership.PRODUCT_ROWS, basket),
                Map.of("CATEGORY_ID", Long.toString(written), Ownership.PRODUCT_ROWS, basket));
    }

    @Test
    void aNewMappingVersionWithoutABasketChangeMovesNoDeal() {
        assertThat(Ownership.pipeline(inPipeline(2, "books"), 0, "books", 2)).isEqualTo(PipelineVerdict.STAY);
    }

    @Test
    void aBasketChangeThatPicksAnotherPipelineMovesTheDeal() {
        assertThat(Ownership.pipeline(inPipeline(2, "books"), 0, "phones", 2)).isEqualTo(PipelineVerdict.MOVE);
    }

    @Test
    void aBasketChangeThatPicksTheSamePipelineStays() {
        assertThat(Ownership.pipeline(inPipeline(2, "books"), 2, "more books", 2)).isEqualTo(PipelineVerdict.STAY);
    }

    @Test
    void aPipelineAPersonChoseStandsEvenWhenTheBasketChanges() {
        assertThat(Ownership.pipeline(inPipeline(2, "books"), 0, "phones", 1)).isEqualTo(PipelineVerdict.PERSON_MOVED);
    }

    @Test
    void aHandMadeDealKeepsItsPipeline() {
        assertThat(Ownership.pipeline(link(LinkOrigin.DEAL, Map.of(), Map.of()), 0, "phones", 2))
                .isEqualTo(PipelineVerdict.DEAL_IS_SOURCE);
    }
}
