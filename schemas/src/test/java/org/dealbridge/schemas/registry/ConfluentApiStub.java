package org.dealbridge.schemas.registry;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A stand-in for a schema registry (not a Bitrix system) on 127.0.0.1: each test scripts the answers the Confluent
 * API reference gives for the case at hand, and reads back the requests the client made.
 */
final class ConfluentApiStub implements AutoCloseable {
    record Request(String method, String path, String contentType, String accept, String authorization, String body) {
    }

    private record Answer(int status, String body) {
    }

    private final HttpServer server;
    private final String prefix;
    private final Map<String, Deque<Answer>> answers = new ConcurrentHashMap<>();
    private final List<Request> requests = new CopyOnWriteArrayList<>();

    /** @param prefix the path the API lives under: "" for Confluent and Karapace, "/apis/ccompat/v7" for Apicurio */
    ConfluentApiStub(String prefix) throws IOException {
        this.prefix = prefix;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + prefix;
    }

    /** Queues an answer for "METHOD /path" (path after the prefix, as sent, i.e. URL-encoded); the last one repeats. */
    ConfluentApiStub answer(String method, String path, int status, String body) {
        answers.computeIfAbsent(method + " " + path, k -> new ArrayDeque<>()).add(new Answer(status, body));
        return this;
    }

    List<Request> requests() {
        return List.copyOf(requests);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String rawPath = exchange.getRequestURI().getRawPath();
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String path = rawPath.startsWith(prefix) ? rawPath.substring(prefix.length()) : "(outside prefix)" + rawPath;
            requests.add(new Request(exchange.getRequestMethod(), path, exchange.getRequestHeaders().getFirst("Content-Type"),
                    exchange.getRequestHeaders().getFirst("Accept"), exchange.getRequestHeaders().getFirst("Authorization"), body));
            Deque<Answer> queue = answers.get(exchange.getRequestMethod() + " " + path);
            Answer answer;
            if (queue == null || queue.isEmpty()) {
                answer = new Answer(404, "{\"error_code\":404,\"message\":\"HTTP 404 Not Found\"}");
            } else {
                answer = queue.size() > 1 ? queue.poll() : queue.peek();
            }
            byte[] bytes = answer.body().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/vnd.schemaregistry.v1+json");
            exchange.sendResponseHeaders(answer.status(), bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
