package org.dealbridge.orderprojector.topology;

import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.SyncLink;

/**
 * Feeds the global store of links by deal id from the compacted {@code deal-links} topic (keyed by order key). A
 * global store rather than a repartition: every instance needs every link, a deal event may arrive on any task, and
 * the store is rebuilt from the topic through this same processor on start.
 */
final class LinksByDeal implements Processor<String, SyncLink, Void, Void> {

    private KeyValueStore<String, SyncLink> links;

    @Override
    public void init(ProcessorContext<Void, Void> context) {
        links = context.getStateStore(OrderProjectorTopology.LINKS_BY_DEAL_STORE);
    }

    @Override
    public void process(Record<String, SyncLink> record) {
        SyncLink link = record.value();
        if (link == null) {
            if (record.key() != null) {
                removeOrder(record.key());
            }
            return;
        }
        if (link.getDealId() <= 0) {
            return;  // not a link to any deal
        }
        links.put(Keys.deal(link.getDealId()), link);
    }

    /** A tombstone names the order, not the deal: drop whichever deal points at that order. */
    private void removeOrder(String orderKey) {
        List<String> deals = new ArrayList<>();
        try (KeyValueIterator<String, SyncLink> all = links.all()) {
            all.forEachRemaining(entry -> {
                SyncLink link = entry.value;
                if (orderKey.equals(link.getSiteId() + ":" + link.getOrderId())) {
                    deals.add(entry.key);
                }
            });
        }
        deals.forEach(links::delete);
    }
}
