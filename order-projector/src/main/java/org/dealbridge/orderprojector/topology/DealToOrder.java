package org.dealbridge.orderprojector.topology;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Optional;
import java.util.UUID;
import org.dealbridge.mapping.CompiledMapping;
import org.dealbridge.mapping.LinkRevision;
import org.dealbridge.mapping.MappingDocument;
import org.dealbridge.orderprojector.OrderProjectorConfig;
import org.dealbridge.mapping.PairDecision;
import org.dealbridge.schemas.DealChanged;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.OrderCommand;
import org.dealbridge.schemas.OrderCommandKind;
import org.dealbridge.schemas.Outcome;
import org.dealbridge.schemas.SyncDirection;
import org.dealbridge.schemas.SyncLink;
import org.dealbridge.schemas.SyncOutcome;

/**
 * Where the mapping is applied to a deal: given the deal's latest state, the mapping and the deal's link (if any),
 * decides the one write the store needs, or why there is none. A pure function; the topology feeds it.
 *
 * <ul>
 *   <li><b>linked deal</b>: {@link PairDecision} between the deal as it is now and the order as the link last saw it.
 *       A stage consistent with the order's status writes nothing ({@link Outcome#ECHO_SUPPRESSED}: this is how our
 *       own writes' echoes are recognised); a stage without a status writes nothing
 *       ({@link Outcome#SKIPPED_UNMAPPED_STAGE}); otherwise an {@code UPDATE_STATUS} carrying the status the order is
 *       expected to have, which the store connector checks against the fresh order before writing.</li>
 *   <li><b>unlinked deal</b>: made by DealBridge (its ORIGINATOR_ID) → nothing yet: the link is on its way, and the
 *       change {@linkplain Decision#recheckWithNewerLink() awaits it} to be decided again (a manager's move made before the link
 *       arrived must still reach the order); in a pipeline
 *       of {@code dealToOrder.pipelines} of the configured site, with a mapped stage and product rows → {@code CREATE}
 *       with the pay system from the mapped {@code paySystemId} custom field, else {@code payment.default}.</li>
 * </ul>
 */
public final class DealToOrder {

    /** The order field whose mapped deal custom field carries the pay system of orders made from deals. */
    public static final String PAY_SYSTEM_FIELD = "paySystemId";

    /**
     * Either a command for the store connector (which records the outcome once it has acted), or the outcome of
     * deciding to write nothing.
     *
     * @param recheckWithNewerLink nothing was written because of what the deal's link says (no link yet, or a status
     *                             the deal is consistent with): the same change is decided again when a newer link
     *                             arrives, since the link may lag the order (a manager's move must not be lost to it)
     */
    public record Decision(Optional<OrderCommand> command, Optional<SyncOutcome> outcome, Optional<SyncLink> link,
                           boolean recheckWithNewerLink) {
        public Decision(Optional<OrderCommand> command, Optional<SyncOutcome> outcome) {
            this(command, outcome, Optional.empty(), false);
        }

        /** This decision, to be made again when a newer link arrives ({@link #recheckWithNewerLink}). */
        Decision untilANewerLink() {
            return new Decision(command, outcome, link, true);
        }

        static Decision write(OrderCommand command) {
            return new Decision(Optional.of(command), Optional.empty());
        }
    }

    private final OrderProjectorConfig config;
    private final PairDecision rules;

    public DealToOrder(OrderProjectorConfig config, PairDecision rules) {
        this.config = config;
        this.rules = rules;
    }

    /**
     * @param linkedMapping the mapping of the link's site (null when none is published or the deal has no link)
     * @param siteMapping   the mapping of the configured site, for unlinked deals (null when none is published)
     * @param link          the deal's link, or null
     * @throws IllegalArgumentException when a deal value the rules need cannot be read; the message names it
     */
    public Decision decide(DealChanged deal, SyncLink link, CompiledMapping linkedMapping, CompiledMapping siteMapping, Instant now) {
        return link != null ? linked(deal, link, linkedMapping, now) : unlinked(deal, siteMapping, now);
    }

