package org.dealbridge.app.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.dealbridge.app.runtime.Health;
import org.dealbridge.app.runtime.HealthRegistry;
import org.dealbridge.console.Console;

/**
 * The admin listener of a running DealBridge: {@code GET /health/live}, {@code GET /health/ready} (also as
 * {@code /health}), {@code GET /metrics} (Prometheus text format), and the hook endpoints the ingestion modules
 * contribute ({@code /hooks/store}, {@code /hooks/bitrix24}) unless {@code http.hooks.port} gives them a listener of
 * their own ({@link HookServer}), and, when {@code console.enabled}, the web console ({@code /console/}, {@code /api/}).
 * Binds to loopback unless {@code http.bind-address} says otherwise.
 */
public final class AdminServer extends HttpListener {
    private static final ObjectMapper JSON = new ObjectMapper();

    public AdminServer(String bindAddress, int port, HealthRegistry health, PrometheusMeterRegistry metrics) {
        super("http", bindAddress, port, 4, "http.port");
        // liveness: the process answers. Never the CRM, the store or Kafka: a probe that restarts the process on an
        // outage of the other side would only restart-loop it.
        route("/health/live", exchange -> {
            if (allow(exchange, "GET")) {
                respond(exchange, 200, "application/json", "{\n  \"status\" : \"UP\"\n}");
            }
        });
        // readiness (and /health, its old name): Kafka and the roles run; a side that is down degrades it
        route("/health", exchange -> {
            if (!allow(exchange, "GET")) {
                return;
            }
            String path = exchange.getRequestURI().getPath();
            if (!path.equals("/health") && !path.equals("/health/ready")) {
                respond(exchange, 404, "text/plain", "no such endpoint: " + path + " (/health/live, /health/ready)\n");
                return;
            }
            Map<String, Health> components = health.components();
            Health.Status overall = HealthRegistry.overall(components);
            ObjectNode body = JSON.createObjectNode();
            body.put("status", overall.name());
            ObjectNode parts = body.putObject("components");
            components.forEach((name, h) -> {
                ObjectNode c = parts.putObject(name);
                c.put("status", h.status().name());
                if (h.detail() != null) {
                    c.put("detail", h.detail());
                }
            });
            respond(exchange, overall == Health.Status.DOWN ? 503 : 200, "application/json",
                    JSON.writerWithDefaultPrettyPrinter().writeValueAsString(body));
        });
        route("/metrics", exchange -> {
            if (allow(exchange, "GET")) {
                respond(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape());
            }
        });
    }

    /** Adds the web console's pages ({@code /console/}) and API ({@code /api/}): on this listener, never the hooks' one. */
    public void route(Console console) {
        console.routes().forEach(this::route);
    }

    private static boolean allow(HttpExchange exchange, String method) throws IOException {
        if (!method.equals(exchange.getRequestMethod())) {
            exchange.getResponseHeaders().add("Allow", method);
            respond(exchange, 405, "text/plain", "method " + exchange.getRequestMethod() + " not allowed, use " + method + "\n");
            return false;
        }
        return true;
    }

    public static void respond(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }
}
