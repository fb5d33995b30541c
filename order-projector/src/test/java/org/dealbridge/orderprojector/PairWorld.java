package org.dealbridge.orderprojector;

import org.dealbridge.mapping.PairDecision;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.dealbridge.mapping.CompiledMapping;
import org.dealbridge.orderprojector.store.StatusUpdatePlan;
import org.dealbridge.orderprojector.topology.DealToOrder;
import org.dealbridge.schemas.ChangeCause;
import org.dealbridge.schemas.ChangeSource;
import org.dealbridge.schemas.DealChanged;
import org.dealbridge.schemas.LinkOrigin;
import org.dealbridge.schemas.SyncLink;

/**
 * One order-deal pair, both sides modelled in memory, driven through the REAL decision code:
 * {@link DealToOrder} (the order projector's decision), {@link StatusUpdatePlan} (the store connector's decision after
 * its read-back) and, for the order → deal direction, {@link PairDecision} used the same way (as deal-projector must,
 * once the rule lives in mapping-config). What is modelled: the two portals (a value and a modification time per
 * side), the hooks (an event per human edit, possibly lost), the pollers (an event when a side changed since the
 * cursor), the Kafka queues (FIFO, at-least-once: a restart delivers the last item again) and API faults (a write that
 * fails before or after being applied). Each portal stamps its changes by its own clock, off the true time by its own
 * skew ({@code crmSkew}, {@code storeSkew}, seconds; one tick of {@link #clock} is a second), and the store connector
 * reads both portals' times with the pair, as the real one does; the CRM connector, like the real one, has the order
 * only as its event reported it (no store time).
 */
final class PairWorld {

    static final long PIPELINE = 1;
    static final long DEAL_ID = 812;
    static final long ORDER_ID = 5001;

    /** A change as an ingestion path reports it: the side's value and modification time. */
    record Seen(String value, long at) {
    }

    /** A write a projector asked its connector to make. */
    record Command(String value, String expected) {
    }

    final CompiledMapping mapping;
    final PairDecision rules;
    final DealToOrder dealToOrder;

    /** The true time; each portal's clock is this plus its skew. */
    long clock = 1;
    final long crmSkew;
    final long storeSkew;
    String dealStage;
    long dealModified;
    String orderStatus;
    long orderUpdated;
    SyncLink link;

    final Deque<Seen> dealEvents = new ArrayDeque<>();
    final Deque<Seen> orderEvents = new ArrayDeque<>();
    final Deque<Command> orderCommands = new ArrayDeque<>();
    final Deque<Command> dealCommands = new ArrayDeque<>();
    long dealPollCursor;
    long orderPollCursor;

    int humanEdits;
    int writes;
    /** Side and value of the last human edit. */
    String lastEditSide;
    String lastEditValue;
    /**
     * True when the last edit put its side back on the value of the last agreed state: by the rules that side has
     * then not changed (a change is a difference from the agreed value), so the other side's change may win.
     */
    boolean lastEditReturnsToAgreed;
    final List<String> trace = new ArrayList<>();

    PairWorld(CompiledMapping mapping, PairDecision rules, String stage, String status) {
        this(mapping, rules, stage, status, 0, 0);
    }

    PairWorld(CompiledMapping mapping, PairDecision rules, String stage, String status, long crmSkew, long storeSkew) {
        this.crmSkew = crmSkew;
        this.storeSkew = storeSkew;
        // the pair was made at time 0, and each poller's first cursor is its portal's own time (never DealBridge's)
        this.dealModified = crmSkew;
        this.orderUpdated = storeSkew;
        this.dealPollCursor = crmSkew;
        this.orderPollCursor = storeSkew;
        this.mapping = mapping;
        this.rules = rules;
        this.dealToOrder = new DealToOrder(OrderProjectorConfig.defaults(), rules);
        this.dealStage = stage;
        this.orderStatus = status;
        this.link = link(stage, status);
    }

    // ---- humans ----

