package org.dealbridge.mapping;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * The convergence rules of one order-deal pair, as a pure function of the mapping, the current state of both sides
 * and the last state they were seen consistent in (the link). Both directions must decide with this same code, so
 * a pair can never be pulled two ways: the order projector (deal → order) and the deal projector's CRM connector
 * (order → deal) both call it.
 *
 * <ol>
 *   <li><b>consistency, not equality</b>: when the order's status maps to the deal's current stage in the deal's
 *       pipeline ({@link CompiledMapping#isConsistent}), nothing is written, even if the stage's first-listed status is
 *       another one. This is also how an echo of our own write is recognised: it is consistent.</li>
 *   <li><b>who moved</b>: a side moved when its value differs from the link's; when only one side moved, it wins.</li>
 *   <li><b>one winner</b>: when both moved (or neither did, e.g. after a mapping change), the side whose change is
 *       later by its own portal's modification time wins ({@code DATE_MODIFY} of the deal, {@code dateUpdate} of the
 *       order); equal or unknown times go to the CRM. Only the loser is written.</li>
 *   <li><b>no blind overwrite</b>: every write carries the loser's value it was decided against
 *       ({@link Verdict#expected()}); the executor drops the write when the target no longer has it and decides again
 *       with the fresh state.</li>
 *   <li>a winner whose value the mapping does not translate (an unmapped stage or status) writes nothing.</li>
 *   <li><b>a deleted order</b> leaves nothing to agree with: its deal goes to the cancelled stage the mapping names for
 *       the deal's pipeline ({@link #stageForDeletedOrder}), or is left as it is.</li>
 * </ol>
 */
public final class PairDecision {

    /**
     * The part of a mapping a pair decision reads. {@link CompiledMapping} is the whole of it; the deal projector's
     * connector, which has no mapping, uses the part its command carries (the stage the order's status maps to).
     */
    public interface Translation {
        /** The stage for an order status in a pipeline; empty when not mapped (or not known). */
        Optional<String> stageFor(long pipeline, String statusId);

        /** The status for a deal stage in a pipeline; empty when not mapped (or not known). */
        Optional<String> statusFor(long pipeline, String stageId);

        /** True when the status maps to this stage in this pipeline. */
        default boolean isConsistent(long pipeline, String stageId, String statusId) {
            return stageId != null && stageFor(pipeline, statusId).map(stageId::equals).orElse(false);
        }
    }

    /** When a deal stage and an order status are consistent. */
    @FunctionalInterface
    public interface Consistency {
        boolean test(Translation mapping, long pipeline, String stageId, String statusId);
    }

    /** The rule of the issue: the order's status maps to the deal's stage (any of the stage's statuses). */
    public static final PairDecision UNDER_MAPPING = new PairDecision(Translation::isConsistent);

    /** The side of a pair. */
    public enum Side { DEAL, ORDER }

    /** What to do with a pair. */
    public enum Action {
        /** Both sides agree: write nothing. */
        NONE,
        /** Write {@link Verdict#target()} to {@link Verdict#value()}, expecting it to hold {@link Verdict#expected()}. */
        WRITE,
        /** The winner's value has no counterpart under the mapping: write nothing. */
        UNMAPPED
    }

    /** The deal as it is now: pipeline, stage and when it last changed (null when unknown). */
    public record DealState(long pipeline, String stageId, Instant changedAt) {
        public DealState {
            Objects.requireNonNull(stageId, "stageId");
        }
    }

    /** The order as it is now: status and when it last changed (null when unknown). */
    public record OrderState(String statusId, Instant changedAt) {
        public OrderState {
            Objects.requireNonNull(statusId, "statusId");
        }
    }

    /** The last state both sides were seen consistent in (the link's stage and status). */
    public record Agreed(String stageId, String statusId) {
    }

    /**
     * The decision.
     *
     * @param winner   the side whose value stands (null when consistent)
     * @param target   the side to write (the loser), for WRITE and UNMAPPED
     * @param value    the stage or status to write, for WRITE
     * @param expected the value the target must still hold for the write to go ahead
     * @param conflict true when both sides had moved since they last agreed
     */
    public record Verdict(Action action, Side winner, Side target, String value, String expected, boolean conflict) {

        public boolean writes(Side side) {
            return action == Action.WRITE && target == side;
        }
    }

    private final Consistency consistency;

    public PairDecision(Consistency consistency) {
        this.consistency = Objects.requireNonNull(consistency, "consistency");
    }

    /**
     * @param agreed the link's last consistent state, or null when the pair has none yet
     */
    public Verdict decide(Translation mapping, DealState deal, OrderState order, Agreed agreed) {
        if (consistency.test(mapping, deal.pipeline(), deal.stageId(), order.statusId())) {
            return new Verdict(Action.NONE, null, null, null, null, false);
        }
        boolean dealMoved = agreed == null || !deal.stageId().equals(agreed.stageId());
        boolean orderMoved = agreed == null || !order.statusId().equals(agreed.statusId());
        boolean conflict = dealMoved == orderMoved;
        Side winner;
        if (dealMoved != orderMoved) {
            winner = dealMoved ? Side.DEAL : Side.ORDER;
        } else {
            winner = laterChange(deal.changedAt(), order.changedAt());
        }
        if (winner == Side.DEAL) {
            Optional<String> status = mapping.statusFor(deal.pipeline(), deal.stageId());
            return status
                    .map(s -> new Verdict(Action.WRITE, Side.DEAL, Side.ORDER, s, order.statusId(), conflict))
                    .orElseGet(() -> new Verdict(Action.UNMAPPED, Side.DEAL, Side.ORDER, null, order.statusId(), conflict));
        }
        Optional<String> stage = mapping.stageFor(deal.pipeline(), order.statusId());
        return stage
                .map(s -> new Verdict(Action.WRITE, Side.ORDER, Side.DEAL, s, deal.stageId(), conflict))
                .orElseGet(() -> new Verdict(Action.UNMAPPED, Side.ORDER, Side.DEAL, null, deal.stageId(), conflict));
    }

    /** The later change wins; equal or unknown times go to the CRM, so both directions pick the same side. */
    public static Side laterChange(Instant dealChangedAt, Instant orderChangedAt) {
        if (dealChangedAt != null && orderChangedAt != null && orderChangedAt.isAfter(dealChangedAt)) {
            return Side.ORDER;
        }
        return Side.DEAL;
    }

    /**
     * Where the deal of an order deleted in the store goes: the cancelled stage the mapping names for the pipeline the
     * deal is in ({@code cancelled}, {@link CompiledMapping#cancelledStage}), unless it is there already. Empty: the
     * deal is left as it is. Both connectors learn of deletions (the CRM connector from the order's event, the store
     * connector when it finds the order gone), and both move the deal by this rule.
     *
     * @param cancelledStage the mapped cancelled stage of a pipeline
     */
    public static Optional<String> stageForDeletedOrder(java.util.function.LongFunction<Optional<String>> cancelledStage,
                                                        long dealPipeline, String dealStage) {
        return cancelledStage.apply(dealPipeline).filter(stage -> !stage.equals(dealStage));
    }
}
