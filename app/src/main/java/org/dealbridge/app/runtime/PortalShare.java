package org.dealbridge.app.runtime;

import org.dealbridge.bitrix.PortalRateLimiter;
import org.dealbridge.connector.CommandConnector;
import org.dealbridge.ingestion.PollerLeadership;

/**
 * This instance's share of one portal's rate budget, when several instances of one installation call it (the budget is
 * per portal, not per process). The rule: the portal's work is counted in units, one per partition of the commands topic
 * of the connector that writes to the portal ({@code deal-commands} for the CRM, {@code order-commands} for the store)
 * and one for the poller that reads it; an instance's share is the units it holds now over all units. Every partition
 * is owned by one instance and one instance leads the poller, so the shares add up to 1 and the instances together never
 * exceed the portal's rate; a single instance holds every unit and spends the whole budget, as before. The share is
 * recomputed on every rebalance of either group. The hooks' reads (on every instance) and the connector's reads of the
 * other side are spent from the same share: they grow with the instance's work.
 *
 * <p>An instance that holds no unit (more instances than partitions, or between a start and its first assignment) has
 * share 0, and its portal calls wait: its hook still accepts events, which the poller covers as ever.
 */
final class PortalShare implements CommandConnector.AssignmentListener, PollerLeadership.Listener {
    private final PortalRateLimiter limiter;
    // guarded by this
    private int ownedPartitions;
    private int totalPartitions;
    private boolean leadsPoller;

    /** Share 0 until the first assignment or election. */
    PortalShare(PortalRateLimiter limiter) {
        this.limiter = limiter;
        apply();
    }

    @Override
    public synchronized void assigned(int owned, int total) {
        ownedPartitions = owned;
        if (total > 0) {  // 0: the run ended, the topic still has its partitions
            totalPartitions = total;
        }
        apply();
    }

    @Override
    public synchronized void elected() {
        leadsPoller = true;
        apply();
    }

    @Override
    public synchronized void deposed() {
        leadsPoller = false;
        apply();
    }

    private void apply() {
        int units = ownedPartitions + (leadsPoller ? 1 : 0);
        limiter.share((double) units / (totalPartitions + 1));
    }
}
