package org.dealbridge.app.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;
import org.dealbridge.schemas.registry.InMemorySchemaRegistry;
import org.dealbridge.schemas.registry.SchemaRegistryException;

/**
 * The embedded registry's schemas over the Confluent Schema Registry REST API, read-only, so standard tools (kcat
 * {@code -s avro -r}, Kafka UI, Kafka Connect's AvroConverter) can decode DealBridge's topics with
 * {@code http://<admin listener>/} as their registry URL: {@code GET /schemas/ids/{id}}, {@code GET /subjects},
 * {@code GET /subjects/{s}/versions}, {@code GET /subjects/{s}/versions/{v|latest}}, {@code POST /subjects/{s}} (look up
 * a schema) and {@code GET /config}. Registering stays DealBridge's own business: writes are refused.
 */
public final class SchemaRegistryReadApi {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TYPE = "application/vnd.schemaregistry.v1+json";
    private static final int MAX_BODY = 1 << 20;

    private final InMemorySchemaRegistry registry;

    public SchemaRegistryReadApi(InMemorySchemaRegistry registry) {
        this.registry = registry;
    }

    /** Adds the endpoints to a listener. */
    public void routeOn(HttpListener listener) {
        HttpHandler handler = this::handle;
        listener.route("/schemas/ids/", handler);
        listener.route("/subjects", handler);
        listener.route("/config", handler);
    }

    private void handle(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getRawPath();
        String method = exchange.getRequestMethod();
        try {
            if (path.equals("/config") && method.equals("GET")) {
                answer(exchange, 200, JSON.createObjectNode().put("compatibilityLevel", "BACKWARD"));
            } else if (path.startsWith("/schemas/ids/") && method.equals("GET")) {
                int id = Integer.parseInt(path.substring("/schemas/ids/".length()).replaceAll("/+$", ""));
                answer(exchange, 200, JSON.createObjectNode().put("schema", registry.schemaById(id).toString()));
            } else if (path.equals("/subjects") || path.equals("/subjects/")) {
                requireGet(method);
                answer(exchange, 200, JSON.valueToTree(registry.subjects()));
            } else if (path.startsWith("/subjects/")) {
                subject(exchange, method, path.substring("/subjects/".length()).split("/"));
            } else {
                error(exchange, 404, 404, "no such endpoint: " + method + " " + path);
            }
        } catch (SchemaRegistryException e) {
            // Confluent's error codes carry the HTTP status in their first three digits (40401 → 404, 42201 → 422)
            int status = e.errorCode() >= 10000 ? e.errorCode() / 100 : 404;
            error(exchange, status, e.errorCode(), e.getMessage());
        } catch (NumberFormatException e) {
            error(exchange, 422, 42202, "not a number: " + e.getMessage());
        } catch (MethodNotAllowed e) {
            error(exchange, 405, 405, e.getMessage());
        }
    }

    private void subject(HttpExchange exchange, String method, String[] parts) throws IOException {
        String subject = URLDecoder.decode(parts[0], StandardCharsets.UTF_8);
        if (parts.length == 1) {
            if (!method.equals("POST")) {
                throw new MethodNotAllowed("use POST /subjects/{subject} to look a schema up");
            }
            Schema schema = schemaOf(exchange);
            int id = registry.lookup(subject, schema);
            answer(exchange, 200, version(subject, id));
            return;
        }
        if (!parts[1].equals("versions")) {
            error(exchange, 404, 404, "no such endpoint under /subjects/" + subject);
            return;
        }
        if (!method.equals("GET")) {
            throw new MethodNotAllowed("this registry is read-only over HTTP: DealBridge registers its own schemas");
        }
        List<Integer> ids = registry.versionIds(subject);
        if (ids.isEmpty()) {
            throw new SchemaRegistryException("Subject '" + subject + "' not found.", SchemaRegistryException.SUBJECT_NOT_FOUND);
        }
        if (parts.length == 2) {
            answer(exchange, 200, JSON.valueToTree(java.util.stream.IntStream.rangeClosed(1, ids.size()).boxed().toList()));
            return;
        }
        int version = parts[2].equals("latest") ? ids.size() : Integer.parseInt(parts[2]);
        if (version < 1 || version > ids.size()) {
            throw new SchemaRegistryException("Version " + parts[2] + " not found.", SchemaRegistryException.VERSION_NOT_FOUND);
        }
        answer(exchange, 200, version(subject, ids.get(version - 1)));
    }

    private ObjectNode version(String subject, int id) {
        List<Integer> ids = registry.versionIds(subject);
        return JSON.createObjectNode().put("subject", subject).put("version", ids.indexOf(id) + 1).put("id", id)
                .put("schema", registry.schemaById(id).toString());
    }

    private static void requireGet(String method) {
        if (!method.equals("GET")) {
            throw new MethodNotAllowed("this registry is read-only over HTTP: DealBridge registers its own schemas");
        }
    }

    private static Schema schemaOf(HttpExchange exchange) {
        try (InputStream in = exchange.getRequestBody()) {
            byte[] body = in.readNBytes(MAX_BODY);
            JsonNode text = JSON.readTree(body).get("schema");
            if (text == null || !text.isTextual()) {
                throw new SchemaRegistryException("the body needs a \"schema\" string", SchemaRegistryException.INVALID_SCHEMA);
            }
            return new Schema.Parser().parse(text.asText());
        } catch (IOException | SchemaParseException e) {
            throw new SchemaRegistryException("not a valid Avro schema: " + e.getMessage(), SchemaRegistryException.INVALID_SCHEMA);
        }
    }

    private static void answer(HttpExchange exchange, int status, JsonNode body) throws IOException {
        AdminServer.respond(exchange, status, TYPE, JSON.writeValueAsString(body));
    }

    private static void error(HttpExchange exchange, int status, int code, String message) throws IOException {
        answer(exchange, status, JSON.createObjectNode().put("error_code", code).put("message", message));
    }

    private static final class MethodNotAllowed extends RuntimeException {
        MethodNotAllowed(String message) {
            super(message);
        }
    }
}
