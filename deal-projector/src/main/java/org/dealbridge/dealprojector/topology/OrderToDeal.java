package org.dealbridge.dealprojector.topology;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import org.dealbridge.mapping.CompiledMapping;
import org.dealbridge.mapping.MappingDocument;
import org.dealbridge.mapping.OrderFromDeal;
import org.dealbridge.mapping.Ownership;
import org.dealbridge.schemas.LinkOrigin;
import org.dealbridge.schemas.BasketItem;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.DealCommandKind;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.OrderChanged;
import org.dealbridge.schemas.Outcome;
import org.dealbridge.schemas.ProductRow;
import org.dealbridge.schemas.SyncDirection;
import org.dealbridge.schemas.SyncLink;
import org.dealbridge.schemas.SyncOutcome;

/**
 * Where the mapping is applied to an order: given the order's latest state, the site's mapping and the link to its
 * deal (if any), decides the one write the CRM needs, or why there is none. A pure function; the topology feeds it.
 *
 * <p>Rules, in the words of the admin:
 * <ul>
 *   <li><b>pipeline</b>: {@link CompiledMapping#pipelineFor} (nearest mapped section of each line, the largest line
 *       total between pipelines, ties to basket order, else {@code pipelines.default});</li>
 *   <li><b>stage</b>: the cancelled stage of the pipeline for a cancelled order when one is mapped, else the stage of
 *       the order's status in that pipeline. No stage means no deal and no update, and a
 *       {@link Outcome#SKIPPED_UNMAPPED_STATUS} outcome naming the status, pipeline and mapping version;</li>
 *   <li><b>consistency, not equality</b>: a linked deal whose stage the order's status maps to (any of a stage's
 *       statuses) keeps its stage, so many-to-one mappings never flip and our own echoes write nothing;</li>
 *   <li><b>responsible</b> (new deals only, so a manager's reassignment in the CRM is never undone): the pipeline's
 *       user or the default, and with {@code contactOwner} the connector prefers the owner of the buyer's contact;</li>
 *   <li><b>fields</b>: TITLE from the template, OPPORTUNITY, CURRENCY_ID, ORIGINATOR_ID/ORIGIN_ID, the
 *       {@code dealFields} custom fields, product rows;</li>
 *   <li><b>orders made from deals</b>: an order without a link whose {@code xmlId} is
 *       {@code dealbridge-deal:{dealId}} ({@link OrderFromDeal}) was made by DealBridge from that deal; the link
 *       telling so may arrive after the order's first event, so such an order is treated as linked to that deal and
 *       never gets a new one. The deal owns everything but its stage: the UPDATE carries no fields, only the stage of
 *       the order's status in every pipeline ({@code stageByPipeline}), which the connector decides against the deal
 *       as read;</li>
 *   <li><b>a linked deal</b>: whose data is it is {@link Ownership}'s to say: only fields whose order value changed since
 *       the last agreement ({@code SyncLink.orderValues}), the pipeline only when the basket changed and picks another
 *       one, the stage when the link's stage is not consistent with the status; the connector then checks each field
 *       against the deal as read (a value a person set stands). Nothing to write → {@link Outcome#UNCHANGED};</li>
 *   <li><b>a deleted deal</b> ({@code SyncLink.dealDeletedAt}): {@link Outcome#DEAL_DELETED} under
 *       {@code deals.onDeleted: unlink}, a CREATE under {@code recreate}.</li>
 * </ul>
 * Every command carries the order's status, its stage per pipeline, the order's managed values and the link it was
 * decided on, so the connector decides against the deal as it really is.
 */
public final class OrderToDeal {

    /** The decision: a command to emit, or an outcome explaining why there is none. Exactly one is present. */
    public record Decision(Optional<DealCommand> command, Optional<SyncOutcome> outcome) {
        static Decision write(DealCommand command) {
            return new Decision(Optional.of(command), Optional.empty());
        }

        static Decision skip(SyncOutcome outcome) {
            return new Decision(Optional.empty(), Optional.of(outcome));
        }
    }

    private final String originatorPrefix;

    public OrderToDeal(String originatorPrefix) {
        this.originatorPrefix = originatorPrefix;
    }

    /**
     * @param mapping the site's mapping in force, or null when none is published
     * @param link    the order's link to its deal, or null when no deal is linked yet
     * @throws IllegalArgumentException when the order has a value the rules cannot read (e.g. a price that is not a
     *                                  number); the message names the field and the value
     */
    public Decision decide(OrderChanged order, CompiledMapping mapping, SyncLink linked, Instant now) {
        return decide(order, mapping, linked, null, now);
    }

