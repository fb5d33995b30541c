package org.dealbridge.orderprojector.topology;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.Stores;
import org.dealbridge.mapping.MappingTable;
import org.dealbridge.mapping.MappingTopics;
import org.dealbridge.orderprojector.OrderProjectorConfig;
import org.dealbridge.mapping.PairDecision;
import org.dealbridge.schemas.DeadLetter;
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
 *                                                            | deal-links (a deleted deal unlinks its order)
 * </pre>
 *
 * <p>No coalescing window here: deal-events already folds a burst of hooks for one deal into one read.
 */
public final class OrderProjectorTopology {

    /** Links by deal id ({@code deal:{id}} → SyncLink) and by order ({@code order:{key}}), fed from deal-links. */
    public static final String LINKS_BY_DEAL_STORE = "order-projector-links-by-deal";

    private OrderProjectorTopology() {
    }

    public static Topology build(OrderProjectorConfig config, Topics topics) {
        return build(config, topics, PairDecision.UNDER_MAPPING, Metrics.globalRegistry);
    }

    /** The topology; a pure function of its arguments. */
    public static Topology build(OrderProjectorConfig config, Topics topics, PairDecision rules, MeterRegistry meters) {
        StreamsBuilder builder = new StreamsBuilder();
        MappingTable mappingTable = new MappingTable(new MappingTopics(topics.mappingConfig().name(), MappingTopics.HISTORY,
                topics.mappingConfig().keySerde(), topics.mappingConfig().valueSerde()), meters);
        mappingTable.addTo(builder);

        builder.addGlobalStore(
                Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(LINKS_BY_DEAL_STORE), Serdes.String(),
                        topics.dealLinks().valueSerde()).withLoggingDisabled(),
                topics.dealLinks().name(),
                Consumed.with(topics.dealLinks().keySerde(), topics.dealLinks().valueSerde()).withName("deal-links-source"),
                LinksByDeal::new);

        DealToOrder decide = new DealToOrder(config, rules);
        KStream<String, SpecificRecord> decisions = builder
                .stream(topics.dealChanges().name(), Consumed.with(topics.dealChanges().keySerde(), topics.dealChanges().valueSerde())
                        .withName("deal-changes-source"))
                .process(() -> new DealProjector(decide, config.siteId(), topics, mappingTable, meters), Named.as("deal-projector"));

        decisions.split(Named.as("decision-"))
                .branch((key, value) -> value instanceof OrderCommand, Branched.<String, SpecificRecord>withConsumer(commands -> commands
                        .mapValues(value -> (OrderCommand) value, Named.as("as-order-command"))
                        .to(topics.orderCommands().name(), Produced.with(topics.orderCommands().keySerde(), topics.orderCommands().valueSerde())
                                .withName("order-commands-sink"))).withName("command"))
                .branch((key, value) -> value instanceof SyncOutcome, Branched.<String, SpecificRecord>withConsumer(outcomes -> outcomes
                        .mapValues(value -> (SyncOutcome) value, Named.as("as-sync-outcome"))
                        .to(topics.syncOutcomes().name(), Produced.with(topics.syncOutcomes().keySerde(), topics.syncOutcomes().valueSerde())
                                .withName("sync-outcomes-sink"))).withName("outcome"))
                .branch((key, value) -> value instanceof SyncLink, Branched.<String, SpecificRecord>withConsumer(links -> links
                        .mapValues(value -> (SyncLink) value, Named.as("as-sync-link"))
                        .to(topics.dealLinks().name(), Produced.with(topics.dealLinks().keySerde(), topics.dealLinks().valueSerde())
                                .withName("deal-links-sink"))).withName("link"))
                .branch((key, value) -> value instanceof DeadLetter, Branched.<String, SpecificRecord>withConsumer(letters -> letters
                        .mapValues(value -> (DeadLetter) value, Named.as("as-dead-letter"))
                        .to(topics.deadLetters().name(), Produced.with(topics.deadLetters().keySerde(), topics.deadLetters().valueSerde())
                                .withName("dead-letters-sink"))).withName("dead-letter"))
                .noDefaultBranch();
        return builder.build();
    }
}
