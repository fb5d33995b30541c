package org.dealbridge.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The registry-free image that the build made with Jib (target/dealbridge-image-registry-free.tar, execution
 * registry-free-image): its config keeps the Dockerfile's contract, and unpacked into a folder it runs — the Java
 * runtime, the jars and ops/docker/entrypoint.sh — as a container runtime would start it: chrooted, as the image's
 * user, in its working directory, with only the image's environment (plus what a test gives, like {@code docker run -e}).
 * chroot needs root: CI runs as root, so a missing right is a failure, not a skip.
 */
class ImageTarTest {
    static final Path TAR = Path.of(System.getProperty("image.tar", "target/dealbridge-image-registry-free.tar"));
    static final Path REPOSITORY = Path.of("").toAbsolutePath().getParent();

    static JsonNode config;
    static Path rootfs;

    @BeforeAll
    static void unpackTheImage() throws Exception {
        assertThat(TAR).as("the tar Jib builds in pre-integration-test (run mvn verify)").isRegularFile();
        Result id = exec(List.of("id", "-u"), Map.of(), 10);
        if (!id.output().trim().equals("0")) {
            fail("ImageTarTest runs the image with chroot, which needs root (CI runs as root); user id here: "
                    + id.output().trim() + ". Run as root, or leave the image module out: mvn verify -pl '!image'");
        }
        Path unpacked = TAR.resolveSibling("image-unpacked");
        exec(List.of("rm", "-rf", unpacked.toString()), Map.of(), 60);
        Path tarDir = Files.createDirectories(unpacked.resolve("tar"));
        rootfs = Files.createDirectories(unpacked.resolve("rootfs"));
        expectSuccess(exec(List.of("tar", "-xf", TAR.toString(), "-C", tarDir.toString()), Map.of(), 60));

        ObjectMapper json = new ObjectMapper();
        JsonNode manifest = json.readTree(tarDir.resolve("manifest.json").toFile()).get(0);
        config = json.readTree(tarDir.resolve(manifest.path("Config").asText()).toFile()).path("config");
        // layers in order, as a container runtime stacks them (Jib writes no whiteouts: nothing to delete)
        for (JsonNode layer : manifest.path("Layers")) {
            expectSuccess(exec(List.of("tar", "-xzpf", tarDir.resolve(layer.asText()).toString(), "-C", rootfs.toString()),
                    Map.of(), 60));
        }
        // what a container runtime mounts into every container
        Files.createDirectories(rootfs.resolve("proc"));
        Files.createDirectories(rootfs.resolve("etc"));
        Files.writeString(rootfs.resolve("etc/hosts"), "127.0.0.1 localhost\n");
    }

    @Test
    void configKeepsTheDockerfilesContract() throws IOException {
        String dockerfile = Files.readString(REPOSITORY.resolve("Dockerfile"));
        assertThat(config.path("Entrypoint").toString()).isEqualTo(instruction(dockerfile, "ENTRYPOINT"));
        assertThat(config.path("Cmd").toString()).isEqualTo(instruction(dockerfile, "CMD"));
        assertThat(config.path("WorkingDir").asText()).isEqualTo(instruction(dockerfile, "WORKDIR"));
        assertThat(config.path("ExposedPorts").has(instruction(dockerfile, "EXPOSE") + "/tcp"))
                .as(config.path("ExposedPorts").toString()).isTrue();
        assertThat(environment()).containsAllEntriesOf(dockerfileEnvironment(dockerfile))
                .containsEntry("DEALBRIDGE_DATA_DIR", "/var/lib/dealbridge");
        // the Dockerfile names its user "dealbridge" and creates it with this uid and group; Jib's image gives the
        // numbers, as eclipse-temurin has no passwd entry for it
        assertThat(config.path("User").asText()).isEqualTo("10001:0");
        assertThat(instruction(dockerfile, "USER")).isEqualTo("dealbridge");
        assertThat(dockerfile).contains("useradd --system --uid 10001 --gid 0");
    }

