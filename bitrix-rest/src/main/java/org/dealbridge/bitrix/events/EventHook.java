package org.dealbridge.bitrix.events;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Locale;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receiving end of a portal's outbound events (reference §10.3–§10.5), for any event: it checks the call and hands
 * an authentic {@link OutboundEvent} to a {@link Receiver}, which answers. The store's and the CRM's hooks are
 * receivers; everything they have in common is here.
 *
 * <p>Answers, in the order they are checked:
 * <ul>
 *   <li>405 for anything but POST;</li>
 *   <li>413 when the body is larger than {@code maxBodyBytes} (a real event is a few hundred bytes), after draining
 *       what is left of it;</li>
 *   <li>400 when the body is not a form (bad percent-escapes, not UTF-8, empty, no {@code event}), naming what is wrong;</li>
 *   <li>401 when {@code auth[application_token]} is missing or wrong, compared in constant time; the receiver is not
 *       called and the token is never logged or echoed;</li>
 *   <li>otherwise what the receiver answers (400 when it throws {@link OutboundEvent.MalformedEventException}).</li>
 * </ul>
 */
public final class EventHook implements HttpHandler {
    private static final Logger log = LoggerFactory.getLogger(EventHook.class);
    /** Default body limit: an event is about 400 bytes; application payloads with OAuth tokens stay under 2 KiB. */
    public static final int DEFAULT_MAX_BODY_BYTES = 16 * 1024;
    /** An oversized body is read and dropped up to this much before answering 413. */
    private static final long DRAIN_LIMIT = 1 << 20;

    /** Why a call was refused (the {@code reason} tag of hook metrics). */
    public enum Rejection {
        METHOD, TOO_LARGE, MALFORMED, BAD_TOKEN;

        public String tag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** What the hook answers to an authentic event. */
    public record Answer(int status, String message) {
        public static Answer ok(String message) {
            return new Answer(200, message);
        }
    }

    /** Takes an authentic event; throws {@link OutboundEvent.MalformedEventException} for a bad {@code data[…]}. */
    @FunctionalInterface
    public interface Receiver {
        Answer receive(OutboundEvent event);
    }

    /** Told of every refused call, e.g. to count it. */
    @FunctionalInterface
    public interface RejectionListener {
        void rejected(Rejection reason);
    }

    private final String name;
    private final byte[] applicationToken;
    private final int maxBodyBytes;
    private final Receiver receiver;
    private final RejectionListener rejections;

    /**
     * @param name             how logs name the hook, e.g. {@code store hook}
     * @param applicationToken the token shown in the portal's outbound-webhook settings; the caller's message names
     *                         the config key when it is blank
     */
    public EventHook(String name, String applicationToken, int maxBodyBytes, Receiver receiver, RejectionListener rejections) {
        if (applicationToken == null || applicationToken.isBlank()) {
            throw new IllegalArgumentException(name + ": the application token must be set, without it every event would be refused");
        }
        if (maxBodyBytes < 256) {
            throw new IllegalArgumentException(name + ": the body limit must be at least 256 bytes, got " + maxBodyBytes);
        }
        this.name = Objects.requireNonNull(name, "name");
        this.applicationToken = applicationToken.getBytes(StandardCharsets.UTF_8);
        this.maxBodyBytes = maxBodyBytes;
        this.receiver = Objects.requireNonNull(receiver, "receiver");
        this.rejections = Objects.requireNonNull(rejections, "rejections");
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!"POST".equalsIgnoreCase(exchange.getRequestMethod())) {
                exchange.getResponseHeaders().add("Allow", "POST");
                reject(exchange, 405, Rejection.METHOD, "only POST is accepted");
                return;
            }
            byte[] body = readLimited(exchange);
            if (body == null) {
                drainRest(exchange);
                reject(exchange, 413, Rejection.TOO_LARGE, "body larger than " + maxBodyBytes + " bytes");
                return;
            }
            OutboundEvent event;
            try {
                event = OutboundEvent.parse(body);
            } catch (OutboundEvent.MalformedEventException e) {
                reject(exchange, 400, Rejection.MALFORMED, "malformed event: " + e.getMessage());
                return;
            }
            if (!authentic(event.get(OutboundEvent.APPLICATION_TOKEN))) {
                reject(exchange, 401, Rejection.BAD_TOKEN, "missing or wrong auth[application_token]");
                return;
            }
            Answer answer;
            try {
                answer = receiver.receive(event);
            } catch (OutboundEvent.MalformedEventException e) {
                reject(exchange, 400, Rejection.MALFORMED, "malformed event: " + e.getMessage());
                return;
            }
            respond(exchange, answer.status(), answer.message());
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

    /**
     * Reads and drops what is left of an oversized body (up to 1 MiB, never kept in memory) and asks for the connection
     * to be closed after the answer: answering while the client is still sending made the server hang up first, so the
     * client saw a reset instead of the 413, and its next request failed on the dead pooled connection.
     */
    private static void drainRest(HttpExchange exchange) throws IOException {
        try (InputStream rest = exchange.getRequestBody()) {
            long left = DRAIN_LIMIT;
            byte[] buffer = new byte[8192];
            int n;
            while (left > 0 && (n = rest.read(buffer, 0, (int) Math.min(buffer.length, left))) > 0) {
                left -= n;
            }
        }
        exchange.getResponseHeaders().set("Connection", "close");
    }

    private void reject(HttpExchange exchange, int status, Rejection reason, String message) throws IOException {
        rejections.rejected(reason);
        log.warn("{} refused a call from {}: {} {}", name, exchange.getRemoteAddress(), status, message);
        respond(exchange, status, message);
    }

    private static void respond(HttpExchange exchange, int status, String message) throws IOException {
        byte[] bytes = (message + "\n").getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }
}
