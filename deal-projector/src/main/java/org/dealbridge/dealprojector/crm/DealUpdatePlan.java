package org.dealbridge.dealprojector.crm;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.dealbridge.dealprojector.topology.DealFields;
import org.dealbridge.mapping.Ownership;
import org.dealbridge.mapping.PairDecision;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.LinkOrigin;
import org.dealbridge.schemas.Outcome;
import org.dealbridge.schemas.ProductRow;
import org.dealbridge.schemas.SyncLink;

/**
 * What the CRM connector writes on a linked deal once it has read it: decided field by field with {@link Ownership}
 * against the freshest link (what DealBridge last wrote and agreed), and the stage with {@link PairDecision} in the
 * pipeline the deal is really in. The decide step of {@link DealWriter} ({@link DealWrites} turns the plan into batch
 * sub-commands, {@link LinkAfterWrite} records it); a pure function, shared with the ownership property test; the store side's counterpart is {@code StatusUpdatePlan}.
 */
public final class DealUpdatePlan {

    /**
     * The deal as read.
     *
     * @param values        its managed fields as text ("" when empty), amounts in the link's form
     * @param amountManual  false when the CRM computes the amount from the rows ({@code IS_MANUAL_OPPORTUNITY = N})
     * @param rows          its product rows, or null when they were not read
     * @param movedByDealBridge its {@code MOVED_BY_ID} is DealBridge's own user: the last move was DealBridge's
     * @param movedByPerson its {@code MOVED_BY_ID} is somebody else: the last move was a person's
     * @param movedAt       its {@code MOVED_TIME} (the CRM's clock), or null when not read
     */
    public record DealState(long pipeline, String stageId, Instant modifiedAt, String modifiedText,
                            Map<String, String> values, boolean amountManual, List<ProductRow> rows, boolean movedByDealBridge,
                            boolean movedByPerson, Instant movedAt) {
        public DealState {
            Objects.requireNonNull(values, "values");
        }

        /** A deal of which who moved it last is known, not when. */
        public DealState(long pipeline, String stageId, Instant modifiedAt, String modifiedText,
                         Map<String, String> values, boolean amountManual, List<ProductRow> rows, boolean movedByDealBridge,
                         boolean movedByPerson) {
            this(pipeline, stageId, modifiedAt, modifiedText, values, amountManual, rows, movedByDealBridge, movedByPerson, null);
        }

        /** Who changed its stage last and when, as the ownership rules read it. */
        public Ownership.LastMove lastMove() {
            return new Ownership.LastMove(movedByDealBridge, movedByPerson, movedAt);
        }

        /** A deal of which only whether DealBridge moved it last is known. */
        public DealState(long pipeline, String stageId, Instant modifiedAt, String modifiedText,
                         Map<String, String> values, boolean amountManual, List<ProductRow> rows, boolean movedByDealBridge) {
            this(pipeline, stageId, modifiedAt, modifiedText, values, amountManual, rows, movedByDealBridge, false);
        }

        /** A deal whose last mover is not known: a pipeline other than the link's is a person's. */
        public DealState(long pipeline, String stageId, Instant modifiedAt, String modifiedText,
                         Map<String, String> values, boolean amountManual, List<ProductRow> rows) {
            this(pipeline, stageId, modifiedAt, modifiedText, values, amountManual, rows, false);
        }
    }

    /**
     * The writes.
     *
     * @param moveTo     the pipeline to move the deal to ({@code crm.item.update}), or null to leave it
     * @param stage      the stage to write (with the move, or by {@code crm.deal.update}), or null
     * @param fields     the other fields to write with {@code crm.deal.update}
     * @param rows       the product rows to set, or null
     * @param written    what DealBridge will have written by these writes (or found already there), for the link
     * @param writtenRows the digest of the rows DealBridge will have set (or found already there), or null
     * @param kept       the person's values that stand, each named for the outcome
     * @param notes      why the order's stage was not written, when it was not
     * @param dealWon    true when the deal's stage won a conflict and stands
     * @param statusSeen true when the command's order save is one the link has taken into account already
     *                   ({@link Ownership#orderSaveSeen}): its status is not the pair's agreement, the link's stays
     */
    public record Plan(Long moveTo, String stage, Map<String, String> fields, List<ProductRow> rows,
                       Map<String, String> written, String writtenRows, List<String> kept, List<String> notes,
                       boolean dealWon, boolean statusSeen) {

        public boolean writes() {
            return moveTo != null || stage != null || !fields.isEmpty() || rows != null;
        }

        /** The outcome once the writes are done (or found unneeded). */
        public Outcome outcome(DealCommand c) {
            if (c.getOrderDeleted()) {
                return Outcome.ORDER_DELETED;
            }
            if (writes()) {
                return Outcome.UPDATED;
            }
            if (!kept.isEmpty()) {
                return Outcome.MANAGER_VALUE_KEPT;
            }
            return dealWon ? Outcome.CONFLICT_RESOLVED : Outcome.UNCHANGED;
        }

        /**
         * Why, in one sentence for the admin.
         *
         * @param changed what the writes change ({@link DealWrites#plan})
         */
        public String reason(DealCommand c, long dealId, List<String> changed) {
            StringBuilder reason = new StringBuilder("Deal " + dealId + " of order " + c.getSiteId() + ":" + c.getOrderId());
            if (c.getOrderDeleted()) {
                return reason.append(": ").append(notes.get(0)).append('.').toString();
            }
            if (writes()) {
                reason.append(" updated: ").append(changed).append('.');
            } else if (!kept.isEmpty()) {
                reason.append(": nothing written.");
            } else {
                reason.append(" already had every value.");
            }
            if (!kept.isEmpty()) {
                reason.append(" A person's values stand: ").append(String.join(", ", kept)).append('.');
            }
            if (!notes.isEmpty()) {
                reason.append(" The order's stage was not written: ").append(String.join("; ", notes)).append('.');
            }
            return reason.toString();
        }
    }

