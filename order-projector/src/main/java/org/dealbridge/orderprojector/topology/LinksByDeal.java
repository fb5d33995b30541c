package org.dealbridge.orderprojector.topology;

import org.dealbridge.mapping.LinkFeeder;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.SyncLink;

/**
 * Feeds the global store of links from the compacted {@code deal-links} topic (keyed by order key). A global store
 * rather than a repartition: every instance needs every link, a deal event may arrive on any task, and the store is
 * rebuilt from the topic through this same processor on start.
 *
 * <p>The store holds each link twice: under {@code deal:{dealId}} (what the projector looks up) and under
 * {@code order:{siteId}:{orderId}}, so that a tombstone, which names only the order, and a re-link of an order to
 * another deal both retire the old deal's entry without a scan. An order has one deal.
 */
final class LinksByDeal extends LinkFeeder {

    LinksByDeal() {
        super(OrderProjectorTopology.LINKS_BY_DEAL_STORE);
    }

    static String dealKey(long dealId) {
        return "deal:" + Keys.deal(dealId);
    }

    static String orderKey(String orderKey) {
        return "order:" + orderKey;
    }

    @Override
    protected void apply(String orderKey, SyncLink link) {
        SyncLink previous = links.get(orderKey(orderKey));
        if (link == null || link.getDealId() <= 0) {
            if (previous != null) {
                links.delete(dealKey(previous.getDealId()));
            }
            links.delete(orderKey(orderKey));
            return;
        }
        if (previous != null && previous.getDealId() != link.getDealId()) {
            links.delete(dealKey(previous.getDealId()));
        }
        links.put(orderKey(orderKey), link);
        links.put(dealKey(link.getDealId()), link);
    }
}
