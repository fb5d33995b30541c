package org.dealbridge.dealprojector.topology;

import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.dealbridge.schemas.SyncLink;

/** Keeps the latest link of each order (from the compacted {@code deal-links} topic) where the projector reads it. */
final class LinkRecorder implements Processor<String, SyncLink, Void, Void> {

    private KeyValueStore<String, SyncLink> links;

    @Override
    public void init(ProcessorContext<Void, Void> context) {
        links = context.getStateStore(DealProjectorTopology.LINKS_STORE);
    }

    @Override
    public void process(Record<String, SyncLink> record) {
        if (record.key() == null) {
            return;  // a link without an order key cannot be joined to any order
        }
        if (record.value() == null) {
            links.delete(record.key());
        } else {
            links.put(record.key(), record.value());
        }
    }
}
