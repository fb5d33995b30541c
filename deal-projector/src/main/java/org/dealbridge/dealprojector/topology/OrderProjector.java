package org.dealbridge.dealprojector.topology;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.dealbridge.dealprojector.DealProjectorConfig;
import org.dealbridge.mapping.CompiledMapping;
import org.dealbridge.mapping.MappingTable;
import org.dealbridge.mapping.ProjectorContext;
import org.dealbridge.schemas.SyncDirection;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.OrderChanged;
import org.dealbridge.schemas.SyncLink;
import org.dealbridge.schemas.Topics;

/**
 * Gathers order changes per order and, once per coalesce window, turns each order's latest state into one decision
 * ({@link OrderToDeal}) against the mapping in force and the order's link. With a window of 0 every change is
 * decided at once.
 */
final class OrderProjector implements Processor<String, OrderChanged, String, SpecificRecord> {

    private final Duration window;
    private final Topics.Topic<String, OrderChanged> source;
    private final OrderToDeal rules;
    private final ProjectorContext projector;
    private KeyValueStore<String, OrderChanged> pending;
    private KeyValueStore<String, OrderChanged> projected;

    OrderProjector(DealProjectorConfig config, Topics topics, MappingTable mappingTable, MeterRegistry meters) {
        this.window = config.coalesceWindow();
        this.source = topics.orderChanges();
        this.rules = new OrderToDeal(config.originatorPrefix());
        this.projector = new ProjectorContext("deal-projector", SyncDirection.ORDER_TO_DEAL, mappingTable,
                DealProjectorTopology.LINKS_STORE, meters);
    }

    @Override
    public void init(ProcessorContext<String, SpecificRecord> context) {
        projector.init(context);
        this.pending = context.getStateStore(DealProjectorTopology.PENDING_STORE);
        this.projected = context.getStateStore(DealProjectorTopology.PROJECTED_STORE);
        if (!window.isZero()) {
            context.schedule(window, PunctuationType.WALL_CLOCK_TIME, this::flush);
        }
    }

    @Override
    public void process(Record<String, OrderChanged> record) {
        OrderChanged order = record.value();
        if (order == null) {
            return;  // order-changes carries no deletions: an order is never removed from the store
        }
        String key;
        try {
            key = Keys.order(order.getSiteId(), order.getOrderId());
        } catch (IllegalArgumentException e) {
            deadLetter(record.key(), order, "order-changes record has an invalid order: " + e.getMessage(), true);
            return;
        }
        if (!key.equals(record.key())) {
            deadLetter(record.key(), order, "order-changes record key '" + record.key() + "' differs from its order "
                    + key + " (the key must be {siteId}:{orderId})", true);
            return;
        }
        if (window.isZero()) {
            project(key, order, true);
            return;
        }
        OrderChanged earlier = pending.get(key);
        if (earlier != null && earlier.getDateUpdate().isAfter(order.getDateUpdate())) {
            return;  // a late, older state (e.g. a poll after a hook): the newer pending one stays
        }
        pending.put(key, order);
    }

    private void flush(long wallClockMillis) {
        List<String> keys = new ArrayList<>();
        try (KeyValueIterator<String, OrderChanged> all = pending.all()) {
            all.forEachRemaining(entry -> keys.add(entry.key));
        }
        for (String key : keys) {
            OrderChanged order = pending.get(key);
            pending.delete(key);
            project(key, order, false);
        }
    }

    private void project(String key, OrderChanged order, boolean inProcess) {
        CompiledMapping mapping = projector.mappings().forSite(order.getSiteId()).orElse(null);
        SyncLink link = projector.links().get(key);
        Instant now = Instant.ofEpochMilli(projector.now());
        OrderToDeal.Decision decision;
        try {
            decision = rules.decide(order, mapping, link, projected.get(key), now);
        } catch (IllegalArgumentException e) {
            deadLetter(key, order, "order " + key + " cannot be projected: " + e.getMessage(), inProcess);
            return;
        }
        projected.put(key, order);
        long timestamp = now.toEpochMilli();
        decision.command().ifPresent(command -> projector.command(key, command, command.getKind().name(), timestamp));
        decision.outcome().ifPresent(outcome -> projector.outcome(key, outcome, timestamp));
    }

    private void deadLetter(String key, OrderChanged order, String reason, boolean inProcess) {
        projector.deadLetter(source, key, order, order.getSiteId(), reason, inProcess);
    }
}
