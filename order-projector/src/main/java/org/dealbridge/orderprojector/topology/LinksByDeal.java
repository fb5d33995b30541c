package org.dealbridge.orderprojector.topology;

import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.dealbridge.mapping.LinkFeeder;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.SyncLink;
import org.dealbridge.schemas.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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

    /**
     * Reads the links for the global store and passes over one that cannot be read, with its offset in the log: Kafka
     * Streams' global thread cannot send the dead letters a deserialization handler returns (it failed with a
     * ClassCastException and took the order projector down). The deal projector's own stream of {@code deal-links}
     * dead-letters the same record.
     */
    static final class Reader implements Processor<String, byte[], Void, Void> {
        private static final Logger log = LoggerFactory.getLogger(Reader.class);
        private final LinksByDeal feeder;
        private final Topics.Topic<String, SyncLink> topic;
        private ProcessorContext<Void, Void> context;

        Reader(LinksByDeal feeder, Topics.Topic<String, SyncLink> topic) {
            this.feeder = feeder;
            this.topic = topic;
        }

        @Override
        public void init(ProcessorContext<Void, Void> context) {
            this.context = context;
            feeder.init(context);
        }

        @Override
        public void process(Record<String, byte[]> record) {
            SyncLink link;
            try {
                link = record.value() == null ? null : topic.valueSerde().deserializer().deserialize(topic.name(), record.value());
            } catch (SerializationException e) {
                log.error("Skipping the unreadable link of {} at {}: {}", record.key(), context.recordMetadata()
                        .map(m -> m.topic() + "-" + m.partition() + " offset " + m.offset()).orElse(topic.name()), e.getMessage());
                return;
            }
            feeder.process(record.withValue(link));
        }
    }

    @Override
    protected SyncLink current(String orderKey) {
        return links.get(orderKey(orderKey));
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
