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

    /**
     * The revision of a link the CRM connector writes for a deal write (or the intent before one) on the basis of
     * {@code basedOn}: two more, not one. Two writes based on one link are concurrent, and their times decide which
     * stands; but they are not alike. The CRM connector's link carries what DealBridge wrote on the deal (its fields,
     * pipeline, rows, a move's intent), which nothing else knows; the store connector's carries an agreement on the
     * status, copying the rest from a link that may be stale by then. Had the agreement stood, a person's value would
     * later be read where DealBridge's stood and a move of DealBridge's be made again over a manager's (the
     * 10 000-order crash loop, seed 67881710880229, order 5553). Counting two, a deal write always reads as the newer
     * of such a pair in every view ordered by revision; an agreement lost this way is found again as a conflict and
     * decided by the store connector ({@code RECONCILE}). Writes in sequence stay ordered as before.
     */
    public static long afterDealWrite(SyncLink basedOn) {
        return after(basedOn) + 1;
    }

    /**
     * True when a view of {@code deal-links} that holds {@code current} for an order takes {@code incoming} in its place:
     * unless {@code incoming} counts fewer writes. The topic is in order of arrival, not of revision: an agreement the
     * store connector based on the same link as a deal write of the CRM connector can arrive after it, and taken as the
     * latest it hid what DealBridge wrote on the deal from the projectors and the store connector (see
     * {@link #afterDealWrite}). Equal counts (the same record read again, or two concurrent writes) take the later
     * arrival, as a view did before revisions; links from before revisions all count 0.
     */
    public static boolean supersedes(SyncLink incoming, SyncLink current) {
        return current == null || incoming.getRevision() >= current.getRevision();
    }

    /** True when {@code link} was written after {@code than} (by count of writes; concurrent ones by time). */
    public static boolean isNewer(SyncLink link, SyncLink than) {
        if (link.getRevision() != than.getRevision()) {
            return link.getRevision() > than.getRevision();
        }
        return link.getUpdatedAt().isAfter(than.getUpdatedAt());
    }
}
