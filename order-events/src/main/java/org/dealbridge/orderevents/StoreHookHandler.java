package org.dealbridge.orderevents;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.util.Locale;
import java.util.Objects;
import java.util.function.LongConsumer;
import org.dealbridge.bitrix.events.EventHook;
import org.dealbridge.bitrix.events.EventHook.Answer;
import org.dealbridge.bitrix.events.OutboundEvent;
import org.dealbridge.ingestion.RefreshQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /hooks/store}: the store's outbound REST event ONSALEORDERSAVED (reference §10.3, §11.9). The call is
 * checked by {@link EventHook} (405, 413, 400, 401, in that order); an authentic event is answered here:
 * <ul>
 *   <li>for ONSALEBEFOREORDERDELETE (when a deletion sink is given): the order's deletion is published at once (the
 *       order cannot be read any more), 200;</li>
 *   <li>200 "ignored" for an authentic event other than these: a subscription for more events than we
 *       handle is a configuration matter, not a reason to make the queue server log failures (it never retries);</li>
 *   <li>400 when {@code data[FIELDS][ID]} is missing or not a positive integer;</li>
 *   <li>200 otherwise, with the order queued for a read (503 while not running: the poller covers it).</li>
 * </ul>
 * It answers before the order is read (the queue server throttles slow handlers, §10.5).
 */
public final class StoreHookHandler implements HttpHandler {
    private static final Logger log = LoggerFactory.getLogger(StoreHookHandler.class);
    public static final String PATH = "/hooks/store";
    public static final String ORDER_SAVED = "ONSALEORDERSAVED";
    public static final String ORDER_DELETED = "ONSALEBEFOREORDERDELETE";
    /** The component name in dead letters of orders that came in through this hook. */
    public static final String COMPONENT = "store-hook";
    public static final int DEFAULT_MAX_BODY_BYTES = EventHook.DEFAULT_MAX_BODY_BYTES;

    private final EventHook hook;
    private final RefreshQueue queue;
    private final LongConsumer deletions;

    /**
     * @param applicationToken the token shown in the store's outbound-webhook settings (must not be blank)
     */
    public StoreHookHandler(String applicationToken, int maxBodyBytes, RefreshQueue queue, IngestMetrics metrics) {
        this(applicationToken, maxBodyBytes, queue, metrics, null);
    }

    /**
     * @param deletions where the id of an order the store deletes goes (published as a deletion); null: deletion events
     *                  are ignored like any other event this handler does not take
     */
    public StoreHookHandler(String applicationToken, int maxBodyBytes, RefreshQueue queue, IngestMetrics metrics,
                            LongConsumer deletions) {
        if (applicationToken == null || applicationToken.isBlank()) {
            throw new IllegalArgumentException("store.application-token must be set: without it every store event would be refused");
        }
        this.queue = Objects.requireNonNull(queue, "queue");
        this.deletions = deletions;
        this.hook = new EventHook("store hook", applicationToken, maxBodyBytes, this::receive, metrics::hookRejected);
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        hook.handle(exchange);
    }

    private Answer receive(OutboundEvent event) {
        boolean deleted = deletions != null && ORDER_DELETED.equals(event.name());
        if (!deleted && !ORDER_SAVED.equals(event.name())) {
            log.debug("store hook: event {} ignored, only {} is handled", event.name(), ORDER_SAVED);
            return Answer.ok("ignored: event " + event.name() + " is not handled, only " + ORDER_SAVED);
        }
        long orderId = event.id("order");
        if (deleted) {
            deletions.accept(orderId);
            return Answer.ok("order " + orderId + " deleted");
        }
        try {
            return Answer.ok("order " + orderId + " " + queue.submit(orderId).name().toLowerCase(Locale.ROOT));
        } catch (IllegalStateException closed) {
            return new Answer(503, "not running; order " + orderId + " is left to the store poller");
        }
    }
}
