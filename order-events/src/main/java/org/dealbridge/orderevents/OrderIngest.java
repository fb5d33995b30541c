package org.dealbridge.orderevents;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.dealbridge.bitrix.BitrixException;
import org.dealbridge.bitrix.store.StoreApi;
import org.dealbridge.ingestion.BulkRead;
import org.dealbridge.ingestion.PublishedVersions;
import org.dealbridge.ingestion.ReadFailures;
import org.dealbridge.ingestion.Refresher;
import org.dealbridge.schemas.ChangeCause;
import org.dealbridge.schemas.ChangeSource;
import org.dealbridge.schemas.OrderChanged;

/**
 * One order into Kafka: read it ({@link OrderReader}) and publish the event, or, when it cannot be read for good (it
 * does not exist, a field is malformed, the store rejects the request for it), publish a dead letter instead and no
 * event. A failure that may pass ({@link ReadFailures#waits}: the store unreachable, 5xx, an HTML page, a timeout, a
 * rate refusal, a refused webhook) is thrown to the caller, and every caller waits: the hook's queue keeps the order
 * and reads it again after a backoff, the poller's round stops before it, backfill stops and is run again.
 */
public final class OrderIngest {
    /** What happened to one order. {@code sent} is the pending send of the event or of the dead letter. */
    public record Outcome(long orderId, OrderChanged event, Future<RecordMetadata> sent) {
        public boolean published() {
            return event != null;
        }
    }

    /** Orders read with one bulk read: one {@code sale.order.list} page. */
    public static final int BULK = StoreApi.ORDERS_PER_BULK_READ;

    private final OrderReader reader;
    private final OrderPublisher publisher;
    /** Orders in Kafka with their dateUpdate and content, shared by the hook's queue and the pollers: a poller does not read them again. */
    private final PublishedVersions published = new PublishedVersions();

    public OrderIngest(OrderReader reader, OrderPublisher publisher) {
        this.reader = Objects.requireNonNull(reader, "reader");
        this.publisher = Objects.requireNonNull(publisher, "publisher");
    }

    public OrderPublisher publisher() {
        return publisher;
    }

    /** What this ingest has put in Kafka (acknowledged), for the pollers ({@link StorePoller}). */
    public PublishedVersions publishedVersions() {
        return published;
    }

    /**
     * @param component the dead letter's component, e.g. {@code store-hook}, {@code store-poller}, {@code backfill}
     * @param siteId    the site the order is believed to belong to (for the dead letter), or null when unknown
     * @throws BitrixException when the read should wait ({@link ReadFailures#waits})
     */
    public Outcome ingest(long orderId, ChangeSource source, String component, String siteId) {
        return published.readingAndSending(List.of(orderId), () -> readAndSend(orderId, source, component, siteId));
    }

    private Outcome readAndSend(long orderId, ChangeSource source, String component, String siteId) {
        OrderChanged event;
        try {
            event = reader.read(orderId, ChangeCause.newBuilder().setSource(source).setActor("dealbridge-" + component).build());
        } catch (BitrixException e) {
            if (ReadFailures.waits(e)) {
                throw e;
            }
            return new Outcome(orderId, null, publisher.deadLetter(component, siteId, orderId, e, 1));
        } catch (OrderUnreadableException | IllegalArgumentException | IllegalStateException | org.apache.avro.AvroRuntimeException e) {
            return new Outcome(orderId, null, publisher.deadLetter(component, siteId, orderId, e, 1));
        }
        return new Outcome(orderId, event, publisher.publish(event));
    }

    /**
     * The store's {@link Refresher} for the hook's queue ({@code source} STORE_HOOK) and the poller (STORE_POLL): the
     * orders read in bulk ({@link BulkRead}, {@link OrderReader#readAll}: up to 50 per store request), each one sent or
     * dead-lettered on its own, then the producer flushed and every send checked, so the caller may move on. An order
     * the answer lacks no longer exists: a dead letter, as a single {@code sale.order.get} answering "not found" was.
     *
     * @throws BitrixException when a read should wait ({@link ReadFailures#waits}): the hook's queue keeps the orders
     *                         and reads them again after a backoff, the poller's round stops there
     */
    public Refresher.Refreshed refresh(List<Long> orderIds, ChangeSource source, String component, String siteId) {
        ChangeCause cause = ChangeCause.newBuilder().setSource(source).setActor("dealbridge-" + component).build();
        List<Outcome> outcomes = new ArrayList<>();
        BulkRead.Handler<OrderChanged> handler = new BulkRead.Handler<>() {
            @Override
            public void publish(long id, OrderChanged event) {
                outcomes.add(new Outcome(id, event, publisher.publish(event)));
            }

            @Override
            public boolean gone(long id) {
                outcomes.add(new Outcome(id, null, publisher.deadLetter(component, siteId, id, new OrderUnreadableException(id,
                        "order " + id + " does not exist (sale.order.list with @id did not return it)", null), 1)));
                return true;
            }

            @Override
            public void unreadable(long id, RuntimeException cause) {
                outcomes.add(new Outcome(id, null, publisher.deadLetter(component, siteId, id, cause, 1)));
            }

            @Override
            public void confirm() {
                List<Outcome> sent = List.copyOf(outcomes);
                outcomes.clear();
                OrderIngest.this.confirm(sent);
            }
        };
        BulkRead<OrderChanged> bulk = new BulkRead<>(ids -> reader.readAll(ids, cause), handler, BULK);
        List<Long> ids = List.copyOf(new LinkedHashSet<>(orderIds));
        Refresher.Refreshed done = Refresher.Refreshed.NONE;
        for (int from = 0; from < ids.size(); from += BULK) {
            List<Long> chunk = ids.subList(from, Math.min(ids.size(), from + BULK));
            // the read and the sends of a chunk under its orders' locks (see PublishedVersions.readingAndSending)
            done = done.plus(published.readingAndSending(chunk, () -> bulk.refresh(chunk)));
        }
        return done;
    }

    /** Flushes, waits for every send (a failed one throws, naming the order) and counts what was published. */
    public Refresher.Refreshed confirm(List<Outcome> outcomes) {
        publisher.flush();
        int published = 0;
        for (Outcome outcome : outcomes) {
            OrderPublisher.await(outcome.sent(), "order " + outcome.orderId());
            if (outcome.published()) {
                this.published.published(outcome.orderId(), outcome.event().getDateUpdate(), OrderReader.content(outcome.event()));
                published++;
            }
        }
        return new Refresher.Refreshed(published, outcomes.size() - published);
    }
}
