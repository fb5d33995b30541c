package org.dealbridge.orderprojector.store;

import org.dealbridge.mapping.CompiledMapping;
import org.dealbridge.mapping.PairDecision;
import org.dealbridge.schemas.Outcome;

/**
 * What the store connector does with an {@code UPDATE_STATUS} once it has read both sides fresh: the pair is decided
 * again with {@link PairDecision} on the fresh state, so a command decided on a stale view (the order changed since,
 * or the deal moved on) never overwrites blindly. Whichever side loses on the fresh state is written — the deal too,
 * when the order's later change wins: leaving that to the other direction can deadlock, because its projector compares
 * the order with the link's (stale) stage and may find nothing to do (the long property run found exactly that).
 * A pure function, shared by the connector and the property test.
 */
public final class StatusUpdatePlan {

    /**
     * The result: write {@code target} to {@code value}, replacing {@code expected}, when {@link #writes()}.
     */
    public record Plan(Outcome outcome, PairDecision.Side target, String value, String expected, boolean conflict, boolean stale,
                       String reason) {
        public boolean writes() {
            return value != null;
        }

        public boolean writesOrder() {
            return writes() && target == PairDecision.Side.ORDER;
        }

        public boolean writesDeal() {
            return writes() && target == PairDecision.Side.DEAL;
        }
    }

    private StatusUpdatePlan() {
    }

    /**
     * @param commandExpected the order status the command was decided against (null when not checked)
     */
    public static Plan plan(PairDecision rules, CompiledMapping mapping, PairDecision.DealState deal,
                            PairDecision.OrderState order, PairDecision.Agreed agreed, String commandExpected) {
        boolean stale = commandExpected != null && !commandExpected.equals(order.statusId());
        PairDecision.Verdict verdict = rules.decide(mapping, deal, order, agreed);
        String pair = "deal at stage " + deal.stageId() + " of pipeline " + deal.pipeline() + ", order at status " + order.statusId();
        String staleNote = stale ? " (the command expected status " + commandExpected + ", so it was decided again)" : "";
        switch (verdict.action()) {
            case NONE:
                return new Plan(Outcome.ECHO_SUPPRESSED, null, null, null, false, stale,
                        "Consistent under mapping version " + mapping.version() + ": " + pair + staleNote + "; nothing to write.");
            case UNMAPPED:
                return new Plan(verdict.target() == PairDecision.Side.ORDER ? Outcome.SKIPPED_UNMAPPED_STAGE : Outcome.SKIPPED_UNMAPPED_STATUS,
                        verdict.target(), null, null, verdict.conflict(), stale, "The winning side's value is not mapped in mapping version "
                        + mapping.version() + ": " + pair + staleNote + "; nothing to write.");
            default:
                break;
        }
        if (verdict.target() == PairDecision.Side.DEAL) {
            return new Plan(Outcome.CONFLICT_RESOLVED, PairDecision.Side.DEAL, verdict.value(), verdict.expected(), verdict.conflict(), stale,
                    "The order's change wins (" + pair + staleNote + "): the order is not written; the deal goes to stage "
                            + verdict.value() + ".");
        }
        return new Plan(verdict.conflict() ? Outcome.CONFLICT_RESOLVED : Outcome.UPDATED, PairDecision.Side.ORDER, verdict.value(), verdict.expected(),
                verdict.conflict(), stale, "Order goes from status " + order.statusId() + " to " + verdict.value() + " ("
                + pair + (verdict.conflict() ? "; both sides changed and the deal's change is later or tied, each aged on its own portal's clock" : "") + staleNote + ").");
    }
}
