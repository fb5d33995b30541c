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
 * <p>A change decided on what the deal's link says, with nothing written — a deal DealBridge made whose link has not
 * reached this instance yet, or a stage consistent with the link's status — waits in
 * {@link OrderProjectorTopology#AWAITING_LINK_STORE} (the latest such change per deal, stamped with the link version it
 * was decided on) and is decided again when a newer link arrives. Links lag: the link of DealBridge's latest write
 * comes back through {@code deal-links} after its echo, and a manager who moved the deal in between would otherwise
 * never reach the order, since no later event need come (found by {@code OwnershipPropertyTest}, seeds 2 and 9, and
 * the launcher crash loop). A later change of the deal replaces or settles it; a link unchanged for
 * {@link #RECHECK_WINDOW} confirms the decision, and a deal whose link never came is given up after
 * {@link #GIVE_UP_AFTER}.
 */
final class DealProjector implements Processor<String, DealChanged, String, SpecificRecord> {
    private static final Logger log = LoggerFactory.getLogger(DealProjector.class);

    /** How often the changes awaiting a newer link are looked at again. */
    static final Duration RECHECK_EVERY = Duration.ofSeconds(2);
    /** How long a decision waits for a newer link: a link comes back within seconds, after a connector's restart within minutes. */
    static final Duration RECHECK_WINDOW = Duration.ofMinutes(10);
    /** A deal DealBridge made waits for its first link through any outage of the CRM connector. */
    static final Duration GIVE_UP_AFTER = Duration.ofDays(1);
    /** The version stamp of "no link yet" (the stamp is also the changelog record's timestamp, so not negative). */
    private static final long NO_LINK = 0;

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
        if (decision.recheckWithNewerLink()) {
            // the link version the decision read: a newer one decides again
            awaitingLink.put(key, ValueAndTimestamp.make(deal, link == null ? NO_LINK : link.getUpdatedAt().toEpochMilli()));
        } else {
            awaitingLink.delete(key);
        }
        decision.command().ifPresent(command -> projector.command(key, command, command.getKind().name(), now));
        decision.link().ifPresent(unlinked -> projector.forward(Keys.order(unlinked.getSiteId().toString(), unlinked.getOrderId()),
                unlinked, now));
        if (!fromCurrentRecord && decision.recheckWithNewerLink()) {
            return;  // decided again on a newer link and still nothing to write: its first outcome said so already
        }
        decision.outcome().ifPresent(outcome -> projector.outcome(outcome.getOrderId() == null ? "deal:" + key
                : Keys.order(outcome.getSiteId().toString(), outcome.getOrderId()), outcome, now));
    }

    /** Decides again each waiting change whose link is newer than the one it was decided on; lets go of settled ones. */
    private void linksArrived(long now) {
        List<KeyValue<String, ValueAndTimestamp<DealChanged>>> ready = new ArrayList<>();
        try (KeyValueIterator<String, ValueAndTimestamp<DealChanged>> waiting = awaitingLink.all()) {
            while (waiting.hasNext()) {
                KeyValue<String, ValueAndTimestamp<DealChanged>> entry = waiting.next();
                DealChanged deal = entry.value.value();
                long decidedOn = entry.value.timestamp();
                SyncLink link = projector.links().get(LinksByDeal.dealKey(deal.getDealId()));
                long current = link == null ? NO_LINK : link.getUpdatedAt().toEpochMilli();
                if (current != decidedOn) {
                    ready.add(entry);
                } else if (decidedOn != NO_LINK && now - decidedOn > RECHECK_WINDOW.toMillis()) {
                    awaitingLink.delete(entry.key);  // no newer link came: the decision stands
                } else if (decidedOn == NO_LINK && deal.getDateModify() != null
                        && now - deal.getDateModify().toEpochMilli() > GIVE_UP_AFTER.toMillis()) {
                    log.warn("Deal {} was made by DealBridge but its link has not arrived in {}; its change of {} is no longer"
                            + " waited for (the deal's next change is decided as usual)", entry.key, GIVE_UP_AFTER, deal.getDateModify());
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
