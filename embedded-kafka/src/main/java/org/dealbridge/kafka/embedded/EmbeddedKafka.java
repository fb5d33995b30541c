package org.dealbridge.kafka.embedded;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real one-node KRaft broker (broker and controller combined) started in this JVM: the broker of
 * {@code bin/dealbridge run}/{@code demo} when no {@code kafka.bootstrap-servers} is configured, and of the
 * one-node integration tests.
 *
 * <p>Data lives in {@code dataDir}: started again on the same dir it keeps topics, offsets and committed
 * transactions. While running, the bootstrap address is written to {@value #ADDRESS_FILE} in the data dir
 * so that other commands ({@code mapping}, {@code trace}, ...) started from the same folder find it.
 */
public final class EmbeddedKafka implements AutoCloseable {
    public static final String ADDRESS_FILE = "broker.address";
    private static final Logger log = LoggerFactory.getLogger(EmbeddedKafka.class);

    private final Path dataDir;
    private final KafkaRaftServer server;
    private final String bootstrapServers;
    private volatile boolean closed;

    private EmbeddedKafka(Path dataDir, KafkaRaftServer server, String bootstrapServers) {
        this.dataDir = dataDir;
        this.server = server;
        this.bootstrapServers = bootstrapServers;
    }

    /**
     * Starts a broker storing its data under {@code dataDir/kafka}.
     *
     * @param port the client port, 0 for any free port (the port of the previous run is reused when free, so
     *             clients that remembered it keep working after a restart)
     * @param extraConfig broker properties that override the defaults (e.g. replication of internal topics)
     */
    public static EmbeddedKafka start(Path dataDir, int port, Map<String, String> extraConfig) {
        return start(dataDir, port, extraConfig, null);
    }

    /**
     * A broker whose only client listener wants SASL/PLAIN (the way a secured production cluster does) and authorizes
     * with ACLs: {@code admin} is the broker's own super user, every other user may do only what an ACL grants it. A
     * client without SASL settings sees no error there, only a timeout, as it would against a real cluster.
     *
     * @param users user name → password; must contain {@code admin}
     */
    public static EmbeddedKafka startWithSaslPlain(Path dataDir, Map<String, String> users, Map<String, String> extraConfig) {
        if (!users.containsKey("admin")) {
            throw new IllegalArgumentException("users must contain the broker's own user \"admin\"");
        }
        StringBuilder jaas = new StringBuilder("org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" password=\"")
                .append(users.get("admin")).append('"');
        users.forEach((user, password) -> jaas.append(" user_").append(user).append("=\"").append(password).append('"'));
        jaas.append(';');
        Map<String, String> sasl = new java.util.LinkedHashMap<>();
        sasl.put("sasl.enabled.mechanisms", "PLAIN");
        sasl.put("sasl.mechanism.inter.broker.protocol", "PLAIN");
        sasl.put("listener.name.sasl_plaintext.plain.sasl.jaas.config", jaas.toString());
        sasl.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
        sasl.put("super.users", "User:admin;User:ANONYMOUS");  // ANONYMOUS: the plaintext controller listener
        sasl.put("allow.everyone.if.no.acl.found", "false");
        sasl.putAll(extraConfig);
        return start(dataDir, 0, sasl, saslClient("admin", users.get("admin")));
    }

    /** Client settings for a user of {@link #startWithSaslPlain}. */
    public static Properties saslClient(String user, String password) {
        Properties p = new Properties();
        p.put("security.protocol", "SASL_PLAINTEXT");
        p.put("sasl.mechanism", "PLAIN");
        p.put("sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"" + user
                + "\" password=\"" + password + "\";");
        return p;
    }

    /** {@code clientSecurity}: null for a plaintext listener, else the SASL settings of the broker's admin user. */
    private static EmbeddedKafka start(Path dataDir, int port, Map<String, String> extraConfig, Properties clientSecurity) {
        String protocol = clientSecurity == null ? "PLAINTEXT" : clientSecurity.getProperty("security.protocol");
        try {
            Files.createDirectories(dataDir);
            Path logDir = dataDir.resolve("kafka");
            Files.createDirectories(logDir);
            int clientPort = port != 0 ? port : previousPortOrFree(dataDir);
            // the client port is not bound yet when it is the previous run's, so a free port may be that very one
            int controllerPort = freePort();
            while (controllerPort == clientPort) {
                controllerPort = freePort();
            }
            Properties p = new Properties();
            p.put("process.roles", "broker,controller");
            p.put("node.id", "1");
            p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
            p.put("listeners", protocol + "://127.0.0.1:" + clientPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
            p.put("advertised.listeners", protocol + "://127.0.0.1:" + clientPort);
            p.put("controller.listener.names", "CONTROLLER");
            p.put("inter.broker.listener.name", protocol);
            p.put("listener.security.protocol.map", protocol + ":" + protocol + ",CONTROLLER:PLAINTEXT");
            p.put("log.dirs", logDir.toString());
            // One node: internal topics must have replication 1, or an exactly_once_v2 application hangs.
            p.put("offsets.topic.replication.factor", "1");
            p.put("offsets.topic.num.partitions", "10");
            p.put("transaction.state.log.replication.factor", "1");
            p.put("transaction.state.log.min.isr", "1");
            p.put("transaction.state.log.num.partitions", "10");
            p.put("share.coordinator.state.topic.replication.factor", "1");
            p.put("share.coordinator.state.topic.min.isr", "1");
            p.put("group.initial.rebalance.delay.ms", "0");
            // 16 MB instead of 128 MB keeps an idle broker near 55 MB of heap.
            p.put("log.cleaner.dedupe.buffer.size", String.valueOf(16 << 20));
            p.put("num.partitions", "3");
            p.put("auto.create.topics.enable", "false");
            extraConfig.forEach(p::put);

            Path propsFile = dataDir.resolve("server.properties");
            try (Writer w = Files.newBufferedWriter(propsFile, StandardCharsets.UTF_8)) {
                p.store(w, "written by DealBridge: the embedded broker's last configuration");
            }
            if (!Files.exists(logDir.resolve("meta.properties"))) {
                PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
                int rc = StorageTool.execute(new String[] {"format", "-t", Uuid.randomUuid().toString(),
                        "-c", propsFile.toString()}, quiet);
                if (rc != 0) {
                    throw new IllegalStateException("formatting Kafka storage in " + logDir + " failed with code " + rc);
                }
            }
            KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(p, false), Time.SYSTEM);
            String bootstrap = "127.0.0.1:" + clientPort;
            EmbeddedKafka kafka = new EmbeddedKafka(dataDir, server, bootstrap);
            try {
                server.startup();
                kafka.awaitReady(Duration.ofSeconds(60), clientSecurity);
                Files.writeString(dataDir.resolve(ADDRESS_FILE), bootstrap + "\n" + ProcessHandle.current().pid() + "\n");
            } catch (RuntimeException | Error e) {
                kafka.close(); // the broker's threads are non-daemon: never leave them behind
                throw e;
            }
            log.info("embedded Kafka broker ready at {} with data in {}", bootstrap, logDir);
            return kafka;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare embedded Kafka data dir " + dataDir, e);
        }
    }

    private void awaitReady(Duration timeout, Properties clientSecurity) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Properties props = new Properties();
        if (clientSecurity != null) {
            props.putAll(clientSecurity);
        }
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "2000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "3000");
        try (Admin admin = Admin.create(props)) {
            while (true) {
                try {
                    if (!admin.describeCluster().nodes().get(3, TimeUnit.SECONDS).isEmpty()) {
                        return;
                    }
                } catch (Exception e) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("embedded Kafka at " + bootstrapServers + " not ready after " + timeout, e);
                    }
                }
                sleep(100);
            }
        }
    }

    /**
     * The bootstrap address of the embedded broker a {@code run} or {@code demo} in this data dir has started,
     * or an error saying none is running.
     */
    public static String runningBrokerAddress(Path dataDir) {
        Path file = dataDir.resolve(ADDRESS_FILE);
        if (!Files.exists(file)) {
            throw new IllegalStateException("no embedded Kafka broker is running for data dir " + dataDir.toAbsolutePath()
                    + ": start 'bin/dealbridge run' or 'bin/dealbridge demo' from this folder, or set kafka.bootstrap-servers");
        }
        try {
            String[] lines = Files.readString(file).split("\n");
            long pid = Long.parseLong(lines[1].trim());
            if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                return lines[0].trim();
            }
            throw new IllegalStateException("the embedded Kafka broker recorded in " + file.toAbsolutePath() + " (process " + pid
                    + ") is no longer running: start 'bin/dealbridge run' or 'bin/dealbridge demo' from this folder");
        } catch (IOException | RuntimeException e) {
            if (e instanceof IllegalStateException ise) {
                throw ise;
            }
            throw new IllegalStateException("cannot read the embedded broker address from " + file.toAbsolutePath() + ": " + e, e);
        }
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    public Path dataDir() {
        return dataDir;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            Files.deleteIfExists(dataDir.resolve(ADDRESS_FILE));
        } catch (IOException e) {
            log.warn("cannot remove {}: {}", dataDir.resolve(ADDRESS_FILE), e.toString());
        }
        server.shutdown();
        server.awaitShutdown();
    }

    private static int previousPortOrFree(Path dataDir) throws IOException {
        Path props = dataDir.resolve("server.properties");
        if (Files.exists(props)) {
            Properties p = new Properties();
            try (var r = Files.newBufferedReader(props)) {
                p.load(r);
            }
            String adv = p.getProperty("advertised.listeners", "");
            int colon = adv.lastIndexOf(':');
            if (colon > 0) {
                try {
                    int port = Integer.parseInt(adv.substring(colon + 1).trim());
                    try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                        return port;
                    } catch (IOException busy) {
                        // taken by something else: pick a new one
                    }
                } catch (NumberFormatException ignored) {
                    // fall through
                }
            }
        }
        return freePort();
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on loopback", e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the embedded broker", e);
        }
    }
}
