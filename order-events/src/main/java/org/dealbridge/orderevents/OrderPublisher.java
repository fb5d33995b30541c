package org.dealbridge.orderevents;

import java.time.Clock;
import org.dealbridge.schemas.KafkaClients;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.dealbridge.bitrix.BitrixException;
import org.dealbridge.ingestion.KafkaCursorStore;
import org.dealbridge.schemas.DeadLetter;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.OrderChanged;
import org.dealbridge.schemas.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes {@link OrderChanged} events to {@code order-changes} and, for orders that could not be read, {@link DeadLetter}s
 * to {@code dead-letters}. Both producers are idempotent with {@code acks=all}, so a send that {@link #flush()} confirmed
 * is on every in-sync replica: the poller relies on that before it moves its cursor.
 */
public final class OrderPublisher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(OrderPublisher.class);

    private final Topics.Topic<String, OrderChanged> orderChanges;
    private final Topics.Topic<String, DeadLetter> deadLetters;
    private final KafkaProducer<String, OrderChanged> orders;
    private final KafkaProducer<String, DeadLetter> letters;
    private final IngestMetrics metrics;
    private final Clock clock;

    /**
     * @param producerConfig at least {@code bootstrap.servers}; acks, idempotence and serializers are set here
     */
    public OrderPublisher(Map<String, Object> producerConfig, Topics topics, IngestMetrics metrics, Clock clock) {
        Objects.requireNonNull(producerConfig, "producerConfig");
        this.orderChanges = topics.orderChanges();
        this.deadLetters = topics.deadLetters();
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.orders = new KafkaProducer<>(KafkaClients.producer(KafkaCursorStore.reliable(producerConfig, "order-events-orders")),
                orderChanges.keySerde().serializer(), orderChanges.valueSerde().serializer());
        this.letters = new KafkaProducer<>(KafkaClients.producer(KafkaCursorStore.reliable(producerConfig, "order-events-dead-letters")),
                deadLetters.keySerde().serializer(), deadLetters.valueSerde().serializer());
    }

    /** Sends one event keyed {@code {siteId}:{orderId}}; counts it under its cause's source. */
    public Future<RecordMetadata> publish(OrderChanged event) {
        String key = Keys.order(event.getSiteId(), event.getOrderId());
        Future<RecordMetadata> sent = orders.send(new ProducerRecord<>(orderChanges.name(), key, event));
        metrics.eventIn(event.getCause().getSource());
        return sent;
    }

    /**
     * Publishes that the store deleted an order. Order ids are unique across a store's sites, so the deletion is
     * published for the site it belongs to, or for each site synced when the event does not say (the one with a deal
     * acts on it; the others find no link).
     */
    public Future<RecordMetadata> publishDeleted(String siteId, long orderId) {
        return publish(OrderChanged.newBuilder()
                .setSiteId(siteId)
                .setOrderId(orderId)
                .setDeleted(true)
                .setStatusId("")
                .setCurrency("")
                .setPrice("0")
                .setBuyer(org.dealbridge.schemas.Buyer.newBuilder().build())
                .setDateUpdate(clock.instant())
                .setCause(org.dealbridge.schemas.ChangeCause.newBuilder().setSource(org.dealbridge.schemas.ChangeSource.STORE_HOOK)
                        .setActor("dealbridge-" + StoreHookHandler.COMPONENT).build())
                .build());
    }

    /**
     * Records that the order could not be turned into an event: site, order id and the error, without secrets
     * (BitrixException messages carry only the masked webhook URL).
     */
    public Future<RecordMetadata> deadLetter(String component, String siteId, long orderId, Throwable error, int attempts) {
        String reason = "store order " + orderId + (siteId == null ? "" : " of site " + siteId) + " could not be read: " + error.getMessage();
        String code = error instanceof BitrixException be && !be.errorCode().isEmpty() ? be.errorCode() : error.getClass().getName();
        String id = component + ":" + (siteId == null ? "?" : siteId) + ":" + orderId + ":" + UUID.randomUUID();
        DeadLetter letter = DeadLetter.newBuilder()
                .setId(id)
                .setComponent(component)
                .setSiteId(siteId)
                // no record was made: the topic and the order are what a replay needs to read it again (PortalReread)
                .setSourceTopic(orderChanges.name())
                .setKey(java.nio.ByteBuffer.wrap((siteId == null ? Long.toString(orderId) : Keys.order(siteId, orderId))
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                .setReason(reason)
                .setErrorCode(code)
                .setAttempts(attempts)
                .setFailedAt(clock.instant())
                .build();
        log.warn("dead letter {}: {}", id, reason);
        Future<RecordMetadata> sent = letters.send(new ProducerRecord<>(deadLetters.name(), id, letter));
        metrics.deadLetter(component);
        return sent;
    }

    /** Blocks until every send so far is acknowledged by all in-sync replicas; throws if any failed. */
    public void flush() {
        orders.flush();
        letters.flush();
    }

    /** Flushes and waits for every one of {@code sends}. */
    void confirm(java.util.List<Future<RecordMetadata>> sends, String what) {
        flush();
        sends.forEach(sent -> await(sent, what));
    }

    /** Waits for one send, turning its failure into a KafkaException that names the order. */
    static RecordMetadata await(Future<RecordMetadata> sent, String what) {
        try {
            return sent.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaException("interrupted while publishing " + what, e);
        } catch (ExecutionException e) {
            throw new KafkaException("publishing " + what + " failed: " + e.getCause().getMessage(), e.getCause());
        }
    }

    @Override
    public void close() {
        orders.close();
        letters.close();
    }
}
