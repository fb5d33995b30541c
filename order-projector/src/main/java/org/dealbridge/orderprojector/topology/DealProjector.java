package org.dealbridge.orderprojector.topology;

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
import org.dealbridge.schemas.DeadLetters;
import org.dealbridge.schemas.SyncDirection;
import org.dealbridge.schemas.SyncMetrics;
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
            SyncMetrics.commands(meters, COMPONENT, command.getKind().name()).increment();
            context.forward(new Record<String, SpecificRecord>(key, command, now));
        });
        decision.link().ifPresent(unlinked -> context.forward(new Record<String, SpecificRecord>(
                Keys.order(unlinked.getSiteId().toString(), unlinked.getOrderId()), unlinked, now)));
        decision.outcome().ifPresent(outcome -> {
            SyncMetrics.outcomes(meters, SyncDirection.DEAL_TO_ORDER, outcome.getOutcome()).increment();
            log.debug("{}: {}", outcome.getOutcome(), outcome.getReason());
            String outcomeKey = outcome.getOrderId() == null ? "deal:" + key
                    : Keys.order(outcome.getSiteId().toString(), outcome.getOrderId());
            context.forward(new Record<String, SpecificRecord>(outcomeKey, outcome, now));
        });
    }

    private void deadLetter(String key, DealChanged deal, String reason) {
        log.warn("Dead-lettering a deal change: {}", reason);
        RecordMetadata source = context.recordMetadata().orElse(null);
        DeadLetter letter = DeadLetters.of(COMPONENT, null, topics.dealChanges().name(),
                source == null ? null : source.partition(), source == null ? null : source.offset(), key,
                topics.dealChanges().valueSerde().serializer().serialize(topics.dealChanges().name(), deal), reason,
                IllegalArgumentException.class.getSimpleName(), 1, Instant.ofEpochMilli(context.currentSystemTimeMs()));
        SyncMetrics.outcomes(meters, SyncDirection.DEAL_TO_ORDER, org.dealbridge.schemas.Outcome.DEAD_LETTERED).increment();
        context.forward(new Record<String, SpecificRecord>(letter.getId().toString(), letter, context.currentSystemTimeMs()));
    }
}
