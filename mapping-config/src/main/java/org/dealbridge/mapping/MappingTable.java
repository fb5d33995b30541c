package org.dealbridge.mapping;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.dealbridge.schemas.MappingProfile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mapping as the projectors see it: a global store fed from {@code mapping-config} that only ever holds valid
 * profiles, and {@link MappingLookup}s that compile each profile once.
 *
 * <p>Every record is checked before it reaches the store ({@link MappingProfiles#compile}: readable, key = site,
 * hash matches, document valid, version above the one in force). A record that fails is logged at ERROR, counted
 * in {@code dealbridge.mapping.rejected{site}} and otherwise ignored, so the last good version stays in force. A
 * tombstone removes the site: logged at WARN, and {@code dealbridge.mapping.version{site}} drops to 0.
 *
 * <p>The store holds the records' bytes as read, in memory; on start the global thread replays the whole topic
 * through the same checks ({@code addGlobalStore} restores through the processor since Kafka 3.7, verified on 4.3.1
 * by {@code MappingTableRestoreTest}), so a bad record that is the latest on the topic is still kept out.
 */
public final class MappingTable {

    /** Name of the global store. */
    public static final String STORE = "mapping-profiles";
    /** Counter of rejected mapping records, tags {@code site} and {@code application}. */
    public static final String REJECTED_METRIC = "dealbridge.mapping.rejected";
    /**
     * Gauge of the version in force, tags {@code site} and {@code application} (each projector reads the topic into
     * its own table, and one gauge for both would show only the one registered first); 0 after the site's mapping was
     * removed.
     */
    public static final String VERSION_METRIC = "dealbridge.mapping.version";

    private static final Logger log = LoggerFactory.getLogger(MappingTable.class);
    private static final int ERRORS_LOGGED = 5;

    private final MappingTopics topics;
    private final MeterRegistry meters;
    private final Map<String, AtomicLong> versionInForce = new ConcurrentHashMap<>();
    private final Map<String, CompiledEntry> compiled = new ConcurrentHashMap<>();
    /** The Kafka Streams application whose global store this table is (set when the store's processor starts). */
    private volatile String application = "";

    public MappingTable(MappingTopics topics, MeterRegistry meters) {
        this.topics = topics;
        this.meters = meters;
    }

    /** Adds the global store and its validating processor to a topology. */
    public StreamsBuilder addTo(StreamsBuilder builder) {
        return builder.addGlobalStore(
                Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(STORE), Serdes.String(), Serdes.ByteArray())
                        .withLoggingDisabled(),  // a global store is restored from its source topic
                topics.current(),
                // Bytes, decoded inside the processor: an unreadable record must be rejected, not kill the global thread.
                Consumed.with(Serdes.String(), Serdes.ByteArray()).withName("mapping-config-source"),
                ProfileValidator::new);
    }

    /** A lookup for a processor of the same topology (call it in {@code init}). */
    public MappingLookup lookup(ProcessorContext<?, ?> context) {
        KeyValueStore<String, byte[]> store = context.getStateStore(STORE);
        return new MappingLookup(store::get, this);
    }

    /** A lookup from outside the topology, e.g. for the admin endpoints of a running instance. */
    public MappingLookup lookup(KafkaStreams streams) {
        ReadOnlyKeyValueStore<String, byte[]> store = streams.store(
                StoreQueryParameters.fromNameAndType(STORE, QueryableStoreTypes.keyValueStore()));
        return new MappingLookup(store::get, this);
    }

    /** The compiled form of stored bytes, compiled at most once per distinct record. */
    Optional<CompiledMapping> compiledFor(String siteId, byte[] stored) {
        if (stored == null) {
            return Optional.empty();
        }
        CompiledEntry entry = compiled.get(siteId);
        if (entry != null && (entry.bytes == stored || Arrays.equals(entry.bytes, stored))) {  // same array: no compare
            return Optional.of(entry.mapping);
        }
        try {
            CompiledMapping mapping = MappingProfiles.compile(siteId, decode(stored));
            compiled.put(siteId, new CompiledEntry(stored, mapping));
            return Optional.of(mapping);
        } catch (MappingInvalidException | SerializationException e) {
            // Cannot happen for bytes the processor stored; never fall back to a guess.
            log.error("Mapping of site {} in the store does not compile: {}", siteId, e.getMessage());
            return Optional.empty();
        }
    }

    private MappingProfile decode(byte[] bytes) {
        return topics.valueSerde().deserializer().deserialize(topics.current(), bytes);
    }

    private AtomicLong versionGauge(String siteId) {
        return versionInForce.computeIfAbsent(siteId, site -> {
            AtomicLong version = new AtomicLong();
            Gauge.builder(VERSION_METRIC, version, AtomicLong::get)
                    .description("Version of the site's mapping in force (0: none)")
                    .tag("site", site)
                    .tag("application", application)
                    .register(meters);
            return version;
        });
    }

    private record CompiledEntry(byte[] bytes, CompiledMapping mapping) {
    }

    /** Puts only valid, newer profiles into the store. */
    private final class ProfileValidator implements Processor<String, byte[], Void, Void> {

        private KeyValueStore<String, byte[]> store;

        @Override
        public void init(ProcessorContext<Void, Void> context) {
            this.store = context.getStateStore(STORE);
            application = context.applicationId();
        }

        @Override
        public void process(Record<String, byte[]> record) {
            String site = record.key();
            MappingAdmission.Verdict verdict = MappingAdmission.judge(topics, site, record.value(), site == null ? null : store.get(site));
            if (verdict instanceof MappingAdmission.Remove) {
                store.delete(site);
                compiled.remove(site);
                versionGauge(site).set(0);
                log.warn("Mapping of site {} removed (tombstone on {}): sync for site {} stops until a mapping "
                        + "is published", site, topics.current(), site);
            } else if (verdict instanceof MappingAdmission.Reject reject) {
                reject(site == null ? "(none)" : site, reject.version(), reject.errors());
            } else if (verdict instanceof MappingAdmission.Admit admit) {
                store.put(site, record.value());
                compiled.put(site, new CompiledEntry(record.value(), admit.mapping()));
                versionGauge(site).set(admit.profile().getVersion());
                log.info("Mapping of site {} version {} by {} in force (sha256 {})", site, admit.profile().getVersion(),
                        admit.profile().getAuthor(), admit.profile().getContentHash());
            }
            // Same: the version in force again (a re-send, or the keeper re-asserting it): nothing changes
        }

        private void reject(String site, String version, List<String> errors) {
            Counter.builder(REJECTED_METRIC)
                    .description("Mapping records ignored because they failed validation")
                    .tag("site", site)
                    .tag("application", application)
                    .register(meters)
                    .increment();
            byte[] current = "(none)".equals(site) ? null : store.get(site);
            String inForce = current == null ? "none" : "version " + decode(current).getVersion();
            log.error("Rejected mapping record of site {} version {} on {} ({} in force stays): {}{}", site, version,
                    topics.current(), inForce, String.join("; ", errors.subList(0, Math.min(ERRORS_LOGGED, errors.size()))),
                    errors.size() > ERRORS_LOGGED ? " (and " + (errors.size() - ERRORS_LOGGED) + " more)" : "");
        }
    }
}
