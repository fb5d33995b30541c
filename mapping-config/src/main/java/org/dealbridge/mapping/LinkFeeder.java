package org.dealbridge.mapping;

import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.dealbridge.schemas.SyncLink;

/**
 * Feeds a projector's store of links from the compacted {@code deal-links} topic (key: the order key; a tombstone
 * unlinks the order). Each direction indexes links its own way ({@link #apply}); a record without a key cannot be
 * joined to anything and is passed over, and so is a link that counts fewer writes than the one the store holds
 * ({@link LinkRevision#supersedes}): the topic is in order of arrival, the store in order of revision.
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
        if (record.key() == null) {
            return;
        }
        SyncLink link = record.value();
        if (link != null && !LinkRevision.supersedes(link, current(record.key()))) {
            return;  // an older write arriving late (an agreement based on the link a deal write was based on)
        }
        apply(record.key(), link);
    }

    /** The order's link as the store holds it, or null. */
    protected abstract SyncLink current(String orderKey);

    /** Records the order's newest link, or its removal when {@code link} is null. */
    protected abstract void apply(String orderKey, SyncLink link);
}
