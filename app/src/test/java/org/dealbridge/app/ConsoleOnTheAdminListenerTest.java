package org.dealbridge.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.dealbridge.app.config.ConfigLoader;
import org.dealbridge.app.runtime.DealBridgeRuntime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The console is served by {@code run} on the admin listener only when enabled, and then only to the token's holder. */
class ConsoleOnTheAdminListenerTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
    private static final String TOKEN = "runtime-test-console-token";

    @TempDir
    Path dir;

    private DealBridgeRuntime start(Map<String, String> extra) {
        Map<String, String> env = new HashMap<>(Map.of("DEALBRIDGE_DATA_DIR", dir.resolve("data").toString(), "DEALBRIDGE_HTTP_PORT", "0"));
        env.putAll(extra);
        return DealBridgeRuntime.start(ConfigLoader.load(null, env));
    }

    private static HttpResponse<String> get(DealBridgeRuntime runtime, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + runtime.httpPort() + path));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void offByDefault() throws Exception {
        try (DealBridgeRuntime runtime = start(Map.of())) {
            assertThat(get(runtime, "/console/").statusCode()).isEqualTo(404);
            assertThat(get(runtime, "/api/overview", "Authorization", "Bearer " + TOKEN).statusCode()).isEqualTo(404);
            assertThat(runtime.consoleSignInLink()).isEmpty();
        }
    }

    @Test
    void enabledItServesThePagesAndTheApiToTheTokensHolderOnly() throws Exception {
        try (DealBridgeRuntime runtime = start(Map.of("DEALBRIDGE_CONSOLE_ENABLED", "true", "DEALBRIDGE_CONSOLE_TOKEN", TOKEN))) {
            assertThat(get(runtime, "/console/").statusCode()).isEqualTo(200);
            assertThat(get(runtime, "/api/overview").statusCode()).isEqualTo(401);
            HttpResponse<String> overview = get(runtime, "/api/overview", "Authorization", "Bearer " + TOKEN);
            assertThat(overview.statusCode()).as(overview.body()).isEqualTo(200);
            assertThat(overview.body()).contains("\"deal-projector\"").contains("NOT_CONFIGURED");
            assertThat(get(runtime, "/api/portals/choices", "Authorization", "Bearer " + TOKEN).statusCode())
                    .as("no portals configured: the form cannot be filled").isEqualTo(409);
            String link = runtime.consoleSignInLink().orElseThrow();
            assertThat(link).startsWith("http://127.0.0.1:" + runtime.httpPort() + "/console/sign-in?code=");
            HttpResponse<String> signIn = HTTP.send(HttpRequest.newBuilder(URI.create(link)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(signIn.statusCode()).isEqualTo(303);
            assertThat(signIn.headers().firstValue("Set-Cookie").orElseThrow()).contains("HttpOnly");
            assertThat(get(runtime, "/health").statusCode()).as("the admin endpoints stay as they were").isIn(200, 503);
        }
    }
}
