package org.dealbridge.mapping;

import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.dealbridge.schemas.SyncLink;

/**
 * Feeds a projector's store of links from the compacted {@code deal-links} topic (key: the order key; a tombstone
 * unlinks the order). Each direction indexes links its own way ({@link #apply}); a record without a key cannot be
 * joined to anything and is passed over.
 */
public abstract class LinkFeeder implements Processor<String, SyncLink, Void, Void> {
    private final String storeName;
    protected KeyValueStore<String, SyncLink> links;

    protected LinkFeeder(String storeName) {
        this.storeName = storeName;
    }

    @Override
    public final void init(ProcessorContext<Void, Void> context) {
        links = context.getStateStore(storeName);
    }

    @Override
    public final void process(Record<String, SyncLink> record) {
        if (record.key() != null) {
            apply(record.key(), record.value());
        }
    }

    /** Records the order's latest link, or its removal when {@code link} is null. */
    protected abstract void apply(String orderKey, SyncLink link);
}