    void humanMovesDeal(String stage, boolean hookLost) {
        if (stage.equals(dealStage)) {
            return;  // not an edit: the portal records no change
        }
        lastEditReturnsToAgreed = stage.equals(link.getStageId().toString());
        dealStage = stage;
        dealModified = ++clock + crmSkew;
        humanEdits++;
        lastEditSide = "deal";
        lastEditValue = stage;
        trace.add("human deal -> " + stage + (hookLost ? " (hook lost)" : ""));
        if (!hookLost) {
            dealEvents.add(new Seen(stage, dealModified));
        }
    }

    void humanSetsOrder(String status, boolean hookLost) {
        if (status.equals(orderStatus)) {
            return;
        }
        lastEditReturnsToAgreed = status.equals(link.getStatusId().toString());
        orderStatus = status;
        orderUpdated = ++clock + storeSkew;
        humanEdits++;
        lastEditSide = "order";
        lastEditValue = status;
        trace.add("human order -> " + status + (hookLost ? " (hook lost)" : ""));
        if (!hookLost) {
            orderEvents.add(new Seen(status, orderUpdated));
        }
    }

    // ---- ingestion: pollers ----

    void pollDeal() {
        if (dealModified > dealPollCursor) {
            dealEvents.add(new Seen(dealStage, dealModified));
            dealPollCursor = dealModified;  // advanced only after publishing
        }
    }

    void pollOrder() {
        if (orderUpdated > orderPollCursor) {
            orderEvents.add(new Seen(orderStatus, orderUpdated));
            orderPollCursor = orderUpdated;
        }
    }

    // ---- projectors ----

    /** The order projector's topology on the next deal event (the real {@link DealToOrder}). */
    void projectDeal(boolean redeliver) {
        Seen seen = redeliver ? dealEvents.peek() : dealEvents.poll();
        if (seen == null) {
            return;
        }
        DealChanged deal = DealChanged.newBuilder()
                .setDealId(DEAL_ID).setCategoryId(PIPELINE).setStageId(seen.value())
                .setDateModify(Instant.ofEpochSecond(seen.at()))
                .setCause(ChangeCause.newBuilder().setSource(ChangeSource.CRM_HOOK).build())
                .build();
        DealToOrder.Decision decision = dealToOrder.decide(deal, link, mapping, null, Instant.ofEpochSecond(clock));
        decision.command().ifPresent(c -> orderCommands.add(new Command(c.getStatusId().toString(),
                c.getExpectedStatusId() == null ? null : c.getExpectedStatusId().toString())));
    }

    /** The deal projector's decision on the next order event: the pair rule, from the order's side. */
    void projectOrder(boolean redeliver) {
        Seen seen = redeliver ? orderEvents.peek() : orderEvents.poll();
        if (seen == null) {
            return;
        }
        PairDecision.Verdict verdict = rules.decide(mapping,
                new PairDecision.DealState(PIPELINE, link.getStageId().toString(), null),
                new PairDecision.OrderState(seen.value(), Instant.ofEpochSecond(seen.at())),
                agreed());
        if (verdict.writes(PairDecision.Side.DEAL)) {
            dealCommands.add(new Command(verdict.value(), verdict.expected()));
        }
    }

    // ---- connectors ----

    enum Fault { NONE, FAIL_BEFORE, APPLIED_THEN_LOST }

    /** The store connector on the next command: read back both sides, decide again, write the order at most once. */
    void storeConnector(Fault fault) {
        Command command = orderCommands.peek();
        if (command == null) {
            return;
        }
        if (fault == Fault.FAIL_BEFORE) {
            return;  // transient failure: the command stays, retried later
        }
        StatusUpdatePlan.Plan plan = StatusUpdatePlan.plan(rules, mapping,
                new PairDecision.DealState(PIPELINE, dealStage, Instant.ofEpochSecond(dealModified), Instant.ofEpochSecond(clock + crmSkew)),
                new PairDecision.OrderState(orderStatus, Instant.ofEpochSecond(orderUpdated), Instant.ofEpochSecond(clock + storeSkew)),
                agreed(), command.expected());
        if (plan.writesDeal()) {
            dealStage = plan.value();
            dealModified = ++clock + crmSkew;
            writes++;
            trace.add("store connector writes deal " + plan.value());
            if (fault == Fault.APPLIED_THEN_LOST) {
                return;
            }
            link = link(dealStage, orderStatus);
        } else if (plan.writesOrder()) {
            orderStatus = plan.value();
            orderUpdated = ++clock + storeSkew;
            writes++;
            trace.add("store connector writes order " + plan.value());
            if (fault == Fault.APPLIED_THEN_LOST) {
                return;  // the answer was lost: neither the link nor the offset moved
            }
            link = link(dealStage, orderStatus);
        } else if (plan.outcome() == org.dealbridge.schemas.Outcome.ECHO_SUPPRESSED) {
            link = link(dealStage, orderStatus);
        }
        orderCommands.poll();
    }