    private Decision linked(DealChanged deal, SyncLink link, CompiledMapping mapping, Instant now) {
        String order = Keys.order(link.getSiteId().toString(), link.getOrderId());
        if (deal.getDeleted()) {
            // a deletion is a person's decision, not an error: the order is unlinked and left as it is
            SyncLink unlinked = link.getDealDeletedAt() != null ? null
                    : SyncLink.newBuilder(link).setDealDeletedAt(now).setRevision(LinkRevision.after(link)).setUpdatedAt(now).build();
            String next = mapping == null ? "" : mapping.onDeleted() == MappingDocument.OnDeleted.RECREATE
                    ? " Its next change creates a new deal (deals.onDeleted = recreate)."
                    : " It gets no new deal (deals.onDeleted = unlink).";
            return new Decision(Optional.empty(), Optional.of(outcome(deal, link.getSiteId().toString(), link.getOrderId(),
                    Outcome.DEAL_DELETED, mapping == null ? null : mapping.version(), now, "Deal " + deal.getDealId()
                            + " was deleted in the CRM; order " + order + " is unlinked and left as it is." + next)),
                    Optional.ofNullable(unlinked), false);
        }
        if (mapping == null) {
            return skip(deal, link, Outcome.SKIPPED_NO_MAPPING, null, now, "No mapping is published for site "
                    + link.getSiteId() + ", so order " + order + " does not follow deal " + deal.getDealId() + ".");
        }
        if (link.getOrderDeletedAt() != null) {
            return skip(deal, link, Outcome.ORDER_DELETED, mapping.version(), now, "Order " + order + " was deleted in the store ("
                    + link.getOrderDeletedAt() + "); deal " + deal.getDealId() + " has no order to follow.");
        }
        String stage = deal.getStageId().toString();
        String status = link.getStatusId().toString();
        PairDecision.Verdict verdict = rules.decide(mapping,
                new PairDecision.DealState(deal.getCategoryId(), stage, deal.getDateModify()),
                new PairDecision.OrderState(status, null),
                new PairDecision.Agreed(link.getStageId().toString(), status));
        String where = " of pipeline " + deal.getCategoryId() + " in mapping version " + mapping.version() + " of site " + link.getSiteId();
        switch (verdict.action()) {
            case NONE: {
                // consistent with the status the link knows, which may be older than the order's (the link of
                // DealBridge's latest write still on its way): decided again when a newer link arrives
                return skip(deal, link, Outcome.ECHO_SUPPRESSED, mapping.version(), now, "Stage " + stage + where
                        + " is consistent with status " + status + " of order " + order + "; nothing to write.").untilANewerLink();
            }
            case UNMAPPED:
                return skip(deal, link, Outcome.SKIPPED_UNMAPPED_STAGE, mapping.version(), now, "Stage " + stage + " of deal "
                        + deal.getDealId() + " is not mapped to a status" + where + ", so order " + order + " keeps status " + status + ".");
            default:
                break;
        }
        if (!verdict.writes(PairDecision.Side.ORDER)) {
            return skip(deal, link, Outcome.CONFLICT_RESOLVED, mapping.version(), now, "Status " + status + " of order " + order
                    + " wins over stage " + stage + " of deal " + deal.getDealId() + "; the deal is the CRM connector's to write.");
        }
        OrderCommand command = OrderCommand.newBuilder()
                .setCommandId(UUID.randomUUID().toString())
                .setKind(OrderCommandKind.UPDATE_STATUS)
                .setSiteId(link.getSiteId())
                .setDealId(deal.getDealId())
                .setOrderId(link.getOrderId())
                .setStatusId(verdict.value())
                .setExpectedStatusId(verdict.expected())
                .setMappingVersion(mapping.version())
                .setSourceTime(deal.getDateModify())
                .build();
        return Decision.write(command);
    }

