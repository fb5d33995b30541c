package org.dealbridge.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.dealbridge.app.config.ConfigLoader;
import org.dealbridge.app.runtime.DealBridgeRuntime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class DealBridgeCliTest {
    @TempDir
    Path dir;

    record Result(int exit, String out, String err) {
    }

    private Result run(String... args) {
        CommandLine cli = DealBridgeCli.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    private Path config(String yaml) throws Exception {
        Path f = dir.resolve("dealbridge.yaml");
        Files.writeString(f, yaml);
        return f;
    }

    @Test
    void theCommandsOfOtherIssuesAreRegisteredAndNoPlaceholdersAre() {
        assertThat(DealBridgeCli.commandLine().getSubcommands().keySet()).contains("run", "mapping", "backfill", "dlq", "trace", "help");
    }

    @Test
    void aBadConfigurationValueFailsNamingTheKeyWhereverConfigIsGiven() throws Exception {
        Path bad = config("http:\n  port: eighty\n");
        Result r = run("mapping", "show", "s1", "--config", bad.toString());
        assertThat(r.exit()).isNotZero();
        assertThat(r.err()).contains("http.port").contains("eighty");
        Result before = run("--config", bad.toString(), "mapping", "show", "s1");
        assertThat(before.exit()).isNotZero();
        assertThat(before.err()).contains("http.port");
        Result runBad = run("run", "--config", bad.toString());
        assertThat(runBad.exit()).as("a configuration error of run exits 2").isEqualTo(2);
        assertThat(runBad.err()).contains("http.port").contains("eighty");
    }

    @Test
    void aCommandWithoutBrokerSaysClearlyThatNoEmbeddedBrokerIsRunning() throws Exception {
        Path cfg = config("data:\n  dir: " + dir.resolve("data") + "\n");
        Result r = run("mapping", "show", "s1", "--config", cfg.toString());
        assertThat(r.exit()).isNotZero();
        assertThat(r.err()).contains("no embedded Kafka broker is running").contains("bin/dealbridge run");
    }

    @Test
    void aMappingPublishedFromTheCliReachesTheEmbeddedBrokerOfARunInTheSameDataDir() throws Exception {
        Path cfg = config("data:\n  dir: " + dir.resolve("data") + "\nhttp:\n  port: 0\n");
        Path mapping = Path.of("..", "mapping-config", "examples", "s1.yaml");
        try (DealBridgeRuntime runtime = DealBridgeRuntime.start(ConfigLoader.load(cfg, Map.of()))) {
            Result published = run("mapping", "publish", mapping.toString(), "--offline", "--config", cfg.toString());
            assertThat(published.exit()).as(published.err()).isZero();
            Result shown = run("mapping", "export", "s1", "--config", cfg.toString());
            assertThat(shown.exit()).as(shown.err()).isZero();
            assertThat(shown.out()).contains("site: s1");
        }
    }

    @Test
    void theAdminCommandsActOnTheTopicsOfTheConfiguredTopicPrefix() throws Exception {
        Path data = dir.resolve("data");
        Path prefixed = config("data:\n  dir: " + data + "\nhttp:\n  port: 0\nkafka:\n  topic-prefix: shop-a.\n");
        Path plain = dir.resolve("plain.yaml");
        Files.writeString(plain, "data:\n  dir: " + data + "\n");
        Path mapping = Path.of("..", "mapping-config", "examples", "s1.yaml");
        try (DealBridgeRuntime runtime = DealBridgeRuntime.start(ConfigLoader.load(prefixed, Map.of()))) {
            assertThat(runtime.topics().mappingConfig().name()).isEqualTo("shop-a.mapping-config");
            Result published = run("mapping", "publish", mapping.toString(), "--offline", "--config", prefixed.toString());
            assertThat(published.exit()).as(published.err()).isZero();
            Result shown = run("mapping", "export", "s1", "--config", prefixed.toString());
            assertThat(shown.exit()).as(shown.err()).isZero();
            assertThat(shown.out()).contains("site: s1");
            Result unprefixed = run("mapping", "export", "s1", "--config", plain.toString());
            assertThat(unprefixed.exit()).as("without the prefix the mapping topic is another one, which has no mapping").isNotZero();
            assertThat(unprefixed.err()).contains("site s1 has no mapping");
            Result letters = run("dlq", "list", "--config", prefixed.toString());
            assertThat(letters.exit()).as(letters.err()).isZero();
        }
    }
}
