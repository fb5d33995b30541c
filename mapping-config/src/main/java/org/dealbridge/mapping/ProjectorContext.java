package org.dealbridge.mapping;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Instant;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;
import org.dealbridge.schemas.DeadLetter;
import org.dealbridge.schemas.DeadLetters;
import org.dealbridge.schemas.Outcome;
import org.dealbridge.schemas.SyncDirection;
import org.dealbridge.schemas.SyncLink;
import org.dealbridge.schemas.SyncMetrics;
import org.dealbridge.schemas.SyncOutcome;
import org.dealbridge.schemas.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What each projector's processor works with around its decision, the same in both directions: the mapping in force,
 * the links, and where a decision goes — a command (counted), an outcome (counted), a link, or a dead letter for a
 * change that cannot be decided (counted as DEAD_LETTERED, the change kept whole). The decision itself is the
 * direction's own ({@code OrderToDeal}, {@code DealToOrder}).
 */
public final class ProjectorContext {
    private static final Logger log = LoggerFactory.getLogger(ProjectorContext.class);

    private final String component;
    private final SyncDirection direction;
    private final MappingTable mappingTable;
    private final String linksStore;
    private final MeterRegistry meters;
    private ProcessorContext<String, SpecificRecord> context;
    private MappingLookup mappings;
    private KeyValueStore<String, SyncLink> links;

    /** @param linksStore the state store the processor reads links from */
    public ProjectorContext(String component, SyncDirection direction, MappingTable mappingTable, String linksStore, MeterRegistry meters) {
        this.component = component;
        this.direction = direction;
        this.mappingTable = mappingTable;
        this.linksStore = linksStore;
        this.meters = meters;
    }

    /** Binds to the processor's context; call from {@code Processor.init}. */
    public void init(ProcessorContext<String, SpecificRecord> context) {
        this.context = context;
        this.mappings = mappingTable.lookup(context);
        this.links = context.getStateStore(linksStore);
    }

    public ProcessorContext<String, SpecificRecord> streams() {
        return context;
    }

    public MappingLookup mappings() {
        return mappings;
    }

    public KeyValueStore<String, SyncLink> links() {
        return links;
    }

    public long now() {
        return context.currentSystemTimeMs();
    }

    public void command(String key, SpecificRecord command, String kind, long timestamp) {
        SyncMetrics.commands(meters, component, kind).increment();
        forward(key, command, timestamp);
    }

    public void outcome(String key, SyncOutcome outcome, long timestamp) {
        SyncMetrics.outcomes(meters, direction, outcome.getOutcome()).increment();
        log.debug("{}: {}", outcome.getOutcome(), outcome.getReason());
        forward(key, outcome, timestamp);
    }

    public void forward(String key, SpecificRecord record, long timestamp) {
        context.forward(new Record<>(key, record, timestamp));
    }

    /**
     * Dead-letters a change that cannot be decided.
     *
     * @param fromCurrentRecord whether the change is the record being processed (its partition and offset are known),
     *                          or one flushed later by a punctuation
     */
    public <V extends SpecificRecord> void deadLetter(Topics.Topic<String, V> source, String key, V change, CharSequence siteId,
                                                      String reason, boolean fromCurrentRecord) {
        log.warn("Dead-lettering a change from {}: {}", source.name(), reason);
        RecordMetadata at = fromCurrentRecord ? context.recordMetadata().orElse(null) : null;
        DeadLetter letter = DeadLetters.of(component, siteId, source.name(), at == null ? null : at.partition(),
                at == null ? null : at.offset(), key, source.valueSerde().serializer().serialize(source.name(), change), reason,
                IllegalArgumentException.class.getSimpleName(), 1, Instant.ofEpochMilli(now()));
        SyncMetrics.outcomes(meters, direction, Outcome.DEAD_LETTERED).increment();
        forward(letter.getId(), letter, now());
    }
}
