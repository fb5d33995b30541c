package org.dealbridge.dealprojector.crm;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.dealbridge.dealprojector.topology.DealFields;
import org.dealbridge.mapping.Ownership;
import org.dealbridge.mapping.PairDecision;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.LinkOrigin;
import org.dealbridge.schemas.SyncLink;

/**
 * A deal a CREATE found by its origin (an earlier add went through but its answer was lost, or a replay), and the
 * link {@link DealUpdatePlan} decides against in place of the one the command has not got.
 *
 * <p>Whether a person has touched the deal since DealBridge added it is read from the deal itself ({@link DealReads#found}):
 * untouched, the deal's values are DealBridge's own and the order's are written; touched, the person's values stand
 * (the stage by {@link PairDecision}: nothing agreed, so the later change wins).
 *
 * @param values         the command's order fields as the deal has them
 * @param editedByPerson {@code MODIFY_BY_ID} is somebody other than DealBridge's webhook user
 * @param movedByPerson  {@code MOVED_BY_ID} is somebody other than DealBridge's webhook user
 */
record FoundDeal(long id, long pipeline, String stageId, Map<String, String> values, boolean editedByPerson,
                 boolean movedByPerson) {

    /** What DealBridge wrote and agreed as far as the deal tells: the link to decide the command against. */
    SyncLink decidedAgainst(DealCommand c) {
        Map<String, String> written = new LinkedHashMap<>();
        if (editedByPerson) {
            // what DealBridge's add carried: the order's values, which a person has since changed or not
            c.getOrderValues().forEach((field, value) -> {
                if (!field.equals(Ownership.PIPELINE)) {
                    written.put(field, value);
                }
            });
            written.put(Ownership.PIPELINE, c.getFields().getOrDefault(DealFields.CATEGORY_ID, Long.toString(pipeline)));
        } else {
            values.forEach((field, value) -> {
                if (!field.equals(Ownership.PIPELINE)) {
                    written.put(field, value);
                }
            });
            written.put(Ownership.PIPELINE, Long.toString(pipeline));
        }
        return SyncLink.newBuilder()
                .setSiteId(c.getSiteId())
                .setOrderId(c.getOrderId())
                .setDealId(id)
                .setCategoryId(pipeline)
                .setStageId(movedByPerson || stageId == null ? "" : stageId)
                .setStatusId("")
                .setDealFields(written)
                .setDealRowsDigest(editedByPerson ? Ownership.orderRows(c) : null)
                .setOrderValues(editedByPerson ? written : Map.of())
                .setOrderRowsDigest(editedByPerson ? Ownership.orderRows(c) : null)
                .setOrigin(LinkOrigin.ORDER)
                .setUpdatedAt(Instant.EPOCH)
                .build();
    }
}
