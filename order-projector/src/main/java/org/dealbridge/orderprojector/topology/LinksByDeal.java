package org.dealbridge.orderprojector.topology;

import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
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
final class LinksByDeal implements Processor<String, SyncLink, Void, Void> {

    private KeyValueStore<String, SyncLink> links;

    static String dealKey(long dealId) {
        return "deal:" + Keys.deal(dealId);
    }

    static String orderKey(String orderKey) {
        return "order:" + orderKey;
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
        links = context.getStateStore(OrderProjectorTopology.LINKS_BY_DEAL_STORE);
    }

    @Override
    public void process(Record<String, SyncLink> record) {
        if (record.key() == null) {
            return;  // a link without an order key cannot be joined to anything
        }
        SyncLink previous = links.get(orderKey(record.key()));
        SyncLink link = record.value();
        if (link == null || link.getDealId() <= 0) {
            if (previous != null) {
                links.delete(dealKey(previous.getDealId()));
            }
            links.delete(orderKey(record.key()));
            return;
        }
        if (previous != null && previous.getDealId() != link.getDealId()) {
            links.delete(dealKey(previous.getDealId()));
        }
        links.put(orderKey(record.key()), link);
        links.put(dealKey(link.getDealId()), link);
    }
}
