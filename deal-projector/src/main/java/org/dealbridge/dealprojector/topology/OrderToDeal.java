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
import org.dealbridge.mapping.OrderFromDeal;
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
 *       never gets a new one. Its pipeline is left as it is (the deal is where the order came from); the command
 *       carries the order status's stage in every pipeline ({@link DealFields#STAGE_BY_PIPELINE}) and the connector,
 *       which reads the deal, decides the stage with {@code PairDecision} (no link: the later change wins); its other
 *       fields are brought to the order's values;</li>
 *   <li><b>command</b>: CREATE without a link; else UPDATE with only the fields that differ from what the link says
 *       the deal has, each with the value it expects to replace (no blind overwrite); nothing differing →
 *       {@link Outcome#UNCHANGED}.</li>
 * </ul>
 * Bookkeeping for the connector travels in {@code expected} under keys starting with '@' ({@link DealFields#ORDER_STATUS},
 * {@link DealFields#PRODUCT_ROWS_DIGEST}); the connector neither sends nor checks those.
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
    public Decision decide(OrderChanged order, CompiledMapping mapping, SyncLink link, Instant now) {
        String site = order.getSiteId().toString();
        String key = Keys.order(site, order.getOrderId());
        if (mapping == null) {
            return Decision.skip(outcome(order, link, Outcome.SKIPPED_NO_MAPPING, null, now,
                    "No mapping is published for site " + site + ", so order " + key + " is not synced"
                            + (link == null ? " and gets no deal." : " and deal " + link.getDealId() + " is left as it is.")));
        }
        long pipeline = mapping.pipelineFor(order.getItems());
        String status = order.getStatusId().toString();
        Optional<String> cancelledStage = order.getCanceled() ? mapping.cancelledStage(pipeline) : Optional.empty();
        Optional<String> stage = cancelledStage.isPresent() ? cancelledStage : mapping.stageFor(pipeline, status);
        if (stage.isEmpty()) {
            return Decision.skip(outcome(order, link, Outcome.SKIPPED_UNMAPPED_STATUS, mapping.version(), now,
                    "Status " + status + " of order " + key + " is not mapped to a stage of pipeline " + pipeline
                            + " in mapping version " + mapping.version() + " of site " + site
                            + (link == null ? ", so the order gets no deal." : ", so deal " + link.getDealId() + " is not updated.")));
        }
        Map<String, String> desired = desiredFields(order, mapping);
        List<ProductRow> rows = productRows(order.getItems());
        DealCommand.Builder command = DealCommand.newBuilder()
                .setCommandId(UUID.randomUUID().toString())
                .setSiteId(site)
                .setOrderId(order.getOrderId())
                .setOriginatorId(originatorId(site))
                .setMappingVersion(mapping.version())
                .setSourceTime(order.getDateUpdate());
        OptionalLong madeFrom = link == null ? OrderFromDeal.dealId(order.getXmlId()) : OptionalLong.empty();
        if (madeFrom.isPresent()) {
            return Decision.write(adopt(command, madeFrom.getAsLong(), status, stagesByPipeline(order, mapping), desired, rows));
        }
        if (link == null) {
            Map<String, String> fields = new LinkedHashMap<>();
            fields.put(DealFields.TITLE, mapping.dealTitle(text(order.getAccountNumber()), order.getOrderId()));
            fields.put(DealFields.CATEGORY_ID, Long.toString(pipeline));
            fields.put(DealFields.STAGE_ID, stage.get());
            fields.put(DealFields.ASSIGNED_BY_ID, Long.toString(mapping.responsibleFor(pipeline)));
            fields.put(DealFields.IS_MANUAL_OPPORTUNITY, "Y");  // the order total includes delivery: rows must not recompute it
            fields.put(DealFields.ORIGINATOR_ID, originatorId(site));
            fields.put(DealFields.ORIGIN_ID, Long.toString(order.getOrderId()));
            fields.putAll(desired);
            return Decision.write(command.setKind(DealCommandKind.CREATE)
                    .setFields(fields)
                    .setExpected(Map.of(DealFields.ORDER_STATUS, status))
                    .setProductRows(rows)
                    .setBuyer(order.getBuyer())
                    .setResolveResponsibleFromContact(mapping.contactOwner())
                    .build());
        }

        Map<String, String> fields = new LinkedHashMap<>();
        Map<String, String> expected = new LinkedHashMap<>();
        boolean samePipeline = link.getCategoryId() == pipeline;
        String linkedStage = link.getStageId().toString();
        // consistency, not equality: the deal's stage stands when the order's status maps to it
        boolean stageConsistent = samePipeline && (cancelledStage.isPresent()
                ? cancelledStage.get().equals(linkedStage)
                : mapping.isConsistent(pipeline, linkedStage, status));
        if (!samePipeline) {
            fields.put(DealFields.CATEGORY_ID, Long.toString(pipeline));
            expected.put(DealFields.CATEGORY_ID, Long.toString(link.getCategoryId()));
        }
        if (!stageConsistent) {
            fields.put(DealFields.STAGE_ID, stage.get());
            expected.put(DealFields.STAGE_ID, linkedStage);
            expected.put(DealFields.AGREED_STATUS, link.getStatusId().toString());
        }
        expected.put(DealFields.LINK_UPDATED_AT, Long.toString(link.getUpdatedAt().toEpochMilli()));
        Map<String, String> written = link.getDealFields();
        desired.forEach((field, value) -> {
            CharSequence last = lookup(written, field);
            if (last == null || !last.toString().equals(value)) {
                fields.put(field, value);
                if (last != null) {
                    expected.put(field, last.toString());
                }
            }
        });
        CharSequence lastRows = lookup(written, DealFields.PRODUCT_ROWS_DIGEST);
        boolean rowsDiffer = lastRows == null || !lastRows.toString().equals(DealFields.productRowsDigest(rows));
        if (fields.isEmpty() && !rowsDiffer) {
            return Decision.skip(outcome(order, link, Outcome.UNCHANGED, mapping.version(), now,
                    "Order " + key + " (status " + status + ") is consistent with deal " + link.getDealId()
                            + " at stage " + linkedStage + " of pipeline " + link.getCategoryId()
                            + " under mapping version " + mapping.version() + "; nothing to write."));
        }
        expected.put(DealFields.ORDER_STATUS, status);
        if (!rowsDiffer) {
            expected.put(DealFields.PRODUCT_ROWS_DIGEST, lastRows.toString());  // carried into the next link as is
        }
        return Decision.write(command.setKind(DealCommandKind.UPDATE)
                .setDealId(link.getDealId())
                .setFields(fields)
                .setExpected(expected)
                .setProductRows(rowsDiffer ? rows : null)
                .build());
    }

    /**
     * The UPDATE of an order made from a deal whose link has not arrived: what a link with no recorded deal fields
     * would give (every field compared is sent, with no expected value), minus pipeline and stage: only the
     * connector's read of the deal tells its pipeline, so the stage travels per pipeline.
     */
    private static DealCommand adopt(DealCommand.Builder command, long dealId, String status,
                                     Map<Long, String> stagesByPipeline, Map<String, String> desired, List<ProductRow> rows) {
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put(DealFields.ORDER_STATUS, status);
        if (!stagesByPipeline.isEmpty()) {
            expected.put(DealFields.STAGE_BY_PIPELINE, DealFields.stageByPipeline(stagesByPipeline));
        }
        return command.setKind(DealCommandKind.UPDATE)
                .setDealId(dealId)
                .setFields(new LinkedHashMap<>(desired))
                .setExpected(expected)
                .setProductRows(rows)
                .build();
    }

    /** The stage of the order in each pipeline: its cancelled stage when cancelled and mapped, else its status's. */
    private static Map<Long, String> stagesByPipeline(OrderChanged order, CompiledMapping mapping) {
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