    /**
     * The CRM connector, modelled as {@code DealUpdatePlan} decides: the deal read back, the order as known (without the
     * store's time, so a conflict cannot be aged here); it writes only the deal, and when the deal's stage stands against
     * the order it records the pair and hands it to the store connector ({@code RECONCILE}).
     */
    void crmConnector(Fault fault) {
        Command command = dealCommands.peek();
        if (command == null) {
            return;
        }
        if (fault == Fault.FAIL_BEFORE) {
            return;
        }
        PairDecision.Verdict verdict = rules.decide(mapping,
                new PairDecision.DealState(PIPELINE, dealStage, Instant.ofEpochSecond(dealModified)),
                new PairDecision.OrderState(orderStatus, Instant.ofEpochSecond(orderUpdated)), agreed());
        if (verdict.writes(PairDecision.Side.DEAL)) {
            dealStage = verdict.value();
            dealModified = ++clock + crmSkew;
            writes++;
            trace.add("crm connector writes deal " + verdict.value());
            if (fault == Fault.APPLIED_THEN_LOST) {
                return;
            }
            link = link(dealStage, orderStatus);
        } else if (verdict.winner() == PairDecision.Side.DEAL) {
            trace.add("crm connector leaves deal " + dealStage + " and asks the store connector to reconcile");
            link = link(dealStage, orderStatus);
            orderCommands.add(new Command(orderStatus, orderStatus));
        } else if (verdict.action() == PairDecision.Action.NONE) {
            link = link(dealStage, orderStatus);
        }
        dealCommands.poll();
    }

    /** After the inputs stop: polls run and every queue drains; returns the rounds it took (or -1 if it did not settle). */
    int settle(int maxRounds) {
        for (int round = 1; round <= maxRounds; round++) {
            pollDeal();
            pollOrder();
            boolean busy = !dealEvents.isEmpty() || !orderEvents.isEmpty() || !orderCommands.isEmpty() || !dealCommands.isEmpty();
            while (!dealEvents.isEmpty()) {
                projectDeal(false);
            }
            while (!orderEvents.isEmpty()) {
                projectOrder(false);
            }
            while (!orderCommands.isEmpty()) {
                storeConnector(Fault.NONE);
            }
            while (!dealCommands.isEmpty()) {
                crmConnector(Fault.NONE);
            }
            if (!busy) {
                return round;
            }
        }
        return -1;
    }

    boolean consistent() {
        return mapping.isConsistent(PIPELINE, dealStage, orderStatus);
    }

    String finalValueOf(String side) {
        return side.equals("deal") ? dealStage : orderStatus;
    }

    private PairDecision.Agreed agreed() {
        return new PairDecision.Agreed(link.getStageId().toString(), link.getStatusId().toString());
    }

    private SyncLink link(String stage, String status) {
        return SyncLink.newBuilder().setSiteId("s1").setOrderId(ORDER_ID).setDealId(DEAL_ID).setCategoryId(PIPELINE)
                .setStageId(stage).setStatusId(status).setOrigin(LinkOrigin.ORDER)
                .setUpdatedAt(Instant.ofEpochSecond(clock)).build();
    }

    @Override
    public String toString() {
        return "deal=" + dealStage + "@" + dealModified + " order=" + orderStatus + "@" + orderUpdated + " link="
                + link.getStageId() + "/" + link.getStatusId() + " edits=" + humanEdits + " writes=" + writes + " trace=" + trace;
    }
}
