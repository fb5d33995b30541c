package org.dealbridge.dealprojector.crm;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.DealCommandKind;

/**
 * The commands of one poll, one per order: commands for the same order are folded in arrival order (the latest
 * value of a field wins, a CREATE followed by UPDATEs stays a CREATE), so one order gets one write per poll and its
 * commands are never reordered. Orders keep the order in which their first command arrived.
 */
public final class CommandsPerOrder {

    private final Map<String, DealCommand> byOrder = new LinkedHashMap<>();

    public void add(String orderKey, DealCommand command) {
        byOrder.merge(orderKey, command, CommandsPerOrder::fold);
    }

    public List<DealCommand> commands() {
        return new ArrayList<>(byOrder.values());
    }

    public boolean isEmpty() {
        return byOrder.isEmpty();
    }

    /** One command with the effect of {@code earlier} then {@code later}. */
    static DealCommand fold(DealCommand earlier, DealCommand later) {
        if (later.getKind() == DealCommandKind.CREATE) {
            // a CREATE carries the whole state; only a buyer already known is kept
            return DealCommand.newBuilder(later)
                    .setBuyer(later.getBuyer() != null ? later.getBuyer() : earlier.getBuyer())
                    .setSourceTime(min(earlier, later))
                    .build();
        }
        // a later UPDATE is whole against the link it was decided on: its fields and rows replace the earlier's (a
        // value changed and changed back must not keep the earlier value); after a CREATE, the CREATE's fields stay
        // and the later values win
        Map<String, String> fields = new LinkedHashMap<>(later.getFields());
        if (earlier.getKind() == DealCommandKind.CREATE) {
            fields = new LinkedHashMap<>(earlier.getFields());
            fields.putAll(later.getFields());
        }
        return DealCommand.newBuilder(later)
                .setKind(earlier.getKind())
                .setDealId(later.getDealId() != null ? later.getDealId() : earlier.getDealId())
                .setFields(fields)
                .setProductRows(later.getProductRows() != null || earlier.getKind() != DealCommandKind.CREATE
                        ? later.getProductRows() : earlier.getProductRows())
                .setBuyer(later.getBuyer() != null ? later.getBuyer() : earlier.getBuyer())
                .setResolveResponsibleFromContact(earlier.getResolveResponsibleFromContact() || later.getResolveResponsibleFromContact())
                .setDecidedOn(earlier.getKind() == DealCommandKind.CREATE ? null
                        : later.getDecidedOn() != null ? later.getDecidedOn() : earlier.getDecidedOn())
                .setSourceTime(min(earlier, later))
                .build();
    }

    private static java.time.Instant min(DealCommand a, DealCommand b) {
        return a.getSourceTime().isBefore(b.getSourceTime()) ? a.getSourceTime() : b.getSourceTime();
    }
}
