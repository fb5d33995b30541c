package org.dealbridge.orderprojector.store;

import org.dealbridge.mapping.CompiledMapping;
import org.dealbridge.orderprojector.PairDecision;
import org.dealbridge.schemas.Outcome;

/**
 * What the store connector does with an {@code UPDATE_STATUS} once it has read both sides fresh: the pair is decided
 * again with {@link PairDecision} on the fresh state, so a command decided on a stale view (the order changed since,
 * or the deal moved on) never overwrites blindly. A pure function, shared by the connector and the property test.
 */
public final class StatusUpdatePlan {

    /** The result. {@code statusId} and {@code expectedStatusId} are set for {@link #writes()}. */
    public record Plan(Outcome outcome, String statusId, String expectedStatusId, boolean conflict, boolean stale, String reason) {
        public boolean writes() {
            return statusId != null;
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
                return new Plan(Outcome.ECHO_SUPPRESSED, null, null, false, stale,
                        "Consistent under mapping version " + mapping.version() + ": " + pair + staleNote + "; nothing to write.");
            case UNMAPPED:
                return new Plan(verdict.target() == PairDecision.Side.ORDER ? Outcome.SKIPPED_UNMAPPED_STAGE : Outcome.SKIPPED_UNMAPPED_STATUS,
                        null, null, verdict.conflict(), stale, "The winning side's value is not mapped in mapping version "
                        + mapping.version() + ": " + pair + staleNote + "; nothing to write.");
            default:
                break;
        }
        if (verdict.target() == PairDecision.Side.DEAL) {
            return new Plan(Outcome.CONFLICT_RESOLVED, null, null, verdict.conflict(), stale,
                    "The order's change wins (" + pair + staleNote + "): the order is not written; the deal follows it.");
        }
        return new Plan(verdict.conflict() ? Outcome.CONFLICT_RESOLVED : Outcome.UPDATED, verdict.value(), verdict.expected(),
                verdict.conflict(), stale, "Order goes from status " + order.statusId() + " to " + verdict.value() + " ("
                + pair + (verdict.conflict() ? "; both sides changed and the deal's change is later or tied" : "") + staleNote + ").");
    }
}
