package org.dealbridge.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.dealbridge.app.config.ConfigLoader;
import org.dealbridge.app.runtime.DealBridgeRuntime;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.emulator.Fault;
import org.dealbridge.emulator.Portal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store stops answering DealBridge's reads (its hook queue and poller): {@code /health/ready} shows the store's
 * ingestion DEGRADED ("waiting") and {@code dealbridge_ingest_unreachable_seconds{portal="store"}} how long, as it
 * does for a connector whose side is away; both clear once the store answers again. Before, ingestion's failing reads
 * showed nowhere but the log.
 */
class IngestionHealthTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final Pattern STORE_UNREACHABLE = Pattern.compile("dealbridge_ingest_unreachable_seconds\\{portal=\"store\"} ([0-9.eE+-]+)");

    @TempDir
    Path dir;

    @Test
    void theStoresIngestionIsDegradedWithAGaugeOfHowLongWhileItsReadsFailInARow() throws Exception {
        try (BitrixEmulator emulator = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled())) {
            emulator.store().addStatus("N", "Accepted");
            Map<String, String> env = new HashMap<>();
            env.put("DEALBRIDGE_DATA_DIR", dir.resolve("data").toString());
            env.put("DEALBRIDGE_HTTP_PORT", "0");
            env.put("DEALBRIDGE_STORE_WEBHOOK_URL", emulator.storeWebhookUrl());
            env.put("DEALBRIDGE_REST_ALLOW_INSECURE_HTTP", "true");
            env.put("DEALBRIDGE_STORE_POLL_INTERVAL", "PT1S");
            try (DealBridgeRuntime runtime = DealBridgeRuntime.start(ConfigLoader.load(null, env))) {
                int port = runtime.httpPort();
                String reading = await(port, "/health/ready", body -> body.contains("\"store-ingestion\"") && storeIngestion(body).contains("UP"));
                assertThat(storeIngestion(reading)).contains("reading");
                assertThat(unreachableSeconds(get(port, "/metrics"))).isZero();

                emulator.faults().outage(Portal.STORE, Duration.ofHours(1), Fault.HTTP_500);
                String waiting = await(port, "/health/ready", body -> storeIngestion(body).contains("DEGRADED"));
                assertThat(storeIngestion(waiting)).contains("waiting: reads from the store have failed in a row since")
                        .doesNotContain(emulator.storeWebhookUrl());
                await(port, "/metrics", body -> unreachableSeconds(body) > 0);

                emulator.faults().endOutage(Portal.STORE);
                await(port, "/health/ready", body -> storeIngestion(body).contains("UP"));
                assertThat(unreachableSeconds(get(port, "/metrics"))).isZero();
            }
        }
    }

    /** The {@code store-ingestion} component of a health answer: from its name to the end of its object. */
    private static String storeIngestion(String health) {
        int at = health.indexOf("\"store-ingestion\"");
        return at < 0 ? "" : health.substring(at, health.indexOf('}', at) + 1);
    }

    private static double unreachableSeconds(String metrics) {
        Matcher m = STORE_UNREACHABLE.matcher(metrics);
        assertThat(m.find()).as("the gauge is exported").isTrue();
        return Double.parseDouble(m.group(1));
    }

    private static String get(int port, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    /** The body of {@code path} once {@code until} holds of it (60 s at most, else the test fails with the last body). */
    private static String await(int port, String path, Predicate<String> until) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        String body = get(port, path);
        while (!until.test(body) && System.nanoTime() < deadline) {
            Thread.sleep(200);  // polling a condition, not a proof
            body = get(port, path);
        }
        assertThat(until.test(body)).as(path + ": " + body).isTrue();
        return body;
    }
}
