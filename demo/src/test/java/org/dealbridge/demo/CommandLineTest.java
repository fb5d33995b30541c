package org.dealbridge.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.dealbridge.app.cli.DealBridgeCli;
import org.dealbridge.dealprojector.topology.DealProjectorTopology;
import org.dealbridge.kafka.embedded.EmbeddedKafka;
import org.dealbridge.mapping.MappingTable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Every command of {@code bin/dealbridge} as a user runs it: the script, a separate process per command, exit codes and
 * what is printed. One embedded broker for the class, handed to the commands through {@code --config} like a user's
 * own Kafka; one {@code run} on it for the whole class, as in a user's second terminal.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CommandLineTest {
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(90);
    private static final Path EXAMPLE_MAPPING = Path.of("..", "mapping-config", "examples", "s1.yaml").toAbsolutePath().normalize();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @TempDir
    static Path dir;
    private static EmbeddedKafka kafka;
    private static Launcher launcher;
    private static Path config;
    private static Launcher.Running run;
    private static int runHttpPort;

    @BeforeAll
    static void startBrokerAndRun() throws Exception {
        kafka = EmbeddedKafka.start(dir.resolve("broker"), 0, Map.of());
        config = dir.resolve("dealbridge.yaml");
        Files.writeString(config, "kafka:\n  bootstrap-servers: " + kafka.bootstrapServers() + "\n"
                + "data:\n  dir: " + dir.resolve("data") + "\nhttp:\n  port: 0\n");
        launcher = new Launcher(dir);
        run = launcher.start("run", "--config", config.toString());
        Pattern ready = Pattern.compile("DealBridge running; health: http://[^:]+:(\\d+)/health");
        runHttpPort = Integer.parseInt(await("run prints where its health is", Duration.ofSeconds(120), () -> {
            if (!run.process().isAlive()) {
                fail("run exited with " + run.process().exitValue() + "\n" + run.outSoFar() + run.errSoFar());
            }
            Matcher m = ready.matcher(run.outSoFar());
            return m.find() ? m.group(1) : null;
        }));
    }

    @AfterAll
    static void stop() throws Exception {
        if (run != null && run.process().isAlive()) {
            run.process().destroyForcibly().waitFor();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    /** Each command path of the picocli tree, the root's included, so a new command is swept without naming it here. */
    static List<List<String>> commandPaths(CommandLine command, List<String> prefix, List<List<String>> into) {
        into.add(prefix);
        Map<String, CommandLine> byName = new LinkedHashMap<>();
        command.getSubcommands().values().forEach(sub -> byName.putIfAbsent(sub.getCommandName(), sub)); // no aliases
        byName.forEach((name, sub) -> {
            List<String> path = new ArrayList<>(prefix);
            path.add(name);
            commandPaths(sub, path, into);
        });
        return into;
    }

    @Test
    void everyCommandPrintsItsHelp() throws Exception {
        List<List<String>> paths = commandPaths(DealBridgeCli.commandLine(), List.of(), new ArrayList<>());
        assertThat(paths.stream().map(p -> String.join(" ", p)))
                .as("the sweep sees the built-in and the contributed commands")
                .contains("run", "demo", "mapping show", "mapping scaffold", "backfill", "dlq replay", "trace", "bench state");
        // two at a time: each is a JVM start of a second or two, and the machine has two cores
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            List<java.util.concurrent.Future<Launcher.Result>> results = new ArrayList<>();
            for (List<String> path : paths) {
                List<String> args = new ArrayList<>(path);
                args.add("--help");
                results.add(pool.submit(() -> launcher.run(COMMAND_TIMEOUT, args.toArray(String[]::new))));
            }
            for (int i = 0; i < paths.size(); i++) {
                List<String> path = paths.get(i);
                Launcher.Result r = results.get(i).get();
                String command = String.join(" ", path) + " --help";
                String usage = ("Usage: dealbridge " + String.join(" ", path)).trim();
                assertThat(r.exit()).as(command + "\n" + r.printed()).isZero();
                assertThat(r.out()).as(command + "\n" + r.printed()).contains(usage);
                assertThat(r.err()).as(command + "\n" + r.printed()).isEmpty();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void versionIsTheVersionTheLauncherWasBuiltAs() throws Exception {
        for (String[] args : List.of(new String[] {"--version"}, new String[] {"mapping", "-V"}, new String[] {"bench", "state", "--version"})) {
            Launcher.Result r = launcher.run(COMMAND_TIMEOUT, args);
            assertThat(r.exit()).as(String.join(" ", args) + "\n" + r.printed()).isZero();
            assertThat(r.out()).as(String.join(" ", args) + "\n" + r.printed())
                    .isEqualTo("DealBridge " + System.getProperty("dealbridge.version") + "\n");
        }
    }

    @Test
    @Order(1)
    void runServesTheMetricsOfEveryStateStoreKind() throws Exception {
        // a RocksDB store of the deal projector and the in-memory global store of the mapping, in the same Streams app
        Pattern rocksDb = stateStoreMetric(DealProjectorTopology.LINKS_STORE);
        Pattern inMemory = stateStoreMetric(MappingTable.STORE);
        String[] last = {""};
        String metrics;
        try {
            metrics = await("state-store metrics of both kinds on /metrics", Duration.ofSeconds(90), () -> {
                String text = get("/metrics");
                last[0] = text;
                return rocksDb.matcher(text).find() && inMemory.matcher(text).find() ? text : null;
            });
        } catch (AssertionError e) {
            // say which kind was missing and which stores did show, so a failure can be read without a rerun
            throw new AssertionError(e.getMessage() + ": RocksDB store " + rocksDb.matcher(last[0]).find() + ", in-memory store "
                    + inMemory.matcher(last[0]).find() + "; state ids shown: " + stateIds(last[0]) + "\n"
                    + run.outSoFar().lines().filter(l -> l.contains(" WARN ") || l.contains(" ERROR ")).toList() + "\n" + run.errSoFar(), e);
        }
        assertThat(metrics).contains("kafka_stream_state_");
        assertThat(run.errSoFar()).as("no meter was refused").doesNotContain("Prometheus requires");
    }

    private static java.util.Set<String> stateIds(String metrics) {
        java.util.Set<String> ids = new java.util.TreeSet<>();
        Matcher m = Pattern.compile("state_id=\"([^\"]+)\"").matcher(metrics);
        while (m.find()) {
            ids.add(m.group(1));
        }
        return ids;
    }

    private static Pattern stateStoreMetric(String store) {
        return Pattern.compile("(?m)^kafka_stream_state_\\w+\\{[^}]*state_id=\"" + Pattern.quote(store) + "\"");
    }

    @Test
    @Order(2)
    void mappingCommandsPublishShowAndRollBack() throws Exception {
        String document = Files.readString(EXAMPLE_MAPPING);
        String cfg = config.toString();

        Launcher.Result valid = launcher.run(COMMAND_TIMEOUT, "mapping", "validate", EXAMPLE_MAPPING.toString());
        assertThat(valid.exit()).as(valid.printed()).isZero();
        assertThat(valid.out()).as(valid.printed()).contains("valid (offline), site s1");

        Launcher.Result published = launcher.run(COMMAND_TIMEOUT, "mapping", "publish", EXAMPLE_MAPPING.toString(), "--offline", "--config", cfg);
        assertThat(published.exit()).as(published.printed()).isZero();
        assertThat(published.out()).as(published.printed()).contains("published site s1 version 1");

        Launcher.Result shown = launcher.run(COMMAND_TIMEOUT, "mapping", "show", "s1", "--config", cfg);
        assertThat(shown.exit()).as(shown.printed()).isZero();
        assertThat(shown.out()).as("the header and then the whole document\n" + shown.printed())
                .startsWith("# site s1 version 1, published ").endsWith(document.endsWith("\n") ? document : document + "\n");

        Path second = dir.resolve("s1-v2.yaml");
        Files.writeString(second, document.replace("byPipeline: { \"2\": 9 }", "byPipeline: { \"2\": 7 }"));
        Launcher.Result v2 = launcher.run(COMMAND_TIMEOUT, "mapping", "publish", second.toString(), "--offline", "--config", cfg);
        assertThat(v2.exit()).as(v2.printed()).isZero();
        assertThat(v2.out()).as(v2.printed()).contains("published site s1 version 2");

        Launcher.Result firstAgain = launcher.run(COMMAND_TIMEOUT, "mapping", "show", "s1", "--version", "1", "--config", cfg);
        assertThat(firstAgain.exit()).as(firstAgain.printed()).isZero();
        assertThat(firstAgain.out()).as(firstAgain.printed()).startsWith("# site s1 version 1,").contains("byPipeline: { \"2\": 9 }");

        Launcher.Result history = launcher.run(COMMAND_TIMEOUT, "mapping", "history", "s1", "--config", cfg);
        assertThat(history.exit()).as(history.printed()).isZero();
        assertThat(history.out().lines().filter(l -> l.matches("^[12] .*"))).as(history.printed()).hasSize(2);

        Launcher.Result rollback = launcher.run(COMMAND_TIMEOUT, "mapping", "rollback", "s1", "--to", "1", "--offline", "--config", cfg);
        assertThat(rollback.exit()).as(rollback.printed()).isZero();
        assertThat(rollback.out()).as(rollback.printed()).contains("published site s1 version 3");

        Launcher.Result exported = launcher.run(COMMAND_TIMEOUT, "mapping", "export", "s1", "--config", cfg);
        assertThat(exported.exit()).as(exported.printed()).isZero();
        assertThat(exported.out()).as("version 3 is version 1's document\n" + exported.printed()).contains("byPipeline: { \"2\": 9 }");

        Launcher.Result scaffold = launcher.run(COMMAND_TIMEOUT, "mapping", "scaffold", "--live", "--config", cfg);
        assertThat(scaffold.exit()).as("no CRM is configured\n" + scaffold.printed()).isEqualTo(1);
        assertThat(scaffold.err()).as(scaffold.printed()).startsWith("error: ").contains("CRM and the store");

        Launcher.Result withdrawn = launcher.run(COMMAND_TIMEOUT, "mapping", "withdraw", "s1", "--yes", "--config", cfg);
        assertThat(withdrawn.exit()).as(withdrawn.printed()).isZero();
        assertThat(withdrawn.out()).as(withdrawn.printed()).contains("withdrew the mapping of site s1");
        Launcher.Result gone = launcher.run(COMMAND_TIMEOUT, "mapping", "show", "s1", "--config", cfg);
        assertThat(gone.exit()).as(gone.printed()).isEqualTo(1);
        assertThat(gone.err()).as(gone.printed()).startsWith("error: ").contains("s1");
    }

    @Test
    @Order(3)
    void operationsCommandsAnswerFromTheBroker() throws Exception {
        String cfg = config.toString();
        Launcher.Result list = launcher.run(COMMAND_TIMEOUT, "dlq", "list", "--config", cfg);
        assertThat(list.exit()).as(list.printed()).isZero();
        assertThat(list.out()).as(list.printed()).contains("0 dead letter(s)");
        Launcher.Result replay = launcher.run(COMMAND_TIMEOUT, "dlq", "replay", "--all", "--config", cfg);
        assertThat(replay.exit()).as(replay.printed()).isZero();
        assertThat(replay.out()).as(replay.printed()).contains("0 replayed, 0 not replayed");
        Launcher.Result retire = launcher.run(COMMAND_TIMEOUT, "dlq", "retire", "no-such-letter", "--note", "a test", "--config", cfg);
        assertThat(retire.exit()).as(retire.printed()).isEqualTo(1);
        assertThat(retire.err()).as(retire.printed()).contains("no current dead letter has id 'no-such-letter'");
        Launcher.Result trace = launcher.run(COMMAND_TIMEOUT, "trace", "s1:5001", "--config", cfg);
        assertThat(trace.exit()).as("an order DealBridge never saw\n" + trace.printed()).isEqualTo(1);
        assertThat(trace.out()).as(trace.printed()).contains("Order s1:5001").contains("the order never reached DealBridge");
        Launcher.Result backfill = launcher.run(COMMAND_TIMEOUT, "backfill", "--site", "s1", "--config", cfg);
        assertThat(backfill.exit()).as("no store is configured\n" + backfill.printed()).isNotZero();
        assertThat(backfill.err()).as(backfill.printed()).contains("the store is not configured");
    }

    @Test
    @Order(4)
    void runStopsCleanlyOnSigterm() throws Exception {
        run.process().destroy(); // SIGTERM, as Ctrl-C or a service manager stops it
        Launcher.Result stopped = run.waitFor(Duration.ofSeconds(60));
        assertThat(stopped.exit()).as("the JVM's exit code for SIGTERM after the shutdown hook ran\n" + stopped.printed()).isEqualTo(143);
        assertThat(stopped.err()).as(stopped.printed()).contains("PENDING_SHUTDOWN -> NOT_RUNNING");
    }

    /** The body of a 200 answer, else empty. */
    private static String get(String path) throws InterruptedException {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + runHttpPort + path))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body() : "";
        } catch (java.io.IOException notAnswering) {
            return "";
        }
    }

    /** Polls until {@code probe} gives a value (not null), or fails naming what was awaited. */
    private static <T> T await(String what, Duration timeout, Callable<T> probe) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            T value = probe.call();
            if (value != null) {
                return value;
            }
            Thread.sleep(250);
        }
        throw new AssertionError("timed out after " + timeout + " waiting for " + what);
    }
}
