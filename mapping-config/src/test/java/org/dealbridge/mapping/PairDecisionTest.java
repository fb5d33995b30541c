package org.dealbridge.mapping;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.dealbridge.mapping.PairDecision.Action;
import org.dealbridge.mapping.PairDecision.Agreed;
import org.dealbridge.mapping.PairDecision.DealState;
import org.dealbridge.mapping.PairDecision.OrderState;
import org.dealbridge.mapping.PairDecision.Side;
import org.dealbridge.mapping.PairDecision.Verdict;
import org.junit.jupiter.api.Test;

class PairDecisionTest {

    private static final CompiledMapping MAPPING = CompiledMapping.compile("""
            site: s1
            pipelines: { default: 1 }
            stages:
              "1":
                - { stage: "C1:NEW", status: N }
                - { stage: "C1:PREPARATION", status: P }
                - { stage: "C1:PREPARATION", status: A }
                - { stage: "C1:WON", status: F }
                - { stage: "C1:WON", status: D }
            responsible: { default: 1 }
            dealToOrder: { pipelines: [1] }
            payment: { default: 1 }
            """, 7);
    private static final PairDecision RULES = PairDecision.UNDER_MAPPING;
    private static final Instant T1 = Instant.parse("2026-11-29T10:00:00Z");
    private static final Instant T2 = T1.plusSeconds(1);
    /** When both portals are read, in real time. */
    private static final Instant READ = T1.plusSeconds(60);
    /** The portals' clocks are off, the CRM's ahead and the store's behind (issue 13 item 3: up to ±5 minutes each). */
    private static final Duration CRM_SKEW = Duration.ofMinutes(5);
    private static final Duration STORE_SKEW = Duration.ofMinutes(-5);

    /** {@code dealAt} and {@code orderAt} are real times; each side reports them, and its time at the read, on its own clock. */
    private static Verdict decide(String stage, Instant dealAt, String status, Instant orderAt, String agreedStage, String agreedStatus) {
        return RULES.decide(MAPPING, new DealState(1, stage, dealAt == null ? null : dealAt.plus(CRM_SKEW), READ.plus(CRM_SKEW)),
                new OrderState(status, orderAt == null ? null : orderAt.plus(STORE_SKEW), READ.plus(STORE_SKEW)),
                agreedStage == null ? null : new Agreed(agreedStage, agreedStatus));
    }

    @Test
    void anyStatusOfAStageIsConsistentWithIt() {
        // C1:PREPARATION lists P first; A maps to it too and must never be flipped to P
        assertThat(decide("C1:PREPARATION", T2, "A", T1, "C1:NEW", "N").action()).isEqualTo(Action.NONE);
        assertThat(decide("C1:PREPARATION", T1, "P", T2, "C1:NEW", "N").action()).isEqualTo(Action.NONE);
        assertThat(decide("C1:WON", T1, "D", T2, null, null).action()).isEqualTo(Action.NONE);
    }

    @Test
    void onlyTheDealMovedSoTheOrderFollowsWithTheStagesFirstStatus() {
        Verdict verdict = decide("C1:WON", T1, "P", T2, "C1:PREPARATION", "P");  // order time later but order did not move
        assertThat(verdict).isEqualTo(new Verdict(Action.WRITE, Side.DEAL, Side.ORDER, "F", "P", false));
    }

    @Test
    void onlyTheOrderMovedSoTheDealFollows() {
        Verdict verdict = decide("C1:NEW", T2, "D", T1, "C1:NEW", "N");  // deal time later (e.g. a comment) but its stage did not move
        assertThat(verdict).isEqualTo(new Verdict(Action.WRITE, Side.ORDER, Side.DEAL, "C1:WON", "C1:NEW", false));
    }

    @Test
    void bothMovedTheLaterChangeWins() {
        assertThat(decide("C1:WON", T2, "P", T1, "C1:NEW", "N"))
                .isEqualTo(new Verdict(Action.WRITE, Side.DEAL, Side.ORDER, "F", "P", true));
        assertThat(decide("C1:WON", T1, "P", T2, "C1:NEW", "N"))
                .isEqualTo(new Verdict(Action.WRITE, Side.ORDER, Side.DEAL, "C1:PREPARATION", "C1:WON", true));
    }