    /**
     * @param previous the order's state the projector decided on last time (null when none): the link arrives late,
     *                 so a change the link still agrees with (A → B → A before B's link came back) is sent all the same
     *                 when it differs from what was last decided, and the connector judges it against the deal and its
     *                 own newest link
     */
    public Decision decide(OrderChanged order, CompiledMapping mapping, SyncLink linked, OrderChanged previous, Instant now) {
        SyncLink link = linked;
        SyncLink deleted = null;
        String site = order.getSiteId().toString();
        String key = Keys.order(site, order.getOrderId());
        if (mapping == null) {
            return Decision.skip(outcome(order, link, Outcome.SKIPPED_NO_MAPPING, null, now,
                    "No mapping is published for site " + site + ", so order " + key + " is not synced"
                            + (link == null ? " and gets no deal." : " and deal " + link.getDealId() + " is left as it is.")));
        }
        if (order.getDeleted()) {
            return deleted(order, mapping, link, now);
        }
        if (link != null && link.getOrderDeletedAt() != null) {
            return Decision.skip(outcome(order, link, Outcome.ORDER_DELETED, mapping.version(), now, "Order " + key
                    + " was deleted in the store (" + link.getOrderDeletedAt() + "); deal " + link.getDealId() + " is left as it is."));
        }
        if (link != null && link.getDealDeletedAt() != null) {
            if (mapping.onDeleted() == MappingDocument.OnDeleted.UNLINK) {
                return Decision.skip(outcome(order, link, Outcome.DEAL_DELETED, mapping.version(), now,
                        "Deal " + link.getDealId() + " of order " + key + " was deleted in the CRM (" + link.getDealDeletedAt()
                                + "); the order gets no new deal (deals.onDeleted = unlink in mapping version " + mapping.version() + ")."));
            }
            deleted = link;
            link = null;  // deals.onDeleted = recreate: the order is as if it never had a deal
        }
        long picked = mapping.pipelineFor(order.getItems());
        String status = order.getStatusId().toString();
        Map<Long, String> stages = stagesByPipeline(order, mapping);
        List<ProductRow> rows = productRows(order.getItems());
        Map<String, String> desired = desiredFields(order, mapping);
        Map<String, String> orderValues = orderValues(desired, picked);
        String basket = DealFields.productRowsDigest(rows);
        DealCommand.Builder command = DealCommand.newBuilder()
                .setCommandId(UUID.randomUUID().toString())
                .setSiteId(site)
                .setOrderId(order.getOrderId())
                .setOriginatorId(originatorId(site))
                .setOrderStatusId(status)
                .setStageByPipeline(DealFields.stageByPipeline(stages))
                .setOrderValues(orderValues)
                .setOrderRowsDigest(basket)
                .setOrderVersion(order.getVersion())
                .setMappingVersion(mapping.version())
                .setSourceTime(order.getDateUpdate());
        OptionalLong madeFrom = link == null ? OrderFromDeal.dealId(order.getXmlId()) : OptionalLong.empty();
        if (madeFrom.isPresent()) {
            // made by DealBridge from that deal, whose link is on its way: the deal owns everything but its stage
            return Decision.write(command.setKind(DealCommandKind.UPDATE)
                    .setDealId(madeFrom.getAsLong())
                    .setDecidedOn(OrderFromDeal.adoptedLink(site, order.getOrderId(), madeFrom.getAsLong()))
                    .build());
        }
        if (link == null) {
            Optional<String> stage = Optional.ofNullable(stages.get(picked));
            if (stage.isEmpty()) {
                return Decision.skip(unmapped(order, null, mapping, picked, now));
            }
            Map<String, String> fields = new LinkedHashMap<>();
            fields.put(DealFields.TITLE, mapping.dealTitle(text(order.getAccountNumber()), order.getOrderId()));
            fields.put(DealFields.CATEGORY_ID, Long.toString(picked));
            fields.put(DealFields.STAGE_ID, stage.get());
            fields.put(DealFields.ASSIGNED_BY_ID, Long.toString(mapping.responsibleFor(picked)));
            fields.put(DealFields.IS_MANUAL_OPPORTUNITY, "Y");  // the order total includes delivery: rows must not recompute it
            fields.put(DealFields.ORIGINATOR_ID, originatorId(site));
            fields.put(DealFields.ORIGIN_ID, Long.toString(order.getOrderId()));
            fields.putAll(desired);
            return Decision.write(command.setKind(DealCommandKind.CREATE)
                    .setDecidedOn(deleted)  // decided knowing the old deal is gone, so the connector makes a new one
                    .setFields(fields)
                    .setProductRows(rows)
                    .setBuyer(order.getBuyer())
                    .setResolveResponsibleFromContact(mapping.contactOwner())
                    .build());
        }

        // a linked deal: only what the order's own values changed since the last agreement (Ownership), and the stage
        Map<String, String> fields = new LinkedHashMap<>();
        boolean ours = Ownership.origin(link) == LinkOrigin.ORDER;
        long pipeline = link.getCategoryId();
        if (ours && Ownership.pipeline(link, picked, basket, pipeline)
                == Ownership.PipelineVerdict.MOVE) {
            pipeline = picked;  // the basket changed and picks another pipeline: the deal follows its products
            fields.put(DealFields.CATEGORY_ID, Long.toString(picked));
        }
        String linkedStage = link.getStageId().toString();
        Optional<String> stage = Optional.ofNullable(stages.get(pipeline));
        if (stage.isEmpty() && fields.containsKey(DealFields.CATEGORY_ID)) {
            return Decision.skip(unmapped(order, link, mapping, pipeline, now));
        }
        boolean moving = fields.containsKey(DealFields.CATEGORY_ID);
        Optional<String> cancelledStage = order.getCanceled() ? mapping.cancelledStage(pipeline) : Optional.empty();
        // consistency, not equality: the deal's stage stands when the order's status maps to it
        // the link may not show the last decision yet (A → B → A before B's link came back): then a status that
        // moved since that decision is sent all the same, and the connector judges it against the deal as it is
        boolean movedSinceLastDecision = previous != null
                && (!previous.getStatusId().toString().equals(status) || previous.getCanceled() != order.getCanceled())
                && !previous.getStatusId().toString().equals(link.getStatusId().toString());
        boolean stageConsistent = !moving && !movedSinceLastDecision && (cancelledStage.isPresent()
                ? cancelledStage.get().equals(linkedStage)
                : mapping.isConsistent(pipeline, linkedStage, status));
        if (stage.isPresent() && !stageConsistent) {
            fields.put(DealFields.STAGE_ID, stage.get());
        }
        boolean rowsChanged = false;
        if (ours) {
            Map<String, String> before = previous == null ? Map.of() : orderValues(previous, mapping);
            for (Map.Entry<String, String> field : desired.entrySet()) {
                if (Ownership.sourceChanged(link, field.getKey(), field.getValue())
                        || changed(before, field.getKey(), field.getValue())) {
                    fields.put(field.getKey(), field.getValue());
                }
            }
            String basketBefore = previous == null ? null : DealFields.productRowsDigest(productRows(previous.getItems()));
            rowsChanged = Ownership.rowsChanged(link, basket) || (basketBefore != null && !basketBefore.equals(basket));
        }
        if (fields.isEmpty() && !rowsChanged) {
            if (stage.isEmpty()) {
                return Decision.skip(unmapped(order, link, mapping, pipeline, now));
            }
            return Decision.skip(outcome(order, link, Outcome.UNCHANGED, mapping.version(), now,
                    "Order " + key + " (status " + status + ") is consistent with deal " + link.getDealId()
                            + " at stage " + linkedStage + " of pipeline " + link.getCategoryId()
                            + " under mapping version " + mapping.version() + "; nothing to write."));
        }
        return Decision.write(command.setKind(DealCommandKind.UPDATE)
                .setDealId(link.getDealId())
                .setFields(fields)
                .setDecidedOn(link)
                .setProductRows(rowsChanged ? rows : null)
                .build());
    }

