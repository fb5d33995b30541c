package org.dealbridge.emulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/** A plain java.net.http client for the tests: real HTTP, Jackson for reading, nothing from bitrix-rest. */
final class Rest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    record Answer(int status, JsonNode body, String raw, String contentType) {
        JsonNode result() {
            return body.get("result");
        }
    }

    private Rest() {
    }

    static Answer call(BitrixEmulator emu, Portal portal, String method, Object params) {
        return postJson(emu.webhookUrl(portal) + method, params);
    }

    static Answer crm(BitrixEmulator emu, String method, Object params) {
        return call(emu, Portal.CRM, method, params);
    }

    static Answer store(BitrixEmulator emu, String method, Object params) {
        return call(emu, Portal.STORE, method, params);
    }

    static Answer postJson(String url, Object params) {
        try {
            return send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(params == null ? Map.of() : params))));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Answer postForm(String url, String form) {
        return send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form, StandardCharsets.UTF_8)));
    }

    static Answer post(String url, String contentType, byte[] body) {
        return send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
    }

    static Answer get(String url) {
        return send(HttpRequest.newBuilder(URI.create(url)).GET());
    }

    static Answer delete(String url) {
        return send(HttpRequest.newBuilder(URI.create(url)).DELETE());
    }

    static Answer send(HttpRequest.Builder request) {
        try {
            HttpResponse<String> r = HTTP.send(request.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
            String ct = r.headers().firstValue("Content-Type").orElse("");
            JsonNode body = ct.startsWith("application/json") ? JSON.readTree(r.body()) : null;
            return new Answer(r.statusCode(), body, r.body(), ct);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
