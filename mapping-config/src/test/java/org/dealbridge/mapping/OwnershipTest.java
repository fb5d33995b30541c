package org.dealbridge.mapping;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
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
    void theAgreedStageReadsWhoMovedTheDeal() {
        SyncLink ourWrite = link(LinkOrigin.ORDER, Map.of(Ownership.STAGE, "C2:NEW"), Map.of());
        SyncLink followed = link(LinkOrigin.ORDER, Map.of(Ownership.STAGE, "C2:WON"), Map.of());
        // at the link's stage, moved by DealBridge or agreed on after a person's move: the link's stage is agreed
        assertThat(Ownership.agreed(ourWrite, "C2:NEW", true, false).stageId()).isEqualTo("C2:NEW");
        assertThat(Ownership.agreed(followed, "C2:NEW", false, true).stageId()).isEqualTo("C2:NEW");
        // another stage DealBridge set that the link does not show: ours, not the deal's move
        assertThat(Ownership.agreed(ourWrite, "C2:WON", true, false).stageId()).isEqualTo("C2:WON");
        // a person's move to the stage DealBridge last wrote came after that write: no stage is agreed, the deal moved
        assertThat(Ownership.agreed(ourWrite, "C2:NEW", false, true).stageId()).isNull();
        assertThat(Ownership.agreed(null, "C2:NEW", false, true)).isNull();
    }

    @Test
    void aStageDealBridgeSetThatTheLinkDoesNotShowIsAgreedWithTheStatusItStandsFor() {
        // the link says C4:WON / F (a write the CRM ignored: the deal had just left pipeline 4); the deal is at
        // C2:EXECUTING, DealBridge's move written for P (CrashLoopBenchmark seed 70843509061136, order 212)
        SyncLink stale = SyncLink.newBuilder(link(LinkOrigin.ORDER, Map.of(Ownership.STAGE, "C4:WON"), Map.of()))
                .setCategoryId(4).setStageId("C4:WON").setStatusId("F").build();
        PairDecision.Translation mapping = new PairDecision.Translation() {
            @Override
            public java.util.Optional<String> stageFor(long pipeline, String statusId) {
                return java.util.Optional.of("C" + pipeline + (statusId.equals("F") ? ":WON" : ":EXECUTING"));
            }

            @Override
            public java.util.Optional<String> statusFor(long pipeline, String stageId) {
                return java.util.Optional.of(stageId.endsWith(":WON") ? "F" : "P").filter(s -> !stageId.endsWith(":LOSE"));
            }
        };

        PairDecision.Agreed agreed = Ownership.agreed(stale, 2, "C2:EXECUTING", true, false, mapping);
        assertThat(agreed.stageId()).isEqualTo("C2:EXECUTING");
        assertThat(agreed.statusId()).as("the status the stage was written for, so the shop's F reads as the later change")
                .isEqualTo("P");
        // a stage the mapping does not map: the link's status, as without the mapping
        assertThat(Ownership.agreed(stale, 2, "C2:LOSE", true, false, mapping).statusId()).isEqualTo("F");
        assertThat(Ownership.agreed(stale, "C2:EXECUTING", true, false).statusId()).isEqualTo("F");
        // at the link's stage, or set by a person: the link's status as before
        assertThat(Ownership.agreed(stale, 4, "C4:WON", true, false, mapping).statusId()).isEqualTo("F");
        assertThat(Ownership.agreed(stale, 2, "C2:EXECUTING", false, true, mapping).statusId()).isEqualTo("F");
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
        return SyncLink.newBuilder(link(LinkOrigin.ORDER, Map.of("CATEGORY_ID", Long.toString(written)),
                Map.of("CATEGORY_ID", Long.toString(written)))).setDealRowsDigest(basket).setOrderRowsDigest(basket).build();
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
    void aMoveOfDealBridgesOwnWhoseLinkWasLostIsDealBridgesNotAPersons() {
        // the link says 2 (written and seen) with the intent, committed before the call, of a move to 1 (another
        // command's: the one being judged is not the move); the deal is in 1, moved last by DealBridge's user: that move,
        // whose link was lost
        SyncLink intendingToMoveTo1 = SyncLink.newBuilder(inPipeline(2, "books")).setMoveIntent(org.dealbridge.schemas.MoveIntent
                .newBuilder().setCommandId("u-4").setFromPipeline(2).setToPipeline(1).setCrmTime(INTENT_AT).build()).build();
        assertThat(Ownership.writtenPipeline(intendingToMoveTo1, 1, true)).isEqualTo(1);
        assertThat(Ownership.pipeline(intendingToMoveTo1, 0, "phones", 1, true)).isEqualTo(PipelineVerdict.MOVE);
        // moved last by a person (or by someone the CRM does not name): the person's
        assertThat(Ownership.writtenPipeline(intendingToMoveTo1, 1, false)).isEqualTo(2);
        assertThat(Ownership.pipeline(intendingToMoveTo1, 0, "phones", 1, false)).isEqualTo(PipelineVerdict.PERSON_MOVED);
    }

    @Test
    void aPersonsMoveIsThePersonsThoughDealBridgeWroteAStageThereWhoseLinkWasLost() {
        // OwnershipPropertyTest seed 13, history 258: no intent of a move to 1, so DealBridge did not move the deal there;
        // its user set only the stage in 1 (MOVED_BY_ID), by a write whose link was lost
        assertThat(Ownership.writtenPipeline(inPipeline(2, "books"), 1, true)).isEqualTo(2);
        assertThat(Ownership.pipeline(inPipeline(2, "books"), 0, "phones", 1, true)).isEqualTo(PipelineVerdict.PERSON_MOVED);
        assertThat(Ownership.unrecordedPipeline(inPipeline(2, "books"), "u-6", 1, Ownership.LastMove.byDealBridge(true))).isNull();
        // an intent of a move to another pipeline says nothing of this one
        assertThat(Ownership.writtenPipeline(intendingToMoveTo0(), 1, true)).isEqualTo(2);
    }

    /** The link in pipeline 2 with the intent of command {@code u-5} to move the deal to 0, decided at {@link #INTENT_AT}. */
    private static final Instant INTENT_AT = Instant.parse("2026-12-07T04:33:20.700Z");

    private static SyncLink intendingToMoveTo0() {
        return SyncLink.newBuilder(inPipeline(2, "books")).setMoveIntent(org.dealbridge.schemas.MoveIntent.newBuilder()
                .setCommandId("u-5").setFromPipeline(2).setToPipeline(0).setCrmTime(INTENT_AT).build()).build();
    }

    private static Ownership.LastMove byPerson(Instant at) {
        return new Ownership.LastMove(false, true, at);
    }

    @Test
    void aPersonsMoveBackAtOrAfterTheMoveIntentStandsAndBeforeItTheMoveIsMadeAgain() {
        SyncLink intent = intendingToMoveTo0();
        // the same second as the intent counts as after: MOVED_TIME has no more than seconds
        for (Instant at : new Instant[] {INTENT_AT.plusSeconds(30), Instant.parse("2026-12-07T04:33:20Z"), null}) {
            assertThat(Ownership.moveIntent(intent, "u-5", 2, byPerson(at))).as("moved at " + at)
                    .isEqualTo(Ownership.MoveIntentVerdict.MOVED_BACK_BY_PERSON);
            assertThat(Ownership.writtenPipeline(intent, "u-5", 2, byPerson(at))).isZero();
            assertThat(Ownership.pipeline(intent, 0, "phones", 2, "u-5", byPerson(at))).isEqualTo(PipelineVerdict.PERSON_MOVED);
            assertThat(Ownership.unrecordedPipeline(intent, "u-5", 2, byPerson(at))).as("recorded for later baskets").isZero();
            assertThat(Ownership.agreed(intent, "u-5", 2, "C2:NEW", byPerson(at)).stageId()).as("the deal moved since").isNull();
        }
        // a stage change inside pipeline 2 a second before the intent, or DealBridge's own: the move never applied
        for (Ownership.LastMove earlier : List.of(byPerson(Instant.parse("2026-12-07T04:33:19Z")), new Ownership.LastMove(true, false,
                INTENT_AT.plusSeconds(5)))) {
            assertThat(Ownership.moveIntent(intent, "u-5", 2, earlier)).isEqualTo(Ownership.MoveIntentVerdict.NOT_APPLIED);
            assertThat(Ownership.pipeline(intent, 0, "phones", 2, "u-5", earlier)).isEqualTo(PipelineVerdict.MOVE);
            assertThat(Ownership.unrecordedPipeline(intent, "u-5", 2, earlier)).isNull();
        }
    }

    @Test
    void aMoveIntentFoundAppliedIsDealBridgesWhoeverSetTheStageSince() {
        // the manager changed the stage inside pipeline 0 after DealBridge's move: MOVED_BY_ID alone would call it a person's move
        SyncLink intent = intendingToMoveTo0();
        assertThat(Ownership.moveIntent(intent, "u-5", 0, byPerson(INTENT_AT.plusSeconds(9))))
                .isEqualTo(Ownership.MoveIntentVerdict.APPLIED);
        assertThat(Ownership.writtenPipeline(intent, "u-5", 0, byPerson(INTENT_AT.plusSeconds(9)))).isZero();
        assertThat(Ownership.unrecordedPipeline(intent, "u-5", 0, byPerson(INTENT_AT.plusSeconds(9)))).isZero();
        assertThat(Ownership.writtenPipeline(inPipeline(2, "books"), "u-5", 0, byPerson(INTENT_AT.plusSeconds(9)))).isEqualTo(2);
    }

    @Test
    void anotherCommandsMoveIntentSaysNothingMoreThanItsLink() {
        SyncLink intent = intendingToMoveTo0();
        Ownership.LastMove personAfter = byPerson(INTENT_AT.plusSeconds(30));
        assertThat(Ownership.moveIntent(intent, "u-6", 2, personAfter)).isEqualTo(Ownership.MoveIntentVerdict.NONE);
        assertThat(Ownership.pipeline(intent, 0, "phones", 2, "u-6", personAfter)).isEqualTo(PipelineVerdict.MOVE);
        assertThat(Ownership.pipeline(intent, 0, "phones", 0, "u-6", personAfter)).as("in 0, moved by a person: the link says 2")
                .isEqualTo(PipelineVerdict.PERSON_MOVED);
        assertThat(Ownership.agreed(intent, "u-6", 2, "C2:NEW", personAfter).stageId()).isEqualTo("C2:NEW");
    }

    @Test
    void aPersonsMoveTheLinkHasSeenStaysThePersonsAfterDealBridgeWritesAStageThere() {
        // DealBridge saw the deal in 1 (categoryId) and wrote only its stage there since (so it is MOVED_BY_ID)
        SyncLink seenInOne = SyncLink.newBuilder(inPipeline(2, "books")).setCategoryId(1).build();
        assertThat(Ownership.writtenPipeline(seenInOne, 1, true)).isEqualTo(2);
        assertThat(Ownership.pipeline(seenInOne, 0, "phones", 1, true)).isEqualTo(PipelineVerdict.PERSON_MOVED);
    }

    @Test
    void aHandMadeDealKeepsItsPipeline() {
        assertThat(Ownership.pipeline(link(LinkOrigin.DEAL, Map.of(), Map.of()), 0, "phones", 2))
                .isEqualTo(PipelineVerdict.DEAL_IS_SOURCE);
    }

    // ---- links written by 0.1: the rows digests inside the maps ----

    /**
     * A link as DealBridge 0.1 wrote it to {@code deal-links} (its released schema, the rows digest in {@code dealFields}
     * under "@PRODUCT_ROWS"), read with today's schema as the projectors read it after an upgrade.
     */
    private static SyncLink writtenBy01(String rowsDigest) throws java.io.IOException {
        Schema released = new Schema.Parser().parse(Path.of("../schemas/src/test/resources/released/0.1.0/SyncLink.avsc").toFile());
        GenericRecord old = new GenericData.Record(released);
        old.put("siteId", "s1");
        old.put("orderId", 5L);
        old.put("dealId", 9L);
        old.put("categoryId", 2L);
        old.put("stageId", "C2:NEW");
        old.put("statusId", "N");
        old.put("dealFields", Map.of("CATEGORY_ID", "2", "@PRODUCT_ROWS", rowsDigest));
        old.put("origin", new GenericData.EnumSymbol(released.getField("origin").schema(), "ORDER"));
        old.put("updatedAt", 0L);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(bytes, null);
        new GenericDatumWriter<GenericRecord>(released).write(old, encoder);
        encoder.flush();
        return new SpecificDatumReader<SyncLink>(released, SyncLink.getClassSchema())
                .read(null, DecoderFactory.get().binaryDecoder(bytes.toByteArray(), null));
    }

    @Test
    void aLinkWrittenBy01IsReadWithItsRowsDigestFromTheMap() throws Exception {
        SyncLink old = writtenBy01("books");

        assertThat(old.getDealRowsDigest()).isNull();
        assertThat(Ownership.writtenRows(old)).isEqualTo("books");
        assertThat(Ownership.agreedRows(old)).isEqualTo("books");  // before orderValues, what DealBridge set is the agreement
        assertThat(Ownership.pipeline(old, 0, "books", 2)).isEqualTo(PipelineVerdict.STAY);
        assertThat(Ownership.pipeline(old, 0, "phones", 2)).isEqualTo(PipelineVerdict.MOVE);
        assertThat(Ownership.rows(old, "books", "a person's rows")).isEqualTo(FieldVerdict.SOURCE_UNCHANGED);
        assertThat(Ownership.rows(old, "phones", "books")).isEqualTo(FieldVerdict.WRITE);
        assertThat(Ownership.rows(old, "phones", "a person's rows")).isEqualTo(FieldVerdict.PERSON_STANDS);
    }

    @Test
    void writingOverALinkOf01MovesItsRowsDigestIntoTheNamedField() throws Exception {
        SyncLink old = writtenBy01("books");

        assertThat(Ownership.afterWriting(old, Map.of("TITLE", "Order #5"))).doesNotContainKey("@PRODUCT_ROWS")
                .containsEntry("CATEGORY_ID", "2");
        assertThat(Ownership.rowsAfterWriting(old, null)).isEqualTo("books");
        assertThat(Ownership.rowsAfterWriting(old, "phones")).isEqualTo("phones");
    }

    @Test
    void theNamedFieldsWinOverAnEntryLeftInTheMaps() {
        SyncLink both = SyncLink.newBuilder(link(LinkOrigin.ORDER, Map.of("@PRODUCT_ROWS", "books"), Map.of("@PRODUCT_ROWS", "books")))
                .setDealRowsDigest("phones").setOrderRowsDigest("phones").build();

        assertThat(Ownership.writtenRows(both)).isEqualTo("phones");
        assertThat(Ownership.agreedRows(both)).isEqualTo("phones");
    }
}