    @Test
    void dataDirectoryIsWritableByTheImagesUserAndTheEntrypointIsAProgram() throws IOException {
        Path dataDir = rootfs.resolve(environment().get("DEALBRIDGE_DATA_DIR").substring(1));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dataDir, LinkOption.NOFOLLOW_LINKS)))
                .isEqualTo("rwxrwxr-x");
        assertThat(Files.getAttribute(dataDir, "unix:gid")).isEqualTo(0);
        assertThat(rootfs.resolve("opt/dealbridge/entrypoint.sh")).isExecutable();
        assertThat(Files.readString(rootfs.resolve("etc/passwd"))).contains("dealbridge:x:10001:0:");
    }

    @Test
    void versionAndHelpRunInsideTheImage() throws Exception {
        Result version = runImage(List.of("--version"), Map.of(), 60);
        assertThat(version.exitCode()).as(version.output()).isZero();
        assertThat(version.output()).contains(System.getProperty("project.version", "0.1.0-SNAPSHOT"));

        Result help = runImage(List.of("--help"), Map.of(), 60);
        assertThat(help.exitCode()).as(help.output()).isZero();
        assertThat(help.output()).contains("Usage: dealbridge").contains("run").contains("mapping");
    }

    /** The default command, {@code run}, starts inside the image and stops with the clear message of an absent broker. */
    @Test
    void runInsideTheImageSaysWhenKafkaCannotBeReached() throws Exception {
        int closedPort = freePort();
        String bootstrap = "127.0.0.1:" + closedPort;
        Map<String, String> env = new LinkedHashMap<>();
        env.put("DEALBRIDGE_KAFKA_BOOTSTRAP_SERVERS", bootstrap);
        env.put("DEALBRIDGE_KAFKA_CONNECT_TIMEOUT", "PT3S");
        // the host's network is shared here (a container would have its own): keep off ports other tests use
        env.put("DEALBRIDGE_HTTP_PORT", String.valueOf(freePort()));
        // empty, as docker-compose passes an unset secret: the entrypoint must drop it
        env.put("DEALBRIDGE_CRM_WEBHOOK_URL", "");

        long started = System.nanoTime();
        List<String> cmd = new ArrayList<>();
        config.path("Cmd").forEach(c -> cmd.add(c.asText()));
        assertThat(cmd).containsExactly("run");
        Result run = runImage(cmd, env, 90);
        assertThat(run.exitCode()).as("run stops on an absent broker:\n" + run.output()).isNotZero();
        assertThat(run.output())
                .contains("Kafka at " + bootstrap)
                .contains("nothing accepts connections at " + bootstrap)
                .doesNotContain("crm.webhook-url");
        assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started)).isLessThan(60);
    }

    // --- running the image --------------------------------------------------------------------------------------

    /**
     * Starts the image's entrypoint with {@code args} as a runtime would: in a new PID namespace with its own /proc,
     * chrooted into the unpacked layers, as the image's user, in its working directory, with the image's environment
     * and {@code extraEnv} on top.
     */
    static Result runImage(List<String> args, Map<String, String> extraEnv, int timeoutSeconds) throws Exception {
        Map<String, String> env = new LinkedHashMap<>(environment());
        // as `docker run -e JAVA_OPTS=…` would: the entrypoint passes them on (C1 alone: a short run, less CPU)
        env.put("JAVA_OPTS", "-XX:TieredStopAtLevel=1");
        env.putAll(extraEnv);
        List<String> command = new ArrayList<>(List.of(
                "unshare", "--pid", "--fork", "--kill-child", "--mount-proc=" + rootfs.resolve("proc"),
                "chroot", "--userspec=" + config.path("User").asText(), rootfs.toString(),
                // chroot starts in "/": go to the image's working directory first, then exec the entrypoint
                "/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", config.path("WorkingDir").asText()));
        config.path("Entrypoint").forEach(e -> command.add(e.asText()));
        command.addAll(args);
        return exec(command, env, timeoutSeconds);
    }

    static Map<String, String> environment() {
        Map<String, String> env = new LinkedHashMap<>();
        for (JsonNode e : config.path("Env")) {
            String[] kv = e.asText().split("=", 2);
            env.put(kv[0], kv[1]);
        }
        return env;
    }

    record Result(int exitCode, String output) {
    }

    /** Runs {@code command} with exactly {@code env} (nothing inherited), stdout and stderr merged. */
    static Result exec(List<String> command, Map<String, String> env, int timeoutSeconds) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().put("PATH", System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"));
        pb.environment().putAll(env);
        Process p = pb.start();
        try {
            p.getOutputStream().close();
            Path log = Files.createTempFile("image-run", ".log");
            Thread reader = new Thread(() -> {
                try {
                    Files.copy(p.getInputStream(), log, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                } catch (IOException ignored) {
                    // the process was killed; what was read stays in the log
                }
            });
            reader.start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                reader.join(5_000);
                fail(String.join(" ", command) + " did not finish within " + timeoutSeconds + " s:\n"
                        + Files.readString(log, StandardCharsets.UTF_8));
            }
            reader.join(10_000);
            return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } finally {
            p.destroyForcibly();
        }
    }

    static void expectSuccess(Result r) {
        assertThat(r.exitCode()).as(r.output()).isZero();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** The argument of a Dockerfile instruction of the last stage, e.g. {@code ["run"]} for CMD. */
    static String instruction(String dockerfile, String name) {
        Matcher m = Pattern.compile("(?m)^" + name + "\\s+(.+)$").matcher(dockerfile);
        String last = null;
        while (m.find()) {
            last = m.group(1).trim();
        }
        assertThat(last).as("Dockerfile has " + name).isNotNull();
        return last.replace(", ", ",").replace("\" ", "\"");
    }

    /** The Dockerfile's ENV instruction (KEY=value pairs, continued over lines with a backslash). */
    static Map<String, String> dockerfileEnvironment(String dockerfile) {
        Matcher block = Pattern.compile("(?m)^ENV\\s+((?:.*\\\\\\n)*.*)$").matcher(dockerfile);
        assertThat(block.find()).as("Dockerfile has ENV").isTrue();
        Map<String, String> env = new LinkedHashMap<>();
        Matcher pair = Pattern.compile("([A-Z_]+)=(\\S+)").matcher(block.group(1));
        while (pair.find()) {
            env.put(pair.group(1), pair.group(2));
        }
        return env;
    }
}
