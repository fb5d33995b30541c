package org.dealbridge.orderprojector.topology;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.state.Stores;
import org.dealbridge.mapping.MappingTable;
import org.dealbridge.mapping.MappingTopics;
import org.dealbridge.orderprojector.OrderProjectorConfig;
import org.dealbridge.mapping.PairDecision;
import org.dealbridge.schemas.DeadLetter;
import org.dealbridge.schemas.DecisionSinks;
import org.dealbridge.schemas.OrderCommand;
import org.dealbridge.schemas.SyncLink;
import org.dealbridge.schemas.SyncOutcome;
import org.dealbridge.schemas.Topics;

/**
 * The order projector: {@code deal-changes} ⋈ mapping ⋈ links → {@code order-commands} and {@code sync-outcomes}.
 *
 * <pre>
 *   mapping-config ──► [global store mapping-profiles]        (MappingTable: only valid, newer versions get in)
 *   deal-links ─────► links-by-deal ──► [global store order-projector-links-by-deal]   (re-keyed by deal id)
 *   deal-changes ───► deal-projector: DealToOrder.decide ──► order-commands | sync-outcomes | dead-letters
 *                        ▲   [order-projector-awaiting-link]   | deal-links (a deleted deal unlinks its order)
 *                        └── changes decided on a link (none yet, or consistent with its status) that wrote
 *                            nothing: decided again when a newer link arrives
 * </pre>
 *
 * <p>No coalescing window here: deal-events already folds a burst of hooks for one deal into one read.
 */
public final class OrderProjectorTopology {

    /** Links by deal id ({@code deal:{id}} → SyncLink) and by order ({@code order:{key}}), fed from deal-links. */
    public static final String LINKS_BY_DEAL_STORE = "order-projector-links-by-deal";

    /**
     * Deal changes decided on what their link said (no link yet, or a status the stage is consistent with) that wrote
     * nothing, each with the link version it was decided on: decided again when a newer link arrives ({@link DealProjector}).
     */
    public static final String AWAITING_LINK_STORE = "order-projector-awaiting-link";

    private OrderProjectorTopology() {
    }

    public static Topology build(OrderProjectorConfig config, Topics topics) {
        return build(config, topics, PairDecision.UNDER_MAPPING, Metrics.globalRegistry);
    }

    /** The topology; a pure function of its arguments. */
    public static Topology build(OrderProjectorConfig config, Topics topics, PairDecision rules, MeterRegistry meters) {
        StreamsBuilder builder = new StreamsBuilder();
        MappingTable mappingTable = new MappingTable(new MappingTopics(topics.mappingConfig().name(), topics.name(MappingTopics.HISTORY),
                topics.mappingConfig().keySerde(), topics.mappingConfig().valueSerde()), meters);
        mappingTable.addTo(builder);

        builder.addGlobalStore(
                Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(LINKS_BY_DEAL_STORE), Serdes.String(),
                        topics.dealLinks().valueSerde()).withLoggingDisabled(),
                topics.dealLinks().name(),
                // bytes, read by the processor: a global thread cannot dead-letter, and an unreadable link ended the app
                Consumed.with(topics.dealLinks().keySerde(), Serdes.ByteArray()).withName("deal-links-source"),
                () -> new LinksByDeal.Reader(new LinksByDeal(), topics.dealLinks()));

        builder.addStateStore(Stores.timestampedKeyValueStoreBuilder(Stores.persistentTimestampedKeyValueStore(AWAITING_LINK_STORE),
                topics.dealChanges().keySerde(), topics.dealChanges().valueSerde()));

        DealToOrder decide = new DealToOrder(config, rules);
        KStream<String, SpecificRecord> decisions = builder
                .stream(topics.dealChanges().name(), Consumed.with(topics.dealChanges().keySerde(), topics.dealChanges().valueSerde())
                        .withName("deal-changes-source"))
                .process(() -> new DealProjector(decide, config.siteId(), topics, mappingTable, meters), Named.as("deal-projector"), AWAITING_LINK_STORE);

        DecisionSinks.route(decisions, List.of(
                DecisionSinks.Sink.of(OrderCommand.class, topics.orderCommands(), "command"),
                DecisionSinks.Sink.of(SyncOutcome.class, topics.syncOutcomes(), "outcome"),
                DecisionSinks.Sink.of(SyncLink.class, topics.dealLinks(), "link"),
                DecisionSinks.Sink.of(DeadLetter.class, topics.deadLetters(), "dead-letter")));
        return builder.build();
    }
}
