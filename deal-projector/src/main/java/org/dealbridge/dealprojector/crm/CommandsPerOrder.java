package org.dealbridge.dealprojector.crm;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dealbridge.dealprojector.topology.DealFields;
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
        Map<String, String> fields = new LinkedHashMap<>(earlier.getFields());
        fields.putAll(later.getFields());
        // the deal still has what the earlier command expected, as that write has not happened yet
        Map<String, String> expected = new LinkedHashMap<>(later.getExpected());
        expected.putAll(earlier.getExpected());
        later.getExpected().forEach((key, value) -> {
            if (DealFields.isBookkeeping(key)) {
                expected.put(key, value);  // bookkeeping: the latest decision's
            }
        });
        if (earlier.getKind() == DealCommandKind.CREATE) {
            expected.keySet().removeIf(key -> !DealFields.isBookkeeping(key));  // nothing to check on a deal not yet made
        }
        return DealCommand.newBuilder(later)
                .setKind(earlier.getKind())
                .setDealId(later.getDealId() != null ? later.getDealId() : earlier.getDealId())
                .setFields(fields)
                .setExpected(expected)
                .setProductRows(later.getProductRows() != null ? later.getProductRows() : earlier.getProductRows())
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
