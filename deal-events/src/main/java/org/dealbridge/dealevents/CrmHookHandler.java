package org.dealbridge.dealevents;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Locale;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /hooks/bitrix24}: the CRM's outbound events {@code ONCRMDEALADD}, {@code ONCRMDEALUPDATE} and
 * {@code ONCRMDEALDELETE} (form-encoded, {@code data[FIELDS][ID]}, {@code auth[application_token]}). The event names
 * only the deal, so the handler queues the id for a read and answers at once.
 *
 * <p>Answers, in the order checked: 405 not POST; 413 body over the limit; 400 not a form; 401 token missing or wrong
 * (constant-time comparison, nothing queued, the token never logged); 200 "ignored" for other events; 400 deal id
 * missing or not a positive integer; 200 queued (503 while shutting down: the poller covers it).
 */
public final class CrmHookHandler implements HttpHandler {

    private static final Logger log = LoggerFactory.getLogger(CrmHookHandler.class);
    public static final String PATH = "/hooks/bitrix24";
    static final Set<String> UPSERTS = Set.of("ONCRMDEALADD", "ONCRMDEALUPDATE");
    static final String DELETE = "ONCRMDEALDELETE";

    private final byte[] applicationToken;
    private final int maxBodyBytes;
    private final DealRefreshQueue queue;

    public CrmHookHandler(DealEventsConfig config, DealRefreshQueue queue) {
        String token = config.applicationToken().value();
        if (token == null || token.isBlank()) {
            throw new IllegalArgumentException(DealEventsConfig.APPLICATION_TOKEN + " must be set: without it every CRM event would be refused");
        }
        this.applicationToken = token.getBytes(StandardCharsets.UTF_8);
        this.maxBodyBytes = config.maxBodyBytes();
        this.queue = queue;
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!"POST".equalsIgnoreCase(exchange.getRequestMethod())) {
                exchange.getResponseHeaders().add("Allow", "POST");
                reject(exchange, 405, "only POST is accepted");
                return;
            }
            byte[] body = readLimited(exchange);
            if (body == null) {
                discardRest(exchange);
                reject(exchange, 413, "body larger than " + maxBodyBytes + " bytes");
                return;
            }
            HookForm form;
            try {
                form = HookForm.parse(body);
            } catch (HookForm.MalformedException e) {
                reject(exchange, 400, "malformed event: " + e.getMessage());
                return;
            }
            String presented = form.get(HookForm.APPLICATION_TOKEN);
            if (presented == null || !MessageDigest.isEqual(applicationToken, presented.getBytes(StandardCharsets.UTF_8))) {
                reject(exchange, 401, "missing or wrong auth[application_token]");
                return;
            }
            String event = form.get(HookForm.EVENT) == null ? "" : form.get(HookForm.EVENT).trim().toUpperCase(Locale.ROOT);
            if (event.isEmpty()) {
                reject(exchange, 400, "malformed event: form field 'event' is missing");
                return;
            }
            if (!UPSERTS.contains(event) && !DELETE.equals(event)) {
                respond(exchange, 200, "ignored: event " + event + " is not handled");
                return;
            }
            String rawId = form.get(HookForm.DEAL_ID);
            long dealId = -1;
            try {
                dealId = rawId == null ? -1 : Long.parseLong(rawId.trim());
            } catch (NumberFormatException ignored) {
                // reported below
            }
            if (dealId <= 0) {
                reject(exchange, 400, rawId == null ? "malformed event: form field data[FIELDS][ID] is missing"
                        : "malformed event: data[FIELDS][ID] must be a positive deal id but was '"
                        + (rawId.length() > 40 ? rawId.substring(0, 40) + "…" : rawId) + "'");
                return;
            }
            try {
                if (DELETE.equals(event)) {
                    queue.deleted(dealId);
                    respond(exchange, 200, "deal " + dealId + " deletion published");
                } else {
                    respond(exchange, 200, "deal " + dealId + " " + queue.submit(dealId).name().toLowerCase(Locale.ROOT));
                }
            } catch (IllegalStateException closed) {
                respond(exchange, 503, "shutting down; deal " + dealId + " is left to the poller");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                respond(exchange, 503, "shutting down; deal " + dealId + " is left to the poller");
            }
        }
    }

    private byte[] readLimited(HttpExchange exchange) throws IOException {
        String declared = exchange.getRequestHeaders().getFirst("Content-Length");
        if (declared != null) {
            try {
                if (Long.parseLong(declared.trim()) > maxBodyBytes) {
                    return null;
                }
            } catch (NumberFormatException ignored) {
                // the streamed check below still applies
            }
        }
        InputStream in = exchange.getRequestBody();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
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

    private static void reject(HttpExchange exchange, int status, String message) throws IOException {
        log.warn("CRM hook refused a call from {}: {} {}", exchange.getRemoteAddress(), status, message);
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
}