    /** When two values of a field are the same (amounts compare as decimals). */
    @FunctionalInterface
    public interface Sameness {
        boolean same(String field, String a, String b);
    }

    private DealUpdatePlan() {
    }

    /** The order is gone: nothing of it is written; the deal goes to its pipeline's cancelled stage when one is mapped. */
    private static Plan orderDeleted(DealCommand c, DealState deal) {
        String stage = PairDecision.stageForDeletedOrder(
                pipeline -> Optional.ofNullable(c.getStageByPipeline().get(Long.toString(pipeline))), deal.pipeline(), deal.stageId())
                .orElse(null);
        List<String> notes = new ArrayList<>();
        notes.add(stage != null ? "the order was deleted in the store; the deal goes to the cancelled stage " + stage
                + " of pipeline " + deal.pipeline() : "the order was deleted in the store; the deal is left as it is");
        return new Plan(null, stage, Map.of(), null, Map.of(), null, List.of(), notes, false, false);
    }

    /**
     * The pipeline the order's basket picks: from the command's order values, which are the latest order's even when
     * commands were folded (a CREATE folded with later UPDATEs keeps the CATEGORY_ID of its own, older decision).
     */
    public static String pickedPipeline(DealCommand c) {
        String picked = c.getOrderValues().get(Ownership.PIPELINE);
        return picked != null ? picked : c.getFields().get(DealFields.CATEGORY_ID);
    }

    /** The stage a new deal gets: the order's stage in the picked pipeline. */
    public static String newDealStage(DealCommand c) {
        return c.getStageByPipeline().getOrDefault(pickedPipeline(c), c.getFields().get(DealFields.STAGE_ID));
    }

