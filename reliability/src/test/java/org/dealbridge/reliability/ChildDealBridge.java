package org.dealbridge.reliability;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * DealBridge as a separate JVM, so it can be killed with SIGKILL and restarted on the same data directory while the
 * broker and the emulators live on in the test JVM: either the launcher's main class ({@code DealBridgeCli run --config
 * FILE}) on this JVM's class path with the test log configuration, or ({@link #launched}) {@code bin/dealbridge run
 * --config FILE} itself, as users start it: the script, its {@code exec} of java and the production log configuration.
 * Its standard output and error are appended to one log file per incarnation, kept for the secret scan.
 */
final class ChildDealBridge implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final Path dir;
    private final boolean throughLauncher;
    private final Path configFile;
    private final int httpPort;
    private final List<Path> logs = new ArrayList<>();
    private Process process;

    /** {@code settings}: configuration keys and values; {@code http.port} and {@code data.dir} are chosen here. */
    ChildDealBridge(Path dir, Map<String, String> settings) throws IOException {
        this(dir, settings, false);
    }

    /**
     * {@code bin/dealbridge run} as users start it. The script runs on the classes under test ({@code DEALBRIDGE_CLASSPATH},
     * which skips its jar build) minus every test class path entry, so the production log configuration is the one in
     * force; the script {@code exec}s java, so the process killed is the JVM itself.
     */
    static ChildDealBridge launched(Path dir, Map<String, String> settings) throws IOException {
        return new ChildDealBridge(dir, settings, true);
    }

    private ChildDealBridge(Path dir, Map<String, String> settings, boolean throughLauncher) throws IOException {
        this.dir = dir;
        this.throughLauncher = throughLauncher;
        this.httpPort = freePort();
        Map<String, String> all = new TreeMap<>(settings);
        all.put("http.port", Integer.toString(httpPort));
        all.put("data.dir", dir.resolve("data").toString());
        StringBuilder yaml = new StringBuilder();
        // flat dotted keys, each value quoted so YAML reads every one as a string
        all.forEach((k, v) -> yaml.append(k).append(": \"").append(v.replace("\\", "\\\\").replace("\"", "\\\"")).append("\"\n"));
        Files.createDirectories(dir);
        configFile = dir.resolve("dealbridge.yaml");
        Files.writeString(configFile, yaml.toString());
    }

    void start() throws IOException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("the child DealBridge is already running");
        }
        Path log = dir.resolve("child-" + (logs.size() + 1) + ".log");
        logs.add(log);
        ProcessBuilder builder;
        if (throughLauncher) {
            builder = new ProcessBuilder(launcherScript().toString(), "run", "--config", configFile.toString()).directory(dir.toFile());
            builder.environment().keySet().removeIf(k -> k.startsWith("DEALBRIDGE_"));  // the developer's own settings
            builder.environment().put("DEALBRIDGE_CLASSPATH", withoutTestEntries(childClassPath()));
            builder.environment().put("JAVA_OPTS", "-Xmx384m -XX:+UseSerialGC -XX:TieredStopAtLevel=1");
            builder.environment().put("PATH", Path.of(System.getProperty("java.home"), "bin") + java.io.File.pathSeparator
                    + System.getenv().getOrDefault("PATH", ""));  // the script's java is this JVM's
        } else {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            builder = new ProcessBuilder(java, "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                    "-cp", childClassPath(),
                    "org.dealbridge.app.cli.DealBridgeCli", "run", "--config", configFile.toString());
        }
        process = builder.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    /** {@code bin/dealbridge} of this checkout: from a module's folder (surefire) or from the project's root. */
    static Path launcherScript() {
        for (Path root : List.of(Path.of(".."), Path.of("."))) {
            Path script = root.resolve("bin").resolve("dealbridge").toAbsolutePath().normalize();
            if (Files.isExecutable(script)) {
                return script;
            }
        }
        throw new IllegalStateException("bin/dealbridge not found from " + Path.of("").toAbsolutePath());
    }

    /**
     * A class path without test classes and test-only jars: a test's log configuration (log4j2-test.xml, the Kafka test
     * jars' log4j2.yaml) would replace the one users get. (The demo's CLI tests filter their launcher's the same way.)
     */
    private static String withoutTestEntries(String classPath) {
        return java.util.Arrays.stream(classPath.split(java.io.File.pathSeparator))
                .filter(entry -> !entry.endsWith("test-classes") && !entry.endsWith("-test.jar")
                        && !entry.endsWith("-tests.jar") && !entry.contains("kafka-test-common"))
                .collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
    }

    /**
     * This JVM's class path, behind {@code reliability.child.classpath.prepend} when set: the way to run the child with
     * one class changed (e.g. a writer without its ORIGIN_ID look-up, to see the crash loop catch the duplicates).
     */
    private static String childClassPath() {
        String prepend = System.getProperty("reliability.child.classpath.prepend", "");
        String own = System.getProperty("java.class.path");
        return prepend.isBlank() ? own : prepend + java.io.File.pathSeparator + own;
    }

    /**
     * SIGKILL: no shutdown hook runs, nothing is flushed or committed (destroyForcibly sends SIGKILL on Linux). Returns
     * the command that was killed: the JVM ({@code .../bin/java}) once the launcher has {@code exec}ed it, else the
     * script still starting, whose children (none once it execs) are killed with it.
     */
    String kill() throws InterruptedException {
        String command = process.toHandle().info().command().orElse("?");
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        process.waitFor();
        return command;
    }

    /** What a one-shot command printed and how it ended. */
    record Result(int exitCode, String output) {
    }

    /**
     * Runs another command of the launcher ({@code mapping publish FILE}, {@code dlq list}, ...) with this child's
     * configuration, as an operator does next to a running instance, and waits for it (at most two minutes).
     */
    Result command(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", childClassPath(),
                "org.dealbridge.app.cli.DealBridgeCli"));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("--config", configFile.toString()));
        Path log = dir.resolve("command-" + System.nanoTime() + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError(String.join(" ", args) + " did not finish in 2 minutes:\n" + Files.readString(log));
        }
        return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    }

    /** Waits for the child to end by itself (a start-up that fails), returning its exit code. */
    int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
            throw new AssertionError("the child DealBridge still runs after " + timeout + "; log:\n" + tail());
        }
        return process.exitValue();
    }

    /** Waits until {@code /health} answers 200 (every component up), or fails naming the last answer and the log. */
    void awaitHealthy(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("the child DealBridge exited with " + process.exitValue() + "; log:\n" + tail());
            }
            try {
                HttpResponse<String> r = health();
                if (r.statusCode() == 200) {
                    return;
                }
                last = r.statusCode() + " " + r.body();
            } catch (IOException notYetListening) {
                last = notYetListening.toString();
            }
            Thread.sleep(250);
        }
        throw new AssertionError("the child DealBridge is not healthy after " + timeout + ": " + last + "\nlog:\n" + tail());
    }

    HttpResponse<String> health() throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/health")).timeout(Duration.ofSeconds(5))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> metrics() throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/metrics")).timeout(Duration.ofSeconds(5))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    boolean isAlive() {
        return process != null && process.isAlive();
    }

    int httpPort() {
        return httpPort;
    }

    /** Everything every incarnation printed. */
    String output() throws IOException {
        StringBuilder all = new StringBuilder();
        for (Path log : logs) {
            if (Files.exists(log)) {
                all.append(Files.readString(log, StandardCharsets.UTF_8));
            }
        }
        return all.toString();
    }

    String tail() {
        try {
            String out = output();
            return out.length() > 6000 ? out.substring(out.length() - 6000) : out;
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    /** Stops the child politely (SIGTERM: the shutdown hook closes the runtime), SIGKILL if it takes too long. */
    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                kill();
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
