package org.dealbridge.orderprojector.topology;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.UUID;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;
import org.dealbridge.mapping.CompiledMapping;
import org.dealbridge.mapping.MappingLookup;
import org.dealbridge.mapping.MappingTable;
import org.dealbridge.schemas.DeadLetter;
import org.dealbridge.schemas.DealChanged;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.SyncLink;
import org.dealbridge.schemas.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Joins each deal change with its link and the mapping in force and forwards what {@link DealToOrder} decides:
 * commands keyed by deal id, outcomes keyed by the order key (or {@code deal:{id}}), dead letters by their id.
 */
final class DealProjector implements Processor<String, DealChanged, String, SpecificRecord> {

    static final String OUTCOMES_METRIC = "dealbridge.sync.outcomes";
    static final String COMMANDS_METRIC = "dealbridge.commands";
    private static final String COMPONENT = "order-projector";
    private static final Logger log = LoggerFactory.getLogger(DealProjector.class);

    private final DealToOrder rules;
    private final String siteId;
    private final Topics topics;
    private final MappingTable mappingTable;
    private final MeterRegistry meters;

    private ProcessorContext<String, SpecificRecord> context;
    private MappingLookup mappings;
    private KeyValueStore<String, SyncLink> links;

    DealProjector(DealToOrder rules, String siteId, Topics topics, MappingTable mappingTable, MeterRegistry meters) {
        this.rules = rules;
        this.siteId = siteId;
        this.topics = topics;
        this.mappingTable = mappingTable;
        this.meters = meters;
    }

    @Override
    public void init(ProcessorContext<String, SpecificRecord> context) {
        this.context = context;
        this.mappings = mappingTable.lookup(context);
        this.links = context.getStateStore(OrderProjectorTopology.LINKS_BY_DEAL_STORE);
    }

    @Override
    public void process(Record<String, DealChanged> record) {
        DealChanged deal = record.value();
        if (deal == null) {
            return;
        }
        String key;
        try {
            key = Keys.deal(deal.getDealId());
        } catch (IllegalArgumentException e) {
            deadLetter(record.key(), deal, "deal-changes record has an invalid deal: " + e.getMessage());
            return;
        }
        if (!key.equals(record.key())) {
            deadLetter(record.key(), deal, "deal-changes record key '" + record.key() + "' differs from its deal id "
                    + key + " (the key must be the deal id)");
            return;
        }
        SyncLink link = links.get(LinksByDeal.dealKey(deal.getDealId()));
        CompiledMapping linked = link == null ? null : mappings.forSite(link.getSiteId().toString()).orElse(null);
        CompiledMapping site = link == null ? mappings.forSite(siteId).orElse(null) : null;
        long now = context.currentSystemTimeMs();
        DealToOrder.Decision decision;
        try {
            decision = rules.decide(deal, link, linked, site, Instant.ofEpochMilli(now));
        } catch (IllegalArgumentException e) {
            deadLetter(key, deal, "deal " + key + " cannot be projected: " + e.getMessage());
            return;
        }
        decision.command().ifPresent(command -> {
            Counter.builder(COMMANDS_METRIC).tags("topology", COMPONENT, "kind", command.getKind().name()).register(meters).increment();
            context.forward(new Record<String, SpecificRecord>(key, command, now));
        });
        decision.link().ifPresent(unlinked -> context.forward(new Record<String, SpecificRecord>(
                Keys.order(unlinked.getSiteId().toString(), unlinked.getOrderId()), unlinked, now)));
        decision.outcome().ifPresent(outcome -> {
            countOutcome(outcome.getOutcome().name());
            log.debug("{}: {}", outcome.getOutcome(), outcome.getReason());
            String outcomeKey = outcome.getOrderId() == null ? "deal:" + key
                    : Keys.order(outcome.getSiteId().toString(), outcome.getOrderId());
            context.forward(new Record<String, SpecificRecord>(outcomeKey, outcome, now));
        });
    }

    private void countOutcome(String outcome) {
        Counter.builder(OUTCOMES_METRIC).tags("direction", "DEAL_TO_ORDER", "outcome", outcome).register(meters).increment();
    }

    private void deadLetter(String key, DealChanged deal, String reason) {
        log.warn("Dead-lettering a deal change: {}", reason);
        RecordMetadata source = context.recordMetadata().orElse(null);
        DeadLetter letter = DeadLetter.newBuilder()
                .setId(UUID.randomUUID().toString())
                .setComponent(COMPONENT)
                .setSourceTopic(topics.dealChanges().name())
                .setSourcePartition(source == null ? null : source.partition())
                .setSourceOffset(source == null ? null : source.offset())
                .setKey(key == null ? null : ByteBuffer.wrap(key.getBytes(StandardCharsets.UTF_8)))
                .setValue(ByteBuffer.wrap(topics.dealChanges().valueSerde().serializer().serialize(topics.dealChanges().name(), deal)))
                .setReason(reason)
                .setErrorCode(IllegalArgumentException.class.getSimpleName())
                .setAttempts(1)
                .setFailedAt(Instant.ofEpochMilli(context.currentSystemTimeMs()))
                .build();
        countOutcome("DEAD_LETTERED");
        context.forward(new Record<String, SpecificRecord>(letter.getId().toString(), letter, context.currentSystemTimeMs()));
    }
}
