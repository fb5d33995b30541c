package org.dealbridge.orderevents;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Objects;
import org.dealbridge.orderevents.IngestMetrics.RejectReason;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /hooks/store}: the store's outbound REST event ONSALEORDERSAVED (reference §10.3, §11.9), a form body
 * with {@code event}, {@code data[FIELDS][ID]} and {@code auth[application_token]}. The event only names the order, so
 * this handler checks the call and hands the id to the {@link OrderRefreshQueue}; it answers before the order is read
 * (the queue server throttles slow handlers, §10.5).
 *
 * <p>Answers, in the order they are checked:
 * <ul>
 *   <li>405 for anything but POST;</li>
 *   <li>413 when the body is larger than {@code maxBodyBytes} (a real event is a few hundred bytes);</li>
 *   <li>400 when the body is not a form (bad percent-escapes, not UTF-8, empty), naming what is wrong;</li>
 *   <li>401 when {@code auth[application_token]} is missing or wrong, compared in constant time; nothing is queued
 *       and the token is never logged or echoed;</li>
 *   <li>for ONSALEBEFOREORDERDELETE (when a deletion sink is given): the order's deletion is published at once (the
 *       order cannot be read any more), 200;</li>
 *   <li>200 "ignored" for an authentic event other than these: a subscription for more events than we
 *       handle is a configuration matter, not a reason to make the queue server log failures (it never retries);</li>
 *   <li>400 when {@code data[FIELDS][ID]} is missing or not a positive integer;</li>
 *   <li>200 otherwise, with the order queued (503 while shutting down).</li>
 * </ul>
 */
public final class StoreHookHandler implements HttpHandler {
    private static final Logger log = LoggerFactory.getLogger(StoreHookHandler.class);
    public static final String ORDER_SAVED = "ONSALEORDERSAVED";
    public static final String ORDER_DELETED = "ONSALEBEFOREORDERDELETE";
    /** The component name in dead letters of orders that came in through this hook. */
    public static final String COMPONENT = "store-hook";
    /** Default body limit: an event is about 400 bytes; application payloads with OAuth tokens stay under 2 KiB. */
    public static final int DEFAULT_MAX_BODY_BYTES = 16 * 1024;

    private final byte[] applicationToken;
    private final int maxBodyBytes;
    private final OrderRefreshQueue queue;
    private final IngestMetrics metrics;
    private final java.util.function.LongConsumer deletions;

    /**
     * @param applicationToken the token shown in the store's outbound-webhook settings (must not be blank)
     */
    public StoreHookHandler(String applicationToken, int maxBodyBytes, OrderRefreshQueue queue, IngestMetrics metrics) {
        this(applicationToken, maxBodyBytes, queue, metrics, null);
    }