    public static Plan plan(DealCommand c, SyncLink link, DealState deal, Sameness sameness) {
        if (c.getOrderDeleted()) {
            return orderDeleted(c, deal);
        }
        long dealPipeline = deal.pipeline();
        String dealStage = deal.stageId();
        Map<String, String> write = new LinkedHashMap<>();
        Map<String, String> written = new LinkedHashMap<>();
        List<String> kept = new ArrayList<>();
        List<String> notes = new ArrayList<>();

        long pipeline = dealPipeline;
        // this command may be executed again after a crash lost the link of its move (see Ownership.moveIntent)
        Ownership.LastMove lastMove = deal.lastMove();
        Long unrecorded = link != null && Ownership.origin(link) == LinkOrigin.ORDER
                ? Ownership.unrecordedPipeline(link, c.getCommandId(), dealPipeline, lastMove) : null;
        if (unrecorded != null) {
            // DealBridge's own move whose link was lost in a crash (applied, or undone by a person since): recorded, so
            // the next basket change is judged against it
            written.put(Ownership.PIPELINE, Long.toString(unrecorded));
        }
        // where the basket points: a basket change the link has not seen yet moves the deal too (Ownership.pipeline)
        String picked = pickedPipeline(c);
        if (picked != null && Long.parseLong(picked) != dealPipeline) {
            switch (Ownership.pipeline(link, Long.parseLong(picked), Ownership.orderRows(c), dealPipeline, c.getCommandId(),
                    lastMove)) {
                case MOVE -> pipeline = Long.parseLong(picked);
                case PERSON_MOVED -> kept.add("pipeline " + dealPipeline + " (DealBridge's choice was "
                        + Ownership.writtenPipeline(link, c.getCommandId(), dealPipeline, lastMove) + ")");
                default -> { }
            }
        }
        String stage = c.getStageByPipeline().get(Long.toString(pipeline));
        if (pipeline != dealPipeline && stage == null) {
            notes.add("status " + c.getOrderStatusId() + " has no stage in pipeline " + pipeline + ", so the deal stays in pipeline "
                    + dealPipeline);
            pipeline = dealPipeline;
            stage = c.getStageByPipeline().get(Long.toString(pipeline));
        }
        String stageToWrite = null;
        boolean dealWon = false;
        boolean statusSeen = Ownership.orderSaveSeen(link, c.getOrderVersion())
                && c.getOrderStatusId() != null && !c.getOrderStatusId().equals(link.getStatusId().toString());
        if (pipeline != dealPipeline) {
            stageToWrite = stage;  // a move always lands on the order's stage of the new pipeline
            written.put(Ownership.PIPELINE, Long.toString(pipeline));
        } else if (c.getOrderStatusId() != null && stage == null) {
            if (c.getFields().containsKey(DealFields.STAGE_ID) || (link != null && link.getCategoryId() != dealPipeline)) {
                notes.add("status " + c.getOrderStatusId() + " has no stage in pipeline " + dealPipeline
                        + " (where the deal is), so its stage " + dealStage + " is left as it is");
            }
        } else if (statusSeen) {
            // the link has seen a later save of the order: the command's status is older than the pair's agreement
            notes.add("the order's status " + c.getOrderStatusId() + " is of its save " + c.getOrderVersion()
                    + ", older than what the pair last agreed on (status " + link.getStatusId() + " as of save "
                    + link.getOrderVersion() + ")");
        } else if (c.getOrderStatusId() != null && dealStage != null) {
            PairDecision.Agreed agreed = Ownership.agreed(link, c.getCommandId(), dealPipeline, dealStage, lastMove);
            // without the store's time now the order's change cannot be aged (its dateUpdate is by the store's clock,
            // DATE_MODIFY by the CRM's: never compared), so when both sides moved the deal stands here and the store
            // connector, which reads both portals at one moment, decides (RECONCILE)
            PairDecision.Verdict verdict = PairDecision.UNDER_MAPPING.decide(new CommandedStage(pipeline, c.getOrderStatusId(), stage),
                    new PairDecision.DealState(pipeline, dealStage, deal.modifiedAt()),
                    new PairDecision.OrderState(c.getOrderStatusId(), c.getSourceTime()), agreed);
            if (verdict.writes(PairDecision.Side.DEAL)) {
                stageToWrite = verdict.value();
            } else if (verdict.winner() == PairDecision.Side.DEAL) {
                dealWon = true;
                notes.add(verdict.conflict()
                        ? "the deal's stage " + dealStage + " (changed " + deal.modifiedText() + ") stands for now: it and the order's "
                        + "status " + c.getOrderStatusId() + " both changed since they last agreed, and the store connector, reading "
                        + "both sides, brings the earlier change to the later one"
                        : "the deal's stage " + dealStage + " (changed " + deal.modifiedText()
                        + ") is the later change and stands; the order projector brings the order to it");
            }
        }

        if (stageToWrite != null) {
            written.put(Ownership.STAGE, stageToWrite);
        }
        for (Map.Entry<String, String> entry : c.getFields().entrySet()) {
            String field = entry.getKey();
            if (!c.getOrderValues().containsKey(field) || field.equals(Ownership.PIPELINE)) {
                continue;  // not one of the order's values (CATEGORY_ID, STAGE_ID and a new deal's own fields)
            }
            String dealValue = deal.values().getOrDefault(field, "");
            if (field.equals(DealFields.OPPORTUNITY) && !deal.amountManual()) {
                kept.add("OPPORTUNITY (the CRM computes it from the product rows: IS_MANUAL_OPPORTUNITY = N)");
                continue;
            }
            String value = c.getOrderValues().get(field);  // the order's latest, also when commands were folded
            switch (Ownership.field(link, field, value, dealValue, (a, b) -> sameness.same(field, a, b))) {
                case WRITE -> {
                    write.put(field, value);
                    written.put(field, value);
                }
                case ALREADY_THERE -> written.put(field, value);
                case PERSON_STANDS -> kept.add(field + " = \"" + dealValue + "\"");
                default -> { }
            }
        }
        List<ProductRow> rows = null;
        String writtenRows = null;
        if (c.getProductRows() != null && Ownership.origin(link) == LinkOrigin.ORDER) {
            String orderRows = DealFields.productRowsDigest(c.getProductRows());
            List<ProductRow> current = deal.rows();
            if (c.getProductRows().isEmpty() && current != null && !current.isEmpty()) {
                kept.add("the deal's " + current.size() + " product row(s): non-empty rows are never replaced by none");
            } else {
                String dealRows = current == null ? "" : DealFields.productRowsDigest(current);
                switch (Ownership.rows(link, orderRows, dealRows)) {
                    case WRITE -> {
                        rows = c.getProductRows();
                        writtenRows = orderRows;
                    }
                    case ALREADY_THERE -> writtenRows = orderRows;
                    case PERSON_STANDS -> kept.add("product rows (a person changed them)");
                    default -> { }
                }
            }
        }
        return new Plan(pipeline != dealPipeline ? pipeline : null, stageToWrite, write, rows, written, writtenRows, kept, notes,
                dealWon, statusSeen && pipeline == dealPipeline);
    }
}