    /**
     * An order deleted in the store: recorded on its deal's link by the connector, which leaves the deal alone unless
     * the mapping names a cancelled stage for the deal's pipeline ({@code cancelled}).
     */
    private Decision deleted(OrderChanged order, CompiledMapping mapping, SyncLink link, Instant now) {
        String key = Keys.order(order.getSiteId().toString(), order.getOrderId());
        if (link == null || link.getDealDeletedAt() != null || link.getOrderDeletedAt() != null) {
            return Decision.skip(outcome(order, link, Outcome.ORDER_DELETED, mapping.version(), now, "Order " + key
                    + " was deleted in the store" + (link == null || link.getDealDeletedAt() != null ? " and has no deal; nothing to do."
                    : "; this was recorded before, nothing to do.")));
        }
        Map<Long, String> cancelled = new LinkedHashMap<>();
        mapping.pipelines().forEach(pipeline -> mapping.cancelledStage(pipeline).ifPresent(stage -> cancelled.put(pipeline, stage)));
        return Decision.write(DealCommand.newBuilder()
                .setCommandId(UUID.randomUUID().toString())
                .setKind(DealCommandKind.UPDATE)
                .setSiteId(order.getSiteId())
                .setOrderId(order.getOrderId())
                .setDealId(link.getDealId())
                .setOriginatorId(originatorId(order.getSiteId().toString()))
                .setOrderStatusId(link.getStatusId().toString())
                .setStageByPipeline(DealFields.stageByPipeline(cancelled))
                .setOrderDeleted(true)
                .setDecidedOn(link)
                .setMappingVersion(mapping.version())
                .setSourceTime(order.getDateUpdate())
                .build());
    }

