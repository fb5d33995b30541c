package org.dealbridge.dealprojector.crm;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.dealbridge.bitrix.BatchResult;
import org.dealbridge.dealprojector.topology.DealFields;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.DealCommandKind;
import org.dealbridge.schemas.Outcome;
import org.dealbridge.schemas.ProductRow;
import org.dealbridge.schemas.SyncLink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The decide step of a deal command, from what its reads found ({@link DealReads}): a CREATE adds a deal only when the
 * look-up by origin found none, and otherwise decides against the deal it found ({@link FoundDeal}); a deal that
 * exists gets {@link DealUpdatePlan}'s writes; a deal deleted in the CRM gets none. The round ends up with its writes
 * ({@link DealWrites}), the link they leave ({@link LinkAfterWrite}), the outcome and the reason for the admin.
 */
final class CommandDecision {
    private static final Logger log = LoggerFactory.getLogger(CommandDecision.class);

    private CommandDecision() {
    }

    /**
     * Decides a round from its reads. No writes means it is finished (nothing to write, or the deal is gone).
     *
     * @param webhookUser DealBridge's own user in {@code MODIFY_BY_ID}/{@code MOVED_BY_ID}
     */
    static void decide(CommandRound round, BatchResult reads, String webhookUser, Instant now) {
        DealCommand c = round.command;
        if (c.getKind() == DealCommandKind.CREATE) {
            List<JsonNode> found = round.dealsOfOrigin;
            if (found.isEmpty()) {
                newDeal(round, reads, now);
                return;
            }
            // the deal exists (an earlier add went through, or a replay): decide against it as it is
            if (found.size() > 1) {
                log.warn("Order {} has {} deals with ORIGINATOR_ID {}; writing the oldest, {}", round.order(), found.size(),
                        c.getOriginatorId(), DealReads.text(found.get(0), "ID"));
            }
            JsonNode deal = found.get(0);
            FoundDeal existing = DealReads.found(c, deal, webhookUser);
            linkedDeal(round, existing.id(), DealReads.state(c, deal, null, webhookUser), existing.decidedAgainst(c), now);
            if (round.outcome == Outcome.UPDATED) {
                round.reason = "Deal " + existing.id() + " already existed for order " + round.order() + "; " + round.reason;
            }
            return;
        }
        if (round.deletedBecause != null) {
            // a deletion is a person's decision, not an error: the order is unlinked (deals.onDeleted decides what next)
            round.link = LinkAfterWrite.dealDeleted(c, now);
            round.outcome = Outcome.DEAL_DELETED;
            round.reason = "Deal " + c.getDealId() + " of order " + round.order() + " no longer exists in the CRM ("
                    + round.deletedBecause + "): the order is unlinked and nothing is written.";
            return;
        }
        JsonNode deal = round.deal;
        linkedDeal(round, DealReads.longValue(deal, "ID"), DealReads.state(c, deal, DealReads.rowsNow(round, reads), webhookUser),
                round.decidedOn(), now);
    }

    private static void newDeal(CommandRound round, BatchResult reads, Instant now) {
        DealCommand c = round.command;
        List<ProductRow> rows = c.getProductRows() == null ? List.of() : c.getProductRows();
        Optional<Long> owner = c.getResolveResponsibleFromContact() ? Optional.ofNullable(round.contactOwner) : Optional.empty();
        Map<String, Object> sent = DealWrites.newDeal(round, Optional.ofNullable(round.contact), owner, rows);
        round.link = LinkAfterWrite.created(c, sent, rows, now);
        round.outcome = Outcome.CREATED;
    }

    /** The plan for a deal that exists, its writes, the link it leaves and why. */
    private static void linkedDeal(CommandRound round, long dealId, DealUpdatePlan.DealState state, SyncLink link, Instant now) {
        DealCommand c = round.command;
        DealUpdatePlan.Plan plan = DealUpdatePlan.plan(c, link, state, CommandDecision::sameValue);
        List<String> changed = DealWrites.plan(round, dealId, plan);
        round.link = LinkAfterWrite.afterPlan(plan, c, link, dealId, state, now);
        if (plan.moveTo() != null && link != null && c.getKind() == DealCommandKind.UPDATE) {
            // a linked deal's move: its intent is recorded before the call (a CREATE's found deal has no link to carry it)
            round.move = new CommandRound.PlannedMove(link, state.pipeline(), plan.moveTo());
        }
        round.reconcile = plan.dealWon();
        round.outcome = plan.outcome(c);
        round.reason = plan.reason(c, dealId, changed);
    }

    /** When the order's value and the deal's are the same: amounts compare as decimals. */
    private static boolean sameValue(String field, String expected, String actual) {
        if (expected == null || actual == null) {
            return expected == null && actual == null;
        }
        if (field.equals(DealFields.OPPORTUNITY)) {
            try {
                return DealFields.amount(field, expected).equals(DealFields.amount(field, actual));
            } catch (IllegalArgumentException e) {
                return false;
            }
        }
        return expected.equals(actual);
    }
}
