package org.dealbridge.demo;

import static org.assertj.core.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * {@code bin/dealbridge} started as a separate process, the way a user starts it: through the script, with its
 * arguments, environment and working folder, its standard output and error kept apart. The script runs on the classes
 * under test ({@code DEALBRIDGE_CLASSPATH}) rather than building jars, minus every test class path entry: a test's
 * log configuration (log4j2-test.xml, the Kafka test jars' log4j2.yaml) would replace the one users get.
 */
final class Launcher {
    static final Path SCRIPT = Path.of("..", "bin", "dealbridge").toAbsolutePath().normalize();
    private static final AtomicInteger RUNS = new AtomicInteger();

    private final Path workDir;

    /** Runs in {@code workDir} (where {@code ./data} would go); output files are kept there for a failing test's message. */
    Launcher(Path workDir) {
        this.workDir = workDir;
    }

    record Result(int exit, String out, String err) {
        /** For assertion messages: everything the command printed. */
        String printed() {
            return "exit " + exit + "\n--- stdout:\n" + out + "\n--- stderr:\n" + err;
        }
    }

    /** A started command: its output goes to files so a chatty process never blocks on a full pipe. */
    record Running(Process process, Path out, Path err) {
        String outSoFar() throws IOException {
            return Files.readString(out, StandardCharsets.UTF_8);
        }

        String errSoFar() throws IOException {
            return Files.readString(err, StandardCharsets.UTF_8);
        }

        Result waitFor(Duration timeout) throws Exception {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor();
                fail("bin/dealbridge did not finish within " + timeout + "\n--- stdout:\n" + outSoFar() + "\n--- stderr:\n" + errSoFar());
            }
            return new Result(process.exitValue(), outSoFar(), errSoFar());
        }
    }

    Running start(String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(SCRIPT.toString());
        command.addAll(List.of(args));
        int n = RUNS.incrementAndGet();
        Path out = workDir.resolve("run-" + n + ".out");
        Path err = workDir.resolve("run-" + n + ".err");
        ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.PIPE);
        builder.environment().keySet().removeIf(k -> k.startsWith("DEALBRIDGE_"));  // the developer's own settings
        builder.environment().put("DEALBRIDGE_CLASSPATH", classPath());
        // short-lived JVMs: the C1 compiler alone starts faster, which is most of a --help run
        builder.environment().put("JAVA_OPTS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC");
        Process process = builder.start();
        process.getOutputStream().close();
        return new Running(process, out, err);
    }

    Result run(Duration timeout, String... args) throws Exception {
        return start(args).waitFor(timeout);
    }

    /** This JVM's class path without test classes and test-only jars. */
    static String classPath() {
        return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(entry -> !entry.endsWith("test-classes") && !entry.endsWith("-test.jar")
                        && !entry.endsWith("-tests.jar") && !entry.contains("kafka-test-common"))
                .collect(Collectors.joining(File.pathSeparator));
    }
}
