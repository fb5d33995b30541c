package org.dealbridge.dealprojector.topology;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.processor.Cancellable;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.dealbridge.dealprojector.DealProjectorConfig;
import org.dealbridge.mapping.CompiledMapping;
import org.dealbridge.mapping.MappingTable;
import org.dealbridge.mapping.ProjectorContext;
import org.dealbridge.schemas.DealCommandKind;
import org.dealbridge.schemas.SyncDirection;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.OrderChanged;
import org.dealbridge.schemas.SyncLink;
import org.dealbridge.schemas.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gathers order changes per order and, one coalesce window after an order's first change still pending, turns its
 * latest state into one decision ({@link OrderToDeal}) against the mapping in force and the order's link. With a window
 * of 0 every change is decided at once.
 *
 * <p>The window is each order's own, counted from its first pending change, not from the change before (a burst that
 * never stops is still decided once a window) and not a tick shared by all orders (which cut a burst straddling it in
 * two: a CREATE with a middle state, then an update). It is measured on the changes' own time, as Kafka Streams'
 * windows are: an order is due once the changes of its partition that the projector has taken in are a window past
 * its first (stream time: the records' timestamps, the clock of the ingestion that published them), so changes made
 * inside one window are folded however long the projector takes to take them in (a backlog after a restart, a burst
 * of thousands; `bench coalescing`). A partition that goes quiet has no later change to move its stream time, so an
 * order is also due a window after the projector took its first change in (its own clock, the pending store's
 * timestamp, which survives a restart) if no change was taken in since a tick before that (a live partition gone
 * quiet) or none for half a window (a backlog's end); and at the latest {@link #LATEST_AFTER_WINDOW} after that,
 * whatever arrives (a publisher whose clock is behind the others').
 * Which orders are due is known from a queue in memory of when each is due, rebuilt from the pending store when the
 * task starts, so a punctuation looks only at the orders due (no scan of the store); it is scheduled only while orders
 * are pending.
 *
 * <p>A change of an order whose CREATE is in flight (sent, its link not yet back) is held in the pending store, the
 * latest replacing older ones, and decided once the link arrives, on that link: the deal's one update. Decided
 * without the link it would be another CREATE, which the connector's look-up turns into a second write. The wait is
 * bounded ({@code deal-projector.create-link-timeout}): a CREATE that brings no link (its answer lost, dead-lettered)
 * releases what is held as before, so nothing waits for good.
 */
final class OrderProjector implements Processor<String, OrderChanged, String, SpecificRecord> {
    private static final Logger log = LoggerFactory.getLogger(OrderProjector.class);

    /** How often held changes are looked at when there is no coalesce window to flush them with. */
    static final Duration HELD_CHANGES_CHECK_WITHOUT_WINDOW = Duration.ofSeconds(1);
    /** The longest punctuation tick, whatever the window: how late after its window an order may be decided. */
    static final Duration LONGEST_TICK = Duration.ofMillis(100);
    /**
     * How long after its window by the projector's clock an order is decided even while changes keep arriving without
     * moving stream time past it: a bound on the wait for a partition whose publishers' clocks disagree, long enough
     * that a backlog taken in over several seconds is still folded by the changes' own time.
     */
    static final Duration LATEST_AFTER_WINDOW = Duration.ofSeconds(30);
    /** The version of "no link" (a link's version is its {@code updatedAt}). */
    private static final long NO_LINK = 0;

    private final Duration window;
    /**
     * How often due orders are looked for: a fifth of the window, at most {@link #LONGEST_TICK}. An order is decided at
     * most a tick after its window ends (window + 20 %, + 100 ms at most), and a tick with nothing due costs a peek at
     * the index, so a fine tick is cheap; it runs only while orders are pending, so an idle task is not punctuated
     * (each punctuation makes the task commit).
     */
    private final Duration tick;
    /**
     * How long a task takes no change in before it counts as quiet, its stream time standing still: half a window (at
     * least a tick), so an order whose partition took a change in just before its window ended waits at most that much
     * longer, and a backlog whose intake pauses for less (a commit, a pause for garbage collection) is not taken for
     * one.
     */
    private final Duration quietAfter;
    /**
     * How long after its first pending change an order is looked at, and again after that while it is held for its
     * CREATE's link: the window, or without one how often held changes are looked at.
     */
    private final long lookAfterMillis;
    private final Duration createLinkTimeout;
    private final Topics.Topic<String, OrderChanged> source;
    private final OrderToDeal rules;
    private final ProjectorContext projector;
    /** Order key → its latest pending state, stamped with the wall-clock time of its first change still pending. */
    private KeyValueStore<String, ValueAndTimestamp<OrderChanged>> pending;
    private KeyValueStore<String, OrderChanged> projected;
    private KeyValueStore<String, ValueAndTimestamp<Long>> createsInFlight;
    /**
     * When each pending order is due, earliest first: a queue, since every entry is due a fixed time after it is added
     * (a clock stepped back only makes the entries behind it a little late). An entry may outlive the changes it was
     * added for (they were decided, and the order changed again): it is dropped when it comes up.
     */
    private ArrayDeque<Due> dueOrders;
    private Cancellable ticking;
    /** When this task last took a change in (the projector's clock): can stream time still move ({@link Due#isDue})? */
    private long lastChangeTakenIn = Long.MIN_VALUE;

    /**
     * The pending changes of an order that began at {@code firstChange} (the projector's clock, epoch ms): due when
     * stream time reaches {@code byStreamTime}, or at {@code at} by the projector's clock where stream time cannot tell,
     * unless {@code evenIfBusy} (an order held for its CREATE's link is looked at again a window later, whatever
     * arrives).
     */
    private record Due(long at, String key, long firstChange, long byStreamTime, boolean evenIfBusy) {

        /** Due only by the projector's clock: restored after a restart, or held for its CREATE's link. */
        static Due byClock(long at, String key, long firstChange, boolean evenIfBusy) {
            return new Due(at, key, firstChange, Long.MAX_VALUE, evenIfBusy);
        }

        /**
         * @param lastChangeTakenIn when the task last took a change in (the projector's clock)
         * @param tick              how often due orders are looked for
         * @param quiet             no change taken in lately ({@link #quietAfter}): stream time stands still
         */
        boolean isDue(long now, long streamTime, long lastChangeTakenIn, long tick, boolean quiet, long latestAfterWindow) {
            if (byStreamTime <= streamTime) {
                return true;
            }
            // by the clock only where stream time cannot tell: nothing taken in since a tick before the window's end (a
            // live partition: a change taken in after it would have moved stream time past it), or nothing lately (a
            // backlog's end); a backlog still being taken in brings changes from before the window's end all along
            return at <= now && (evenIfBusy || lastChangeTakenIn < at - tick || quiet || now - at >= latestAfterWindow);
        }
    }

    OrderProjector(DealProjectorConfig config, Topics topics, MappingTable mappingTable, MeterRegistry meters) {
        this.window = config.coalesceWindow();
        this.tick = window.isZero() ? LONGEST_TICK : max(Duration.ofMillis(1), min(window.dividedBy(5), LONGEST_TICK));
        this.lookAfterMillis = (window.isZero() ? HELD_CHANGES_CHECK_WITHOUT_WINDOW : window).toMillis();
        this.quietAfter = max(tick, window.dividedBy(2));
        this.createLinkTimeout = config.createLinkTimeout();
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
        this.createsInFlight = context.getStateStore(DealProjectorTopology.CREATES_IN_FLIGHT_STORE);
        indexPendingOrders(projector.now());
        if (!createLinkTimeout.isZero()) {
            context.schedule(createLinkTimeout, PunctuationType.WALL_CLOCK_TIME, this::forgetSettledCreates);
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
        long now = projector.now();
        lastChangeTakenIn = now;
        if (window.isZero() && !awaitsLinkOfItsCreate(key, now)) {
            ValueAndTimestamp<OrderChanged> held = pending.get(key);
            if (held != null) {
                // held for its CREATE's link, which has come and not been looked at yet: only the newer of the two is
                // decided, else the held one, decided after, would write the older state over this one
                pending.put(key, null);  // a delete that does not read the value back
                order = isOlder(order, held.value()) ? held.value() : order;
            }
            project(key, order, true);
            return;
        }
        ValueAndTimestamp<OrderChanged> earlier = pending.get(key);
        if (earlier != null && isOlder(order, earlier.value())) {
            return;  // a late, older state (e.g. a poll after a hook): the newer pending one stays
        }
        if (earlier == null) {
            pending.put(key, ValueAndTimestamp.make(order, now));
            expectDue(new Due(now + lookAfterMillis, key, now, saturatedAdd(record.timestamp(), lookAfterMillis), false));
        } else {
            pending.put(key, ValueAndTimestamp.make(order, earlier.timestamp()));  // the window runs from the first change
        }
    }

    /**
     * True when {@code state} is an older save of the order than {@code than}: an earlier {@code dateUpdate}, or the same
     * second and a lower {@code version} (the store's save counter, when both carry it).
     */
    static boolean isOlder(OrderChanged state, OrderChanged than) {
        int byDate = state.getDateUpdate().compareTo(than.getDateUpdate());
        if (byDate != 0) {
            return byDate < 0;
        }
        return state.getVersion() != null && than.getVersion() != null && state.getVersion() < than.getVersion();
    }

    /** Decides the orders whose window is over, in the order they fell due. */
    private void flush(long now) {
        long streamTime = projector.streams().currentStreamTimeMs();
        boolean quiet = now - lastChangeTakenIn >= quietAfter.toMillis();
        Due next;
        while ((next = dueOrders.peek()) != null && next.isDue(now, streamTime, lastChangeTakenIn, tick.toMillis(), quiet,
                LATEST_AFTER_WINDOW.toMillis())) {
            dueOrders.poll();
            ValueAndTimestamp<OrderChanged> order = pending.get(next.key());
            if (order == null || order.timestamp() != next.firstChange()) {
                continue;  // decided already (a later change has an entry of its own)
            }
            if (awaitsLinkOfItsCreate(next.key(), now)) {
                expectDue(Due.byClock(now + lookAfterMillis, next.key(), next.firstChange(), true));
            } else {
                pending.put(next.key(), null);  // a delete that does not read and decode the value it removes
                project(next.key(), order.value(), false);
            }
        }
        if (dueOrders.isEmpty() && ticking != null) {
            ticking.cancel();
            ticking = null;
        }
    }

    private void expectDue(Due due) {
        dueOrders.add(due);
        if (ticking == null) {
            ticking = projector.streams().schedule(tick, PunctuationType.WALL_CLOCK_TIME, this::flush);
        }
    }

    /**
     * The index of pending orders, from the pending store (restored from its changelog before a task starts): each due
     * a window after its first change, and at most a window from now whatever clock stamped it.
     */
    private void indexPendingOrders(long now) {
        dueOrders = new ArrayDeque<>();
        if (ticking != null) {
            ticking.cancel();  // the task started again (resumed): one tick is enough
            ticking = null;
        }
        List<Due> restored = new ArrayList<>();
        try (KeyValueIterator<String, ValueAndTimestamp<OrderChanged>> all = pending.all()) {
            // the changes' own times are not kept: a restored order is due by the projector's clock, once caught up
            all.forEachRemaining(order -> restored.add(
                    Due.byClock(Math.min(order.value.timestamp(), now) + lookAfterMillis, order.key, order.value.timestamp(), false)));
        }
        restored.sort(Comparator.comparingLong(Due::at));
        restored.forEach(this::expectDue);
    }

    private static long saturatedAdd(long a, long b) {
        long sum = a + b;
        return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    /**
     * Whether the order's changes are still held for the link of its CREATE. A link other than the one the CREATE was
     * decided on (none, or a deleted deal's under {@code deals.onDeleted: recreate}) ends the wait, and so does the
     * timeout.
     */
    private boolean awaitsLinkOfItsCreate(String key, long now) {
        ValueAndTimestamp<Long> create = createsInFlight.get(key);
        if (create == null) {
            return false;
        }
        if (!linkArrived(key, create)) {
            if (now - create.timestamp() < createLinkTimeout.toMillis()) {
                return true;
            }
            log.warn("The CREATE of order {} brought no link in {} (its answer lost, the CRM unreachable or the command "
                    + "dead-lettered); its latest change is decided without one, as another CREATE that the connector's "
                    + "look-up turns into an update of the deal it finds", key, createLinkTimeout);
        }
        createsInFlight.delete(key);
        return false;
    }

    private boolean linkArrived(String key, ValueAndTimestamp<Long> create) {
        return linkVersion(projector.links().get(key)) != create.value();
    }

    private static long linkVersion(SyncLink link) {
        return link == null ? NO_LINK : link.getUpdatedAt().toEpochMilli();
    }

    /** Drops the CREATEs whose link came (or whose wait is over) while their order did not change, so the store stays small. */
    private void forgetSettledCreates(long now) {
        List<String> settled = new ArrayList<>();
        try (KeyValueIterator<String, ValueAndTimestamp<Long>> all = createsInFlight.all()) {
            all.forEachRemaining(create -> {
                if (linkArrived(create.key, create.value) || now - create.value.timestamp() >= createLinkTimeout.toMillis()) {
                    settled.add(create.key);
                }
            });
        }
        settled.forEach(createsInFlight::delete);
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
        if (!createLinkTimeout.isZero() && decision.command().map(c -> c.getKind() == DealCommandKind.CREATE).orElse(false)) {
            createsInFlight.put(key, ValueAndTimestamp.make(linkVersion(link), timestamp));
        }
        decision.command().ifPresent(command -> projector.command(key, command, command.getKind().name(), timestamp));
        decision.outcome().ifPresent(outcome -> projector.outcome(key, outcome, timestamp));
    }

    private void deadLetter(String key, OrderChanged order, String reason, boolean inProcess) {
        projector.deadLetter(source, key, order, order.getSiteId(), reason, inProcess);
    }
}
