package org.dealbridge.dealprojector.crm;

import java.util.LinkedHashMap;
import java.util.Map;
import org.dealbridge.dealprojector.topology.DealFields;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.SyncLink;

/**
 * The last consistent state a command is checked against, taken from the freshest link the connector knows.
 *
 * <p>The projector decides against the link it has read back from {@code deal-links}, which can lag behind the writes
 * this connector made since (most of all when a broker is lost and links arrive late). Checked against that stale link,
 * the deal's current stage — DealBridge's own previous write — looks like a manager's change made since, the pair
 * decision lets "the CRM" win, and the order's newer status is never written. So when the connector itself published
 * a newer link for the order, the command's expected values and agreed state are taken from that link instead.
 */
final class FreshestLink {
    private FreshestLink() {
    }

    /** The command, checked against {@code own} when that link is newer than the one the command was decided on. */
    static DealCommand apply(DealCommand command, SyncLink own) {
        if (own == null || command.getDealId() == null || own.getDealId() != command.getDealId()) {
            return command;
        }
        Map<String, String> expected = command.getExpected();
        String decidedOn = expected.get(DealFields.LINK_UPDATED_AT);
        long ownAt = own.getUpdatedAt().toEpochMilli();
        if (decidedOn == null || Long.parseLong(decidedOn) >= ownAt) {
            return command;
        }
        Map<String, String> fresher = new LinkedHashMap<>(expected);
        if (fresher.containsKey(DealFields.STAGE_ID)) {
            fresher.put(DealFields.STAGE_ID, own.getStageId());
            fresher.put(DealFields.AGREED_STATUS, own.getStatusId());
        }
        if (fresher.containsKey(DealFields.CATEGORY_ID)) {
            fresher.put(DealFields.CATEGORY_ID, Long.toString(own.getCategoryId()));
        }
        own.getDealFields().forEach((field, value) -> {
            if (fresher.containsKey(field) && !DealFields.isBookkeeping(field)) {
                fresher.put(field, value);
            }
        });
        fresher.put(DealFields.LINK_UPDATED_AT, Long.toString(ownAt));
        return DealCommand.newBuilder(command).setExpected(fresher).build();
    }
}
