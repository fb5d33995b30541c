package org.dealbridge.dealprojector.crm;

import java.util.LinkedHashMap;
import java.util.Map;
import org.dealbridge.dealprojector.topology.DealFields;
import org.dealbridge.mapping.LinkRevision;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.DealCommandKind;
import org.dealbridge.schemas.SyncLink;

/**
 * The link a command is checked against: the freshest one the connector knows.
 *
 * <p>The projector decides against the link it has read back from {@code deal-links}, which can lag behind the writes
 * this connector made since (most of all under load, or when a broker is lost and links arrive late). Checked against
 * that stale link, DealBridge's own previous write looks like a person's change. So when the connector itself
 * published a newer link for the order, the command is checked against that link instead; and a CREATE for an order
 * whose deal this connector already made (the store poller re-read the order before its link came back) becomes an
 * UPDATE of that deal, so a person's change made meanwhile is judged as one. A command decided before the connector
 * learnt that the deal was deleted writes nothing (a CREATE only recreates the deal when it was decided knowing of the
 * deletion, under {@code deals.onDeleted: recreate}).
 *
 * <p>"Newer" is {@link LinkRevision}'s: by the count of writes, so a link the store connector wrote on another machine
 * whose clock is behind still reads as newer than the one it was based on.
 */
public final class FreshestLink {
    private FreshestLink() {
    }

    /** The command, checked against {@code own} when that link is newer than the one the command was decided on. */
    public static DealCommand apply(DealCommand command, SyncLink own) {
        if (own == null || own.getDealId() <= 0) {
            return command;
        }
        if (own.getDealDeletedAt() != null) {
            SyncLink decidedOn = command.getDecidedOn();
            if (command.getKind() == DealCommandKind.CREATE && decidedOn != null && decidedOn.getDealDeletedAt() != null) {
                return command;  // decided knowing of the deletion: deals.onDeleted = recreate
            }
            // decided before the deletion was known (the order's link had not reached the projector): the deal is gone,
            // and a CREATE must not make a second one behind deals.onDeleted's back
            return DealCommand.newBuilder(command).setKind(DealCommandKind.UPDATE).setDealId(own.getDealId())
                    .setDecidedOn(own).build();
        }
        if (command.getKind() == DealCommandKind.CREATE) {
            Map<String, String> fields = new LinkedHashMap<>(command.getFields());
            fields.remove(DealFields.ORIGINATOR_ID);
            fields.remove(DealFields.ORIGIN_ID);
            fields.remove(DealFields.ASSIGNED_BY_ID);  // a new deal's responsible only
            fields.remove(DealFields.IS_MANUAL_OPPORTUNITY);
            return DealCommand.newBuilder(command)
                    .setKind(DealCommandKind.UPDATE)
                    .setDealId(own.getDealId())
                    .setFields(fields)
                    .setBuyer(null)
                    .setResolveResponsibleFromContact(false)
                    .setDecidedOn(own)
                    .build();
        }
        SyncLink decidedOn = command.getDecidedOn();
        if (command.getDealId() == null || own.getDealId() != command.getDealId()
                || (decidedOn != null && !LinkRevision.isNewer(own, decidedOn))) {
            return command;
        }
        return DealCommand.newBuilder(command).setDecidedOn(own).build();
    }
}
