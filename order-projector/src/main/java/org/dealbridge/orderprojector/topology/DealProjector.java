package org.dealbridge.orderprojector.topology;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.dealbridge.mapping.CompiledMapping;
import org.dealbridge.mapping.MappingTable;
import org.dealbridge.mapping.ProjectorContext;
import org.dealbridge.schemas.SyncDirection;
import org.dealbridge.schemas.DealChanged;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.SyncLink;
import org.dealbridge.schemas.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Joins each deal change with its link and the mapping in force and forwards what {@link DealToOrder} decides:
 * commands keyed by deal id, outcomes keyed by the order key (or {@code deal:{id}}), dead letters by their id.
 *
 * <p>A change of a deal DealBridge made, seen before the deal's link reached this instance, waits in
 * {@link OrderProjectorTopology#AWAITING_LINK_STORE} (the latest change per deal) and is decided again once the link is
 * there: a manager who moved the deal right after its creation would otherwise never reach the order, since no later
 * event need come. A later change of the deal replaces or settles it; one whose link never comes is given up after
 * {@link #GIVE_UP_AFTER}.
 */
final class DealProjector implements Processor<String, DealChanged, String, SpecificRecord> {
    private static final Logger log = LoggerFactory.getLogger(DealProjector.class);

    /** How often the changes awaiting their link are looked at again. */
    static final Duration RECHECK_EVERY = Duration.ofSeconds(1);
    /** A link normally follows its deal within seconds; a day covers any outage of the CRM connector. */
    static final Duration GIVE_UP_AFTER = Duration.ofDays(1);

    private final DealToOrder rules;
    private final String siteId;
    private final Topics.Topic<String, DealChanged> source;
    private final ProjectorContext projector;
    private KeyValueStore<String, ValueAndTimestamp<DealChanged>> awaitingLink;

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
        awaitingLink = context.getStateStore(OrderProjectorTopology.AWAITING_LINK_STORE);
        context.schedule(RECHECK_EVERY, PunctuationType.WALL_CLOCK_TIME, this::linksArrived);
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
            deadLetter(record.key(), deal, "deal-changes record has an invalid deal: " + e.getMessage(), true);
            return;
        }
        if (!key.equals(record.key())) {
            deadLetter(record.key(), deal, "deal-changes record key '" + record.key() + "' differs from its deal id "
                    + key + " (the key must be the deal id)", true);
            return;
        }
        project(key, deal, true);
    }

    private void project(String key, DealChanged deal, boolean fromCurrentRecord) {
        SyncLink link = projector.links().get(LinksByDeal.dealKey(deal.getDealId()));
        CompiledMapping linked = link == null ? null : projector.mappings().forSite(link.getSiteId().toString()).orElse(null);
        CompiledMapping site = link == null ? projector.mappings().forSite(siteId).orElse(null) : null;
        long now = projector.now();
        DealToOrder.Decision decision;
        try {
            decision = rules.decide(deal, link, linked, site, Instant.ofEpochMilli(now));
        } catch (IllegalArgumentException e) {
            awaitingLink.delete(key);
            deadLetter(key, deal, "deal " + key + " cannot be projected: " + e.getMessage(), fromCurrentRecord);
            return;
        }
        if (decision.awaitsLink()) {
            awaitingLink.put(key, ValueAndTimestamp.make(deal, now));
        } else {
            awaitingLink.delete(key);
        }
        decision.command().ifPresent(command -> projector.command(key, command, command.getKind().name(), now));
        decision.link().ifPresent(unlinked -> projector.forward(Keys.order(unlinked.getSiteId().toString(), unlinked.getOrderId()),
                unlinked, now));
        decision.outcome().ifPresent(outcome -> projector.outcome(outcome.getOrderId() == null ? "deal:" + key
                : Keys.order(outcome.getSiteId().toString(), outcome.getOrderId()), outcome, now));
    }

    /** Decides again each waiting change whose link has arrived since; gives up on those waiting too long. */
    private void linksArrived(long now) {
        List<KeyValue<String, ValueAndTimestamp<DealChanged>>> ready = new ArrayList<>();
        try (KeyValueIterator<String, ValueAndTimestamp<DealChanged>> waiting = awaitingLink.all()) {
            while (waiting.hasNext()) {
                KeyValue<String, ValueAndTimestamp<DealChanged>> entry = waiting.next();
                if (projector.links().get(LinksByDeal.dealKey(entry.value.value().getDealId())) != null) {
                    ready.add(entry);
                } else if (now - entry.value.timestamp() > GIVE_UP_AFTER.toMillis()) {
                    log.warn("Deal {} was made by DealBridge but its link has not arrived in {}; its change of {} is no longer"
                            + " waited for (the deal's next change is decided as usual)", entry.key, GIVE_UP_AFTER,
                            Instant.ofEpochMilli(entry.value.timestamp()));
                    awaitingLink.delete(entry.key);
                }
            }
        }
        for (KeyValue<String, ValueAndTimestamp<DealChanged>> entry : ready) {
            project(entry.key, entry.value.value(), false);
        }
    }

    private void deadLetter(String key, DealChanged deal, String reason, boolean fromCurrentRecord) {
        projector.deadLetter(source, key, deal, null, reason, fromCurrentRecord);
    }
}