    /**
     * @param deletions where the id of an order the store deletes goes (published as a deletion); null: deletion events
     *                  are ignored like any other event this handler does not take
     */
    public StoreHookHandler(String applicationToken, int maxBodyBytes, OrderRefreshQueue queue, IngestMetrics metrics,
                            java.util.function.LongConsumer deletions) {
        if (applicationToken == null || applicationToken.isBlank()) {
            throw new IllegalArgumentException("store.application-token must be set: without it every store event would be refused");
        }
        if (maxBodyBytes < 256) {
            throw new IllegalArgumentException("hook body limit must be at least 256 bytes, got " + maxBodyBytes);
        }
        this.applicationToken = applicationToken.getBytes(StandardCharsets.UTF_8);
        this.maxBodyBytes = maxBodyBytes;
        this.queue = Objects.requireNonNull(queue, "queue");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.deletions = deletions;
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!"POST".equalsIgnoreCase(exchange.getRequestMethod())) {
                exchange.getResponseHeaders().add("Allow", "POST");
                reject(exchange, 405, RejectReason.METHOD, "only POST is accepted");
                return;
            }
            byte[] body = readLimited(exchange);
            if (body == null) {
                discardRest(exchange);
                reject(exchange, 413, RejectReason.TOO_LARGE, "body larger than " + maxBodyBytes + " bytes");
                return;
            }
            StoreEventForm form;
            try {
                form = StoreEventForm.parse(body);
            } catch (StoreEventForm.MalformedEventException e) {
                reject(exchange, 400, RejectReason.MALFORMED, "malformed event: " + e.getMessage());
                return;
            }
            if (!authentic(form.get(StoreEventForm.APPLICATION_TOKEN))) {
                reject(exchange, 401, RejectReason.BAD_TOKEN, "missing or wrong auth[application_token]");
                return;
            }
            String event = form.get(StoreEventForm.EVENT);
            if (event == null || event.isBlank()) {
                reject(exchange, 400, RejectReason.MALFORMED, "malformed event: form field 'event' is missing");
                return;
            }
            boolean deleted = deletions != null && ORDER_DELETED.equalsIgnoreCase(event.trim());
            if (!deleted && !ORDER_SAVED.equalsIgnoreCase(event.trim())) {
                log.debug("store hook: event {} ignored, only {} is handled", event, ORDER_SAVED);
                respond(exchange, 200, "ignored: event " + event + " is not handled, only " + ORDER_SAVED);
                return;
            }
            String rawId = form.get(StoreEventForm.ORDER_ID);
            long orderId;
            try {
                orderId = rawId == null ? -1 : Long.parseLong(rawId.trim());
            } catch (NumberFormatException e) {
                orderId = -1;
            }
            if (orderId <= 0) {
                reject(exchange, 400, RejectReason.MALFORMED, rawId == null
                        ? "malformed event: form field data[FIELDS][ID] is missing"
                        : "malformed event: data[FIELDS][ID] must be a positive order id but was '" + abbreviate(rawId) + "'");
                return;
            }
            if (deleted) {
                deletions.accept(orderId);
                respond(exchange, 200, "order " + orderId + " deleted");
                return;
            }
            OrderRefreshQueue.Submitted submitted;
            try {
                submitted = queue.submit(orderId);
            } catch (IllegalStateException closed) {
                // shutting down: the poller picks the order up after the restart
                respond(exchange, 503, "shutting down; order " + orderId + " is left to the store poller");
                return;
            }
            respond(exchange, 200, "order " + orderId + " " + submitted.name().toLowerCase(java.util.Locale.ROOT));
        }
    }

    // MessageDigest.isEqual takes time independent of where the first difference is (JDK 6u17+).
    private boolean authentic(String presented) {
        return presented != null && MessageDigest.isEqual(applicationToken, presented.getBytes(StandardCharsets.UTF_8));
    }

    /** The body, or null when it exceeds the limit (judged by Content-Length first, then by what arrives). */
    private byte[] readLimited(HttpExchange exchange) throws IOException {
        String declared = exchange.getRequestHeaders().getFirst("Content-Length");
        if (declared != null) {
            try {
                if (Long.parseLong(declared.trim()) > maxBodyBytes) {
                    return null;
                }
            } catch (NumberFormatException ignored) {
                // the JDK server rejects such requests itself; the streamed check below still applies
            }
        }
        InputStream in = exchange.getRequestBody();
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.min(maxBodyBytes, 4096));
        byte[] buffer = new byte[4096];
        int total = 0;
        int n;
        while ((n = in.read(buffer)) > 0) {
            total += n;
            if (total > maxBodyBytes) {
                return null;
            }
            out.write(buffer, 0, n);
        }
        return out.toByteArray();
    }

    private void reject(HttpExchange exchange, int status, RejectReason reason, String message) throws IOException {
        metrics.hookRejected(reason);
        log.warn("store hook refused a call from {}: {} {}", exchange.getRemoteAddress(), status, message);
        respond(exchange, status, message);
    }

    /**
     * Reads and drops what is left of an oversized body (up to 1 MiB, never kept in memory) and asks for the connection
     * to be closed after the answer: answering while the client is still sending made the server hang up first, so the
     * client saw a reset instead of the 413, and its next request failed on the dead pooled connection.
     */
    private static void discardRest(HttpExchange exchange) throws IOException {
        try (java.io.InputStream rest = exchange.getRequestBody()) {
            long left = 1 << 20;
            byte[] buffer = new byte[8192];
            int n;
            while (left > 0 && (n = rest.read(buffer, 0, (int) Math.min(buffer.length, left))) > 0) {
                left -= n;
            }
        }
        exchange.getResponseHeaders().set("Connection", "close");
    }

    private static void respond(HttpExchange exchange, int status, String message) throws IOException {
        byte[] bytes = (message + "\n").getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    private static String abbreviate(String value) {
        return value.length() > 40 ? value.substring(0, 40) + "..." : value;
    }
}