    private Decision unlinked(DealChanged deal, CompiledMapping mapping, Instant now) {
        long id = deal.getDealId();
        if (deal.getDeleted()) {
            return skip(deal, null, Outcome.OTHER, null, now, "Deal " + id + " was deleted and has no order; nothing to do.");
        }
        if (config.madeByDealBridge(deal.getOriginatorId())) {
            // a manager may have moved it already: dropping this change would lose that move for good once the link
            // lands, as no later event need come (found by OwnershipPropertyTest, seed 2)
            return skip(deal, null, Outcome.UNCHANGED, null, now, "Deal " + id + " was made by DealBridge from order "
                    + deal.getOriginId() + " (" + deal.getOriginatorId() + "); it never creates an order. Its link is on its"
                    + " way, and this change is decided again when the link arrives.").untilANewerLink();
        }
        String site = config.siteId();
        if (mapping == null) {
            return skip(deal, null, Outcome.SKIPPED_NO_MAPPING, null, now, "No mapping is published for site " + site
                    + ", so deal " + id + " creates no order.");
        }
        long pipeline = deal.getCategoryId();
        if (!mapping.orderCreatingPipelines().contains(pipeline)) {
            return skip(deal, null, Outcome.OTHER, mapping.version(), now, "Deal " + id + " is in pipeline " + pipeline
                    + ", which does not create orders (dealToOrder.pipelines = " + new ArrayList<>(mapping.orderCreatingPipelines())
                    + " in mapping version " + mapping.version() + " of site " + site + ").");
        }
        String stage = deal.getStageId().toString();
        Optional<String> status = mapping.statusFor(pipeline, stage);
        if (status.isEmpty()) {
            return skip(deal, null, Outcome.SKIPPED_UNMAPPED_STAGE, mapping.version(), now, "Stage " + stage + " of deal " + id
                    + " is not mapped to a status of pipeline " + pipeline + " in mapping version " + mapping.version()
                    + " of site " + site + ", so it creates no order yet.");
        }
        if (deal.getProductRows().isEmpty()) {
            return skip(deal, null, Outcome.OTHER, mapping.version(), now, "Deal " + id + " has no product rows, and an order "
                    + "needs a basket; it creates its order once rows are added.");
        }
        OrderCommand command = OrderCommand.newBuilder()
                .setCommandId(UUID.randomUUID().toString())
                .setKind(OrderCommandKind.CREATE)
                .setSiteId(site)
                .setDealId(id)
                .setStatusId(status.get())
                .setItems(new ArrayList<>(deal.getProductRows()))
                // the store connector picks the pay system: only it can ask the store which ones exist
                .setPaySystemId(mapping.defaultPaySystem())
                .setPaySystemField(mapping.dealFields().get(PAY_SYSTEM_FIELD))
                .setPaySystemValue(paySystem(deal, mapping))
                .setCurrency(deal.getCurrency())
                .setMappingVersion(mapping.version())
                .setSourceTime(deal.getDateModify())
                .build();
        return Decision.write(command);
    }

    /**
     * The deal's raw value of the custom field mapped from {@code paySystemId}, or null when none is mapped or the value
     * is blank. Whether it names a pay system is not decided here: an empty, non-numeric or unknown value makes the
     * store connector use {@code payment.default} (the command's {@code paySystemId}) and say so in the outcome, so a
     * manager's typo never dead-letters the deal.
     */
    static String paySystem(DealChanged deal, CompiledMapping mapping) {
        String field = mapping.dealFields().get(PAY_SYSTEM_FIELD);
        CharSequence value = null;
        if (field != null) {
            for (var entry : deal.getUserFields().entrySet()) {
                if (entry.getKey().toString().equals(field)) {
                    value = entry.getValue();
                }
            }
        }
        return value == null || value.toString().isBlank() ? null : value.toString();
    }

    private static Decision skip(DealChanged deal, SyncLink link, Outcome outcome, Long version, Instant now, String reason) {
        return new Decision(Optional.empty(), Optional.of(outcome(deal, link == null ? null : link.getSiteId().toString(),
                link == null ? null : link.getOrderId(), outcome, version, now, reason)));
    }

    private static SyncOutcome outcome(DealChanged deal, String site, Long orderId, Outcome outcome, Long version,
                                       Instant now, String reason) {
        return SyncOutcome.newBuilder()
                .setSiteId(site)
                .setOrderId(orderId)
                .setDealId(deal.getDealId())
                .setDirection(SyncDirection.DEAL_TO_ORDER)
                .setOutcome(outcome)
                .setReason(reason)
                .setMappingVersion(version)
                .setAt(now)
                .build();
    }
}
