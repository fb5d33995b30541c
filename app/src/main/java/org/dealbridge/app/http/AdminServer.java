package org.dealbridge.app.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.dealbridge.app.runtime.Health;
import org.dealbridge.app.runtime.HealthRegistry;
import org.dealbridge.console.Console;

/**
 * The HTTP server of a running DealBridge: {@code GET /health}, {@code GET /metrics} (Prometheus text format)
 * the hook endpoints the ingestion modules contribute ({@code /hooks/store}, {@code /hooks/bitrix24}) and, when
 * {@code console.enabled}, the web console ({@code /console/}, {@code /api/}).
 * Binds to loopback unless {@code http.bind-address} says otherwise.
 */
public final class AdminServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    private final ExecutorService executor;

    public AdminServer(String bindAddress, int port, HealthRegistry health, PrometheusMeterRegistry metrics) {
        try {
            server = HttpServer.create(new InetSocketAddress(bindAddress, port), 64);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot bind the HTTP server to " + bindAddress + ":" + port
                    + " (set http.port to a free port, or 0 for any)", e);
        }
        executor = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "dealbridge-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/health", exchange -> {
            if (!allow(exchange, "GET")) {
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
        server.createContext("/metrics", exchange -> {
            if (allow(exchange, "GET")) {
                respond(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape());
            }
        });
    }

    /** Adds an endpoint, e.g. a hook. */
    public void route(String path, HttpHandler handler) {
        server.createContext(path, handler);
    }

    /** Adds the web console's pages ({@code /console/}) and API ({@code /api/}). */
    public void route(Console console) {
        console.routes().forEach(this::route);
    }

    public void start() {
        server.start();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
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