    @Test
    void theLaterChangeIsToldByEachPortalsOwnClockNotByComparingTheTwo() {
        // the order changed a second after the deal, but the store's clock is 10 minutes behind the CRM's: its dateUpdate
        // reads 9:59 earlier than the deal's DATE_MODIFY. Aged on their own clocks, the order's change is the younger.
        DealState deal = new DealState(1, "C1:WON", T1.plus(CRM_SKEW), READ.plus(CRM_SKEW));
        OrderState order = new OrderState("P", T2.plus(STORE_SKEW), READ.plus(STORE_SKEW));
        assertThat(order.changedAt()).isBefore(deal.changedAt());
        assertThat(PairDecision.laterChange(deal, order)).isEqualTo(Side.ORDER);

        // the rule this replaced compared the two clocks and picked the deal
        PairDecision comparingClocks = new PairDecision(PairDecision.Translation::isConsistent,
                (d, o) -> o.changedAt().isAfter(d.changedAt()) ? Side.ORDER : Side.DEAL);
        assertThat(comparingClocks.decide(MAPPING, deal, order, new Agreed("C1:NEW", "N")).winner()).isEqualTo(Side.DEAL);
        assertThat(RULES.decide(MAPPING, deal, order, new Agreed("C1:NEW", "N")).winner()).isEqualTo(Side.ORDER);
    }

    @Test
    void aSideReadWithoutItsPortalsTimeCannotBeAgedSoTheCrmWins() {
        // the CRM connector has the order's dateUpdate from its event, but not the store's time now: it cannot tell, and
        // leaves the pair to the store connector (see DealUpdatePlan); the order projector likewise for the deal
        assertThat(RULES.decide(MAPPING, new DealState(1, "C1:WON", T1, READ), new OrderState("P", T2),
                new Agreed("C1:NEW", "N")).winner()).isEqualTo(Side.DEAL);
        assertThat(RULES.decide(MAPPING, new DealState(1, "C1:WON", T1), new OrderState("P", T2, READ),
                new Agreed("C1:NEW", "N")).winner()).isEqualTo(Side.DEAL);
    }

    @Test
    void tiesAndUnknownTimesGoToTheCrm() {
        assertThat(decide("C1:WON", T1, "P", T1, "C1:NEW", "N").winner()).isEqualTo(Side.DEAL);
        assertThat(decide("C1:WON", null, "P", T2, "C1:NEW", "N").winner()).isEqualTo(Side.DEAL);
        assertThat(decide("C1:WON", T2, "P", null, "C1:NEW", "N").winner()).isEqualTo(Side.DEAL);
        assertThat(decide("C1:WON", T1, "P", T2, null, null).winner()).as("no agreed state: both count as moved").isEqualTo(Side.ORDER);
    }

    @Test
    void aWinnerWithoutACounterpartWritesNothing() {
        Verdict unmappedStage = decide("C1:LOSE", T2, "P", T1, "C1:PREPARATION", "P");
        assertThat(unmappedStage.action()).isEqualTo(Action.UNMAPPED);
        assertThat(unmappedStage.target()).isEqualTo(Side.ORDER);
        Verdict unmappedStatus = decide("C1:NEW", T1, "X", T2, "C1:NEW", "N");
        assertThat(unmappedStatus.action()).isEqualTo(Action.UNMAPPED);
        assertThat(unmappedStatus.target()).isEqualTo(Side.DEAL);
    }

    @Test
    void theDealsOwnPipelineDecides() {
        // stage NEW of pipeline 0 is not in this mapping: nothing maps to it
        Verdict verdict = RULES.decide(MAPPING, new DealState(0, "NEW", T2), new OrderState("N", T1), new Agreed("C1:NEW", "N"));
        assertThat(verdict.action()).isEqualTo(Action.UNMAPPED);
    }
}
