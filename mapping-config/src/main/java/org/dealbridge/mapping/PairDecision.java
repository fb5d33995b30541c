package org.dealbridge.mapping;

import java.time.Duration;
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
 *   <li><b>one winner</b>: when both moved (or neither did, e.g. after a mapping change), the later change wins, and
 *       "later" never compares the clocks of two systems (the CRM's, the store's and DealBridge's may each be minutes
 *       off): each side's change is aged on its own portal's clock — that portal's time now, as its latest answer
 *       reported it ({@code time.finish} of the REST envelope), minus its modification time ({@code DATE_MODIFY} of the
 *       deal, {@code dateUpdate} of the order) — and the younger change wins ({@link #laterChange}). Both ages must be
 *       taken at one moment, so only a decider that has just read both portals can tell: the store connector
 *       ({@code RECONCILE}, {@code UPDATE_STATUS}). Whoever lacks a portal's time (the CRM connector has only the
 *       order's event; the order projector only the deal's) gets "unknown", and unknown or equal ages go to the CRM:
 *       the CRM connector then writes no stage and hands the pair to the store connector, the one that decides it.
 *       Only the loser is written.</li>
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
    public static final PairDecision UNDER_MAPPING = new PairDecision(Translation::isConsistent, PairDecision::laterChange);

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

    /**
     * The deal as it is now: pipeline, stage, when it last changed ({@code DATE_MODIFY}) and the CRM's time when it was
     * read, both by the CRM's own clock (each null when unknown).
     */
    public record DealState(long pipeline, String stageId, Instant changedAt, Instant portalNow) {
        public DealState {
            Objects.requireNonNull(stageId, "stageId");
        }

        /** A deal read without the CRM's time: its change cannot be aged, so it ties. */
        public DealState(long pipeline, String stageId, Instant changedAt) {
            this(pipeline, stageId, changedAt, null);
        }

        /** How long before {@link #portalNow} the deal changed, on the CRM's clock; null when unknown. */
        public Duration changedAgo() {
            return ago(changedAt, portalNow);
        }
    }

    /**
     * The order as it is now: status, when it last changed ({@code dateUpdate}) and the store's time when it was read,
     * both by the store's own clock (each null when unknown).
     */
    public record OrderState(String statusId, Instant changedAt, Instant portalNow) {
        public OrderState {
            Objects.requireNonNull(statusId, "statusId");
        }

        /** An order read without the store's time: its change cannot be aged, so it ties. */
        public OrderState(String statusId, Instant changedAt) {
            this(statusId, changedAt, null);
        }

        /** How long before {@link #portalNow} the order changed, on the store's clock; null when unknown. */
        public Duration changedAgo() {
            return ago(changedAt, portalNow);
        }
    }

    /**
     * Which of two changes is the later one when both sides moved (or neither did). The rule in force is
     * {@link #laterChange}; a test may pass another (e.g. the old comparison of the two portals' clocks, to show that
     * skew breaks it).
     */
    @FunctionalInterface
    public interface LaterChange {
        Side of(DealState deal, OrderState order);
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
    private final LaterChange later;

    public PairDecision(Consistency consistency) {
        this(consistency, PairDecision::laterChange);
    }

    public PairDecision(Consistency consistency, LaterChange later) {
        this.consistency = Objects.requireNonNull(consistency, "consistency");
        this.later = Objects.requireNonNull(later, "later");
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
            winner = later.of(deal, order);
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

    /**
     * The later change wins, told without comparing two systems' clocks: the change made less long ago, each measured
     * on its own portal's clock ({@link DealState#changedAgo()}, {@link OrderState#changedAgo()}). A constant offset of
     * either portal's clock cancels out of its own difference. Equal or unknown ages go to the CRM.
     */
    public static Side laterChange(DealState deal, OrderState order) {
        Duration dealAgo = deal.changedAgo();
        Duration orderAgo = order.changedAgo();
        if (dealAgo != null && orderAgo != null && orderAgo.compareTo(dealAgo) < 0) {
            return Side.ORDER;
        }
        return Side.DEAL;
    }

    private static Duration ago(Instant changedAt, Instant portalNow) {
        return changedAt == null || portalNow == null ? null : Duration.between(changedAt, portalNow);
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