    /** The order's own value of every field DealBridge manages (see {@code DealCommand.orderValues}). */
    static Map<String, String> orderValues(OrderChanged order, CompiledMapping mapping) {
        return orderValues(desiredFields(order, mapping), mapping.pipelineFor(order.getItems()));
    }

    private static Map<String, String> orderValues(Map<String, String> desired, long picked) {
        Map<String, String> values = new LinkedHashMap<>(desired);
        values.put(Ownership.PIPELINE, Long.toString(picked));
        return values;
    }

    private static boolean changed(Map<String, String> before, String field, String now) {
        String was = before.get(field);
        return was != null && !was.equals(now);
    }

    private static SyncOutcome unmapped(OrderChanged order, SyncLink link, CompiledMapping mapping, long pipeline, Instant now) {
        String site = order.getSiteId().toString();
        return outcome(order, link, Outcome.SKIPPED_UNMAPPED_STATUS, mapping.version(), now,
                "Status " + order.getStatusId() + " of order " + Keys.order(site, order.getOrderId())
                        + " is not mapped to a stage of pipeline " + pipeline + " in mapping version " + mapping.version()
                        + " of site " + site + (link == null ? ", so the order gets no deal."
                        : ", so deal " + link.getDealId() + " is not updated."));
    }

    /** The stage of the order in each pipeline: its cancelled stage when cancelled and mapped, else its status's. */
    static Map<Long, String> stagesByPipeline(OrderChanged order, CompiledMapping mapping) {
        Map<Long, String> stages = new LinkedHashMap<>();
        String status = order.getStatusId().toString();
        for (long pipeline : mapping.pipelines()) {
            Optional<String> cancelled = order.getCanceled() ? mapping.cancelledStage(pipeline) : Optional.empty();
            (cancelled.isPresent() ? cancelled : mapping.stageFor(pipeline, status)).ifPresent(stage -> stages.put(pipeline, stage));
        }
        return stages;
    }

    /** ORIGINATOR_ID of DealBridge for a site. */
    public String originatorId(String siteId) {
        return originatorPrefix + ":" + siteId;
    }

    /** The fields compared on every change: title, amount, currency and the mapped custom fields. */
    static Map<String, String> desiredFields(OrderChanged order, CompiledMapping mapping) {
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put(DealFields.TITLE, mapping.dealTitle(text(order.getAccountNumber()), order.getOrderId()));
        fields.put(DealFields.OPPORTUNITY, DealFields.amount("price of order " + order.getOrderId(), order.getPrice()));
        fields.put(DealFields.CURRENCY_ID, order.getCurrency().toString());
        mapping.dealFields().forEach((orderField, userField) -> fields.put(userField, DealFields.orderFieldValue(order, orderField)));
        return fields;
    }

    static List<ProductRow> productRows(List<BasketItem> items) {
        List<ProductRow> rows = new ArrayList<>(items.size());
        for (BasketItem item : items) {
            rows.add(ProductRow.newBuilder()
                    .setProductId(item.getProductId())
                    .setName(item.getName())
                    .setPrice(DealFields.amount("price of product " + item.getProductId(), item.getPrice()))
                    .setQuantity(item.getQuantity())
                    .build());
        }
        return rows;
    }

    private static CharSequence lookup(Map<String, String> map, String key) {
        return map == null ? null : map.get(key);
    }

    private static String text(CharSequence value) {
        return value == null ? null : value.toString();
    }

    private static SyncOutcome outcome(OrderChanged order, SyncLink link, Outcome outcome, Long mappingVersion,
                                       Instant now, String reason) {
        return SyncOutcome.newBuilder()
                .setSiteId(order.getSiteId())
                .setOrderId(order.getOrderId())
                .setDealId(link == null ? null : link.getDealId())
                .setDirection(SyncDirection.ORDER_TO_DEAL)
                .setOutcome(outcome)
                .setReason(reason)
                .setMappingVersion(mappingVersion)
                .setAt(now)
                .build();
    }
}
