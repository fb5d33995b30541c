package org.dealbridge.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ServiceLoader;
import org.dealbridge.app.cli.CommandContribution;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Each benchmark run through the bench command with tiny sizes, so none of them rots: it must finish and write its
 * result with the figures it promises. Speed is never asserted here; the figures are for reading.
 */
class BenchSmokeTest {

    @TempDir
    Path out;

    private JsonNode bench(String... args) throws Exception {
        String[] full = new String[args.length + 2];
        full[0] = "--out";
        full[1] = out.toString();
        System.arraycopy(args, 0, full, 2, args.length);
        int exit = new CommandLine(new BenchCommand()).execute(full);
        assertThat(exit).as("exit code of bench %s", String.join(" ", args)).isZero();
        JsonNode result = new ObjectMapper().readTree(out.resolve(args[0] + ".json").toFile());
        assertThat(result.get("benchmark").asText()).isEqualTo(args[0]);
        return result;
    }

    @Test
    void benchIsContributedToTheLauncher() {
        assertThat(ServiceLoader.load(CommandContribution.class).stream().map(p -> p.get().name())).contains("bench");
    }

    @Test
    void apiBudget() throws Exception {
        JsonNode result = bench("api-budget", "--orders", "20", "--baseline-seconds", "2");
        for (String key : new String[] {"update_ratio", "create_ratio", "subcommands_per_update", "subcommands_per_create_new_buyer",
                "subcommands_per_create_returning_buyer", "errors_503_after_burst"}) {
            assertThat(result.has(key)).as(key).isTrue();
        }
        // 20 orders of returning buyers: their add and rows and a share of a look-up or two (the orders may fall into
        // two coalesce windows), nothing for the contact (a search and an add would make it 3 or more)
        assertThat(result.get("subcommands_per_create_returning_buyer").asDouble()).isBetween(2.0, 2.5);
        assertThat(result.get("subcommands_per_update").asDouble()).isBetween(1.0, 1.5);
        assertThat(result.get("errors_503_after_burst").asLong()).isZero();
        assertThat(result.get("naiveOrders").asInt()).isPositive();
    }

    @Test
    void coalescing() throws Exception {
        JsonNode result = bench("coalescing", "--orders", "10", "--changes", "4");
        assertThat(result.get("deals").asInt()).isEqualTo(10);
        assertThat(result.has("newOrderDealWritesPerOrder")).isTrue();
        assertThat(result.has("linkedOrderDealWritesPerOrder")).isTrue();
        assertThat(result.get("newOrderBurstIntakeMs").asLong()).isPositive();
    }

    @Test
    void projectorThroughput() throws Exception {
        JsonNode result = bench("projector-throughput", "--orders", "300", "--rounds", "1");
        for (String key : new String[] {"rawPerSecondEos", "projectorPerSecondEos", "ratioEos",
                "rawPerSecondAtLeastOnce", "projectorPerSecondAtLeastOnce", "ratioAtLeastOnce",
                "streamsCopyRatioEos", "streamsStoreRatioEos", "streamsCopyRatioAtLeastOnce", "streamsStoreRatioAtLeastOnce"}) {
            assertThat(result.has(key)).as(key).isTrue();
        }
    }

    @Test
    void latency() throws Exception {
        JsonNode result = bench("latency", "--rate", "5", "--seconds", "3");
        assertThat(result.get("measured").asInt()).isEqualTo(result.get("orders").asInt()).isPositive();
        assertThat(result.get("p99_ms").asLong()).isGreaterThanOrEqualTo(result.get("p50_ms").asLong());
        assertThat(result.has("max_ms")).isTrue();
    }

    @Test
    void state() throws Exception {
        JsonNode result = bench("state", "--links", "500");
        for (String key : new String[] {"loadSeconds", "heapDeltaMb", "rocksDbMb", "restartSeconds", "restoreSeconds"}) {
            assertThat(result.has(key)).as(key).isTrue();
        }
    }

    @Test
    void endToEnd() throws Exception {
        JsonNode result = bench("end-to-end", "--orders", "12", "--burst", "8", "--rate", "20", "--idle-seconds", "0");
        assertThat(result.get("deals").asInt()).isEqualTo(12);
        for (String key : new String[] {"dealsPerSecond", "secondsToLastDeal", "storeRequests", "crmRequests", "storeSubCommandsPerDeal",
                "crmSubCommandsPerDeal", "crmIngestionDealListsPerDeal", "crmProductRowReadsPerDeal", "storeOrderReads"}) {
            assertThat(result.has(key)).as(key).isTrue();
        }
    }

    @Test
    void aNonPositiveSizeIsRefusedNamingTheOption() {
        var err = new java.io.StringWriter();
        CommandLine cli = new CommandLine(new BenchCommand());
        cli.setErr(new java.io.PrintWriter(err));
        assertThat(cli.execute("--out", out.toString(), "coalescing", "--orders", "0")).isNotZero();
        assertThat(err.toString()).contains("--orders must be > 0, was 0");
    }
}
