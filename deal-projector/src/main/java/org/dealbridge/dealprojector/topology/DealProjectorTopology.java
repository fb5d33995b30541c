package org.dealbridge.dealprojector.topology;

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
import org.dealbridge.dealprojector.DealProjectorConfig;
import org.dealbridge.mapping.MappingTable;
import org.dealbridge.mapping.MappingTopics;
import org.dealbridge.schemas.DeadLetter;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.DecisionSinks;
import org.dealbridge.schemas.SyncOutcome;
import org.dealbridge.schemas.Topics;

/**
 * The deal projector: {@code order-changes} ⋈ mapping ⋈ links → {@code deal-commands} and {@code sync-outcomes}.
 *
 * <pre>
 *   mapping-config ──► [global store mapping-profiles]  (MappingTable: only valid, newer versions get in)
 *   deal-links ─────► deal-links-recorder ──► [deal-projector-links]   (what the deal has, as the connector wrote it)
 *   order-changes ──► order-projector ──► [deal-projector-pending] ──(coalesce-window after the order's first change)──►
 *                       OrderToDeal.decide ──► deal-commands | sync-outcomes | dead-letters
 *                          ▲   [deal-projector-creates-in-flight]
 *                          └── a new order's later changes stay pending until the link of its CREATE arrives
 * </pre>
 *
 * <p>A burst of changes to one order becomes one command: each change replaces the order's pending state, and the
 * order is decided {@code deal-projector.coalesce-window} after its first change still pending (wall clock; each
 * order's own window, so a constantly changing order is still decided once a window). A new order's
 * changes after its CREATE wait in the pending store until its link arrives and are then decided on it, as one update
 * (no second CREATE for the connector's look-up to turn into an update), for at most
 * {@code deal-projector.create-link-timeout}. Every store is changelogged, so a restart neither loses a pending order
 * nor forgets a link or a CREATE in flight.
 *
 * <p>{@code order-changes} and {@code deal-links} are both keyed by the order key and must have the same number of
 * partitions (the launcher creates every topic with the same count), so an order and its link meet in one task.
 */
public final class DealProjectorTopology {

    /** Links (order key → SyncLink) read from deal-links. */
    public static final String LINKS_STORE = "deal-projector-links";
    /**
     * Latest not yet projected state per order (order key → OrderChanged), stamped with the wall-clock time of the
     * order's first change still pending: its coalesce window runs from there. The changelog record carries the stamp
     * as its timestamp, so a restart restores when each window ends.
     */
    public static final String PENDING_STORE = "deal-projector-pending";
    /**
     * Orders whose CREATE was sent and whose link has not arrived (order key → the version of the link the CREATE was
     * decided on, its {@code updatedAt}, 0 for none; stamped with when the CREATE was sent, wall clock): their later
     * changes are held in {@link #PENDING_STORE} until another link comes or {@code deal-projector.create-link-timeout}
     * passes.
     */
    public static final String CREATES_IN_FLIGHT_STORE = "deal-projector-creates-in-flight";
    /**
     * The last state projected per order (order key → OrderChanged): what changed since is sent to the connector even
     * when the link, which arrives late, still agrees with the order (A → B → A before B's link came back).
     */
    public static final String PROJECTED_STORE = "deal-projector-projected";

    private DealProjectorTopology() {
    }

    /** The topology, counting into the global Micrometer registry. */
    public static Topology build(DealProjectorConfig config, Topics topics) {
        return build(config, topics, Metrics.globalRegistry);
    }

    /** The topology; a pure function of its arguments. */
    public static Topology build(DealProjectorConfig config, Topics topics, MeterRegistry meters) {
        StreamsBuilder builder = new StreamsBuilder();
        MappingTable mappingTable = new MappingTable(new MappingTopics(topics.mappingConfig().name(), topics.name(MappingTopics.HISTORY),
                topics.mappingConfig().keySerde(), topics.mappingConfig().valueSerde()), meters);
        mappingTable.addTo(builder);

        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(LINKS_STORE),
                topics.dealLinks().keySerde(), topics.dealLinks().valueSerde()));
        // cached: changes of one order within a commit interval reach RocksDB and the changelog once, and a pending
        // order written and decided inside one commit interval leaves only its tombstone there
        builder.addStateStore(Stores.timestampedKeyValueStoreBuilder(Stores.persistentTimestampedKeyValueStore(PENDING_STORE),
                topics.orderChanges().keySerde(), topics.orderChanges().valueSerde()).withCachingEnabled());
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(PROJECTED_STORE),
                topics.orderChanges().keySerde(), topics.orderChanges().valueSerde()));
        builder.addStateStore(Stores.timestampedKeyValueStoreBuilder(Stores.persistentTimestampedKeyValueStore(CREATES_IN_FLIGHT_STORE),
                topics.orderChanges().keySerde(), Serdes.Long()));

        builder.stream(topics.dealLinks().name(), Consumed.with(topics.dealLinks().keySerde(), topics.dealLinks().valueSerde())
                        .withName("deal-links-source"))
                .process(LinkRecorder::new, Named.as("deal-links-recorder"), LINKS_STORE);

        KStream<String, SpecificRecord> decisions = builder
                .stream(topics.orderChanges().name(), Consumed.with(topics.orderChanges().keySerde(), topics.orderChanges().valueSerde())
                        .withName("order-changes-source"))
                .process(() -> new OrderProjector(config, topics, mappingTable, meters), Named.as("order-projector"),
                        LINKS_STORE, PENDING_STORE, PROJECTED_STORE, CREATES_IN_FLIGHT_STORE);

        DecisionSinks.route(decisions, List.of(
                DecisionSinks.Sink.of(DealCommand.class, topics.dealCommands(), "command"),
                DecisionSinks.Sink.of(SyncOutcome.class, topics.syncOutcomes(), "outcome"),
                DecisionSinks.Sink.of(DeadLetter.class, topics.deadLetters(), "dead-letter")));
        return builder.build();
    }
}
