package org.dealbridge.orderprojector.topology;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Instant;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.dealbridge.mapping.CompiledMapping;
import org.dealbridge.mapping.MappingTable;
import org.dealbridge.mapping.ProjectorContext;
import org.dealbridge.schemas.SyncDirection;
import org.dealbridge.schemas.DealChanged;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.SyncLink;
import org.dealbridge.schemas.Topics;

/**
 * Joins each deal change with its link and the mapping in force and forwards what {@link DealToOrder} decides:
 * commands keyed by deal id, outcomes keyed by the order key (or {@code deal:{id}}), dead letters by their id.
 */
final class DealProjector implements Processor<String, DealChanged, String, SpecificRecord> {

    private final DealToOrder rules;
    private final String siteId;
    private final Topics.Topic<String, DealChanged> source;
    private final ProjectorContext projector;

    DealProjector(DealToOrder rules, String siteId, Topics topics, MappingTable mappingTable, MeterRegistry meters) {
        this.rules = rules;
        this.siteId = siteId;
        this.source = topics.dealChanges();
        this.projector = new ProjectorContext("order-projector", SyncDirection.DEAL_TO_ORDER, mappingTable,
                OrderProjectorTopology.LINKS_BY_DEAL_STORE, meters);
    }

    @Override
    public void init(ProcessorContext<String, SpecificRecord> context) {
        projector.init(context);
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
        SyncLink link = projector.links().get(LinksByDeal.dealKey(deal.getDealId()));
        CompiledMapping linked = link == null ? null : projector.mappings().forSite(link.getSiteId().toString()).orElse(null);
        CompiledMapping site = link == null ? projector.mappings().forSite(siteId).orElse(null) : null;
        long now = projector.now();
        DealToOrder.Decision decision;
        try {
            decision = rules.decide(deal, link, linked, site, Instant.ofEpochMilli(now));
        } catch (IllegalArgumentException e) {
            deadLetter(key, deal, "deal " + key + " cannot be projected: " + e.getMessage());
            return;
        }
        decision.command().ifPresent(command -> projector.command(key, command, command.getKind().name(), now));
        decision.link().ifPresent(unlinked -> projector.forward(Keys.order(unlinked.getSiteId().toString(), unlinked.getOrderId()),
                unlinked, now));
        decision.outcome().ifPresent(outcome -> projector.outcome(outcome.getOrderId() == null ? "deal:" + key
                : Keys.order(outcome.getSiteId().toString(), outcome.getOrderId()), outcome, now));
    }

    private void deadLetter(String key, DealChanged deal, String reason) {
        projector.deadLetter(source, key, deal, null, reason, true);
    }
}
