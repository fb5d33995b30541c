package org.dealbridge.dealprojector.crm;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.DealCommandKind;
import org.dealbridge.schemas.SyncLink;

/**
 * The commands of one poll, per order, in waves: the first command of every order, then the second, and so on, so
 * one order gets one write per wave and its commands are never reordered. Commands of an order are folded into a
 * CREATE (a CREATE followed by UPDATEs stays a CREATE; a CREATE after an UPDATE carries the whole state and replaces
 * it), since a CREATE that finds its deal decides against the deal as it is ({@link FoundDeal}). An UPDATE that
 * follows an UPDATE is not folded but waits for the next wave: the earlier one may be a replay of a write made before
 * a crash whose link was lost, and folded they would be judged against the older link, the replayed write's values
 * on the deal reading as a person's. Run first, the replay records what it finds, and the next is judged against that.
 * A CREATE after a CREATE waits for the next wave too: the first may be the replay of an add that went through but
 * whose link was lost, and the deal it finds is judged as holding what its add carried (FoundDeal), not what the later
 * CREATE carries; run first, it records that, and the later one is then the UPDATE of that deal (FreshestLink).
 * A CREATE for a deal the connector knows it made ({@link FreshestLink}: the projector decided it before the deal's link
 * came back) is executed as an UPDATE of that deal, so it is folded as one, never into or over the commands around it:
 * it may be the replay (OwnershipPropertyTest seed 11, history 318: a CREATE run alone as an UPDATE wrote the amount
 * and rows of its basket, the process died before its commit, and the replay folded it into the order's next CREATE;
 * judged on the add's link, the replayed amount and rows read as a person's and the latest basket was never written).
 * Orders keep the order in which their first command arrived.
 */
public final class CommandsPerOrder {

    /** A command to write and the positions (in the order of {@link #add}) of the first and last commands folded into it. */
    public record Pending(DealCommand command, int first, int last) {
    }

    private final Map<String, List<Pending>> byOrder = new LinkedHashMap<>();
    private int added;

    /**
     * @param own the connector's own latest link of the order, or null: the command is folded as it will be executed on
     *            it ({@link FreshestLink#apply}), a CREATE for the deal it links as an UPDATE
     */
    public void add(String orderKey, DealCommand command, SyncLink own) {
        add(orderKey, FreshestLink.apply(command, own));
    }

    private void add(String orderKey, DealCommand command) {
        List<Pending> chain = byOrder.computeIfAbsent(orderKey, k -> new ArrayList<>());
        int position = added++;
        if (chain.isEmpty()) {
            chain.add(new Pending(command, position, position));
            return;
        }
        Pending tail = chain.get(chain.size() - 1);
        if (command.getKind() == DealCommandKind.CREATE ^ tail.command().getKind() == DealCommandKind.CREATE) {
            chain.set(chain.size() - 1, new Pending(fold(tail.command(), command), tail.first(), position));
        } else {
            chain.add(new Pending(command, position, position));
        }
    }

    /** The waves to write one after the other: the n-th wave holds the n-th command of every order that has one. */
    public List<List<Pending>> waves() {
        List<List<Pending>> waves = new ArrayList<>();
        for (List<Pending> chain : byOrder.values()) {
            for (int i = 0; i < chain.size(); i++) {
                if (waves.size() == i) {
                    waves.add(new ArrayList<>());
                }
                waves.get(i).add(chain.get(i));
            }
        }
        return waves;
    }

    public boolean isEmpty() {
        return byOrder.isEmpty();
    }

    /** One command with the effect of {@code earlier} then {@code later}, one of them a CREATE. */
    static DealCommand fold(DealCommand earlier, DealCommand later) {
        if (later.getKind() == DealCommandKind.CREATE) {
            // a CREATE carries the whole state; only a buyer already known is kept
            return DealCommand.newBuilder(later)
                    .setBuyer(later.getBuyer() != null ? later.getBuyer() : earlier.getBuyer())
                    .setSourceTime(min(earlier, later))
                    .build();
        }
        // a CREATE followed by an UPDATE: the CREATE's fields stay and the later values win; its order values (the
        // latest order's) decide the pipeline and every field (DealUpdatePlan.pickedPipeline)
        Map<String, String> fields = new LinkedHashMap<>(earlier.getFields());
        fields.putAll(later.getFields());
        return DealCommand.newBuilder(later)
                .setKind(earlier.getKind())
                .setDealId(later.getDealId() != null ? later.getDealId() : earlier.getDealId())
                .setFields(fields)
                .setProductRows(later.getProductRows() != null ? later.getProductRows() : earlier.getProductRows())
                .setBuyer(later.getBuyer() != null ? later.getBuyer() : earlier.getBuyer())
                .setResolveResponsibleFromContact(earlier.getResolveResponsibleFromContact() || later.getResolveResponsibleFromContact())
                .setDecidedOn(null)
                .setSourceTime(min(earlier, later))
                .build();
    }

    private static java.time.Instant min(DealCommand a, DealCommand b) {
        return a.getSourceTime().isBefore(b.getSourceTime()) ? a.getSourceTime() : b.getSourceTime();
    }
}
