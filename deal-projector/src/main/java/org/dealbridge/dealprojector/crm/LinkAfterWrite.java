package org.dealbridge.dealprojector.crm;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dealbridge.dealprojector.topology.DealFields;
import org.dealbridge.mapping.LinkRevision;
import org.dealbridge.mapping.Ownership;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.LinkOrigin;
import org.dealbridge.schemas.MoveIntent;
import org.dealbridge.schemas.ProductRow;
import org.dealbridge.schemas.SyncLink;

/**
 * The record step of a deal command: the link ({@code deal-links}) the connector publishes once its writes are done —
 * what DealBridge has now written on the deal ({@code dealFields}) and the order's values now agreed
 * ({@code orderValues}), which the next decision about the pair checks the deal against ({@link Ownership}).
 */
public final class LinkAfterWrite {

    private LinkAfterWrite() {
    }

    /**
     * The link of a deal a CREATE adds (its id is filled in by {@link #withAddedId} once the add answers).
     *
     * @param sent the deal's fields as the add sent them: the order's values and the responsible are recorded
     * @param rows the product rows the add set
     */
    static SyncLink created(DealCommand c, Map<String, Object> sent, List<ProductRow> rows, Instant now) {
        Map<String, String> written = new LinkedHashMap<>();
        sent.forEach((k, v) -> {
            if (v instanceof String text && (c.getOrderValues().containsKey(k) || k.equals(DealFields.ASSIGNED_BY_ID))) {
                written.put(k, text);
            }
        });
        written.put(Ownership.STAGE, DealUpdatePlan.newDealStage(c));  // the add set it
        return created(c, written, DealFields.productRowsDigest(rows), now);
    }

    /**
     * The link of a deal a CREATE adds, with what DealBridge wrote on it (its id is 0 until the add answers).
     *
     * @param rowsDigest the digest of the rows the add set
     */
    public static SyncLink created(DealCommand c, Map<String, String> written, String rowsDigest, Instant now) {
        String status = c.getOrderStatusId();
        return SyncLink.newBuilder()
                .setSiteId(c.getSiteId())
                .setOrderId(c.getOrderId())
                .setDealId(0L)
                .setCategoryId(Long.parseLong(DealUpdatePlan.pickedPipeline(c)))
                .setStageId(DealUpdatePlan.newDealStage(c))
                .setStatusId(status == null ? "" : status)
                .setOrderVersion(c.getOrderVersion())
                .setDealFields(written)
                .setDealRowsDigest(rowsDigest)
                .setOrderValues(c.getOrderValues())
                .setOrderRowsDigest(Ownership.orderRows(c))
                .setOrigin(LinkOrigin.ORDER)
                .setRevision(LinkRevision.after(c.getDecidedOn()))  // none, or the deleted deal's under recreate
                .setUpdatedAt(now)
                .build();
    }

    static SyncLink withAddedId(SyncLink created, long dealId) {
        return SyncLink.newBuilder(created).setDealId(dealId).build();
    }

    /** The link after a linked deal's plan is written: what DealBridge has written on it, the order's values agreed. */
    public static SyncLink afterPlan(DealUpdatePlan.Plan plan, DealCommand c, SyncLink previous, long dealId,
                                     DealUpdatePlan.DealState deal, Instant now) {
        SyncLink.Builder b = previous == null ? SyncLink.newBuilder().setOrigin(LinkOrigin.ORDER) : SyncLink.newBuilder(previous);
        // a command of an order save the link has seen leaves the link's status (the newer) agreed
        String status = plan.statusSeen() ? previous.getStatusId().toString() : c.getOrderStatusId();
        Long orderVersion = Ownership.laterOrderSave(previous, c.getOrderVersion());
        String stageAfter = plan.stage() != null ? plan.stage() : deal.stageId();
        return b.setSiteId(c.getSiteId())
                .setOrderId(c.getOrderId())
                .setDealId(dealId)
                .setCategoryId(plan.moveTo() != null ? plan.moveTo() : deal.pipeline())
                .setStageId(stageAfter == null ? "" : stageAfter)
                .setStatusId(status == null ? "" : status)
                .setOrderVersion(orderVersion)
                .setDealFields(Ownership.afterWriting(previous, plan.written()))
                .setDealRowsDigest(Ownership.rowsAfterWriting(previous, plan.writtenRows()))
                .setOrderValues(c.getOrderValues())
                .setOrderRowsDigest(Ownership.orderRows(c))
                .setDealDeletedAt(null)
                .setOrderDeletedAt(c.getOrderDeleted() ? now : previous == null ? null : previous.getOrderDeletedAt())
                .setMoveIntent(intentLeft(previous, c))
                .setRevision(LinkRevision.afterDealWrite(previous))
                .setUpdatedAt(now)
                .build();
    }

    /**
     * The move intent a write leaves on the link: none once the command's own is done or judged; another command's is
     * carried over, since that command may still be executed again after this one (two moves of one poll, the first
     * replayed after a crash) and only it reads its intent.
     */
    private static MoveIntent intentLeft(SyncLink previous, DealCommand c) {
        MoveIntent intent = previous == null ? null : previous.getMoveIntent();
        return intent == null || intent.getCommandId().equals(c.getCommandId()) ? null : intent;
    }

    /** The link of an order whose deal was found deleted in the CRM: it unlinks the order. */
    static SyncLink dealDeleted(DealCommand c, Instant now) {
        SyncLink was = c.getDecidedOn() != null ? c.getDecidedOn() : SyncLink.newBuilder()
                .setSiteId(c.getSiteId()).setOrderId(c.getOrderId()).setDealId(c.getDealId()).setCategoryId(0)
                .setStageId("").setStatusId(c.getOrderStatusId() == null ? "" : c.getOrderStatusId())
                .setUpdatedAt(now).build();
        return SyncLink.newBuilder(was).setDealDeletedAt(now).setMoveIntent(null).setRevision(LinkRevision.after(c.getDecidedOn()))
                .setUpdatedAt(now).build();
    }

    /**
     * The link the CRM connector publishes (and commits) before the CRM call that moves a linked deal to another
     * pipeline: the link the command was judged on, with the move it is about to make ({@code moveIntent}), counted on
     * as a deal write ({@link LinkRevision#afterDealWrite}). So the command executed again after a crash that lost the
     * link of the move is judged with it
     * ({@code Ownership.moveIntent}).
     *
     * @param judgedOn the link the command was judged on
     * @param crmTime  the CRM's own time just before the call (never DealBridge's clock: it is compared with the deal's
     *                 {@code MOVED_TIME}), or null when the CRM's answers told none
     */
    public static SyncLink moveIntent(SyncLink judgedOn, String commandId, long fromPipeline, long toPipeline, Instant crmTime, Instant now) {
        return SyncLink.newBuilder(judgedOn)
                .setMoveIntent(MoveIntent.newBuilder().setCommandId(commandId).setFromPipeline(fromPipeline).setToPipeline(toPipeline)
                        .setCrmTime(crmTime).build())
                .setRevision(LinkRevision.afterDealWrite(judgedOn))
                .setUpdatedAt(now)
                .build();
    }

    /**
     * The link after a write, counted on from the move intent published before it rather than from the link both were
     * based on: otherwise the two would have equal revisions and the intent, whose time may read as the later, could
     * stand on {@code deal-links} as the newer link.
     */
    public static SyncLink after(SyncLink written, SyncLink intent) {
        return SyncLink.newBuilder(written).setRevision(LinkRevision.afterDealWrite(intent)).build();
    }
}
