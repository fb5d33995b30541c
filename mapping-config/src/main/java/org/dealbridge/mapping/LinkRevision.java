package org.dealbridge.mapping;

import org.dealbridge.schemas.SyncLink;

/**
 * Which of two links of one order is newer, without comparing the clocks of the DealBridge instances that wrote them.
 *
 * <p>A link is written by the CRM connector, the store connector and the projectors, possibly on different machines
 * whose clocks differ by seconds or minutes; a link from an instance whose clock is behind would read as older than the
 * link it was based on. So every write counts on from the link it was based on ({@link #after}), as a Lamport clock
 * does, and {@link #isNewer} compares those counts. Only two writes based on the same link (concurrent, neither knew
 * the other) have equal counts; their {@code updatedAt} then decides, as any order between them is a fair one.
 */
public final class LinkRevision {
    private LinkRevision() {
    }

    /** The revision of a link written on the basis of {@code basedOn} (none: the first). */
    public static long after(SyncLink basedOn) {
        return basedOn == null ? 1 : basedOn.getRevision() + 1;
    }

    /** True when {@code link} was written after {@code than} (by count of writes; concurrent ones by time). */
    public static boolean isNewer(SyncLink link, SyncLink than) {
        if (link.getRevision() != than.getRevision()) {
            return link.getRevision() > than.getRevision();
        }
        return link.getUpdatedAt().isAfter(than.getUpdatedAt());
    }
}
