package org.dealbridge.opschecks;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A command-line tool from a Debian package (prometheus, promtool, docker-compose). Missing on a developer machine:
 * the test is skipped with a message saying what to install. Missing in CI ({@code CI} set): the test fails,
 * because {@code .ci/run} installs the packages and a silently skipped check would hide a broken pipeline.
 */
record ExternalTool(Path path) {

    static ExternalTool require(String name, String debianPackage) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate)) {
                return new ExternalTool(candidate);
            }
        }
        String message = name + " is not installed (apt-get install -y " + debianPackage + ")";
        if (System.getenv("CI") != null) {
            fail(message + "; CI must install it");
        }
        Assumptions.abort(message + "; skipped outside CI");
        throw new AssertionError("unreachable");
    }

    /** Output (stdout and stderr merged) and exit code of one run. */
    record Result(int exitCode, String output) {
    }

    Result run(Path workDir, byte[] stdin, String... args) {
        List<String> command = new ArrayList<>();
        command.add(path.toString());
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true).start();
            try {
                if (stdin != null) {
                    p.getOutputStream().write(stdin);
                }
                p.getOutputStream().close();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!p.waitFor(60, TimeUnit.SECONDS)) {
                    fail(String.join(" ", command) + " did not finish within 60 s");
                }
                return new Result(p.exitValue(), out);
            } finally {
                p.destroyForcibly();
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + command + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The repository root (the tests run in the module's folder). */
    static Path repositoryRoot() {
        Path here = Path.of("").toAbsolutePath();
        for (Path p = here; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("docker-compose.yml")) && Files.isDirectory(p.resolve("ops"))) {
                return p;
            }
        }
        throw new IllegalStateException("no repository root with docker-compose.yml and ops/ above " + here);
    }
}
