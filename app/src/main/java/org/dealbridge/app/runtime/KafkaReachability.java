package org.dealbridge.app.runtime;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TimeoutException;

/**
 * Asks the cluster to describe itself before anything else talks to it, and turns what goes wrong into one sentence an
 * operator can act on. A Kafka client only retries and logs: without this, a broker that wants SASL looks exactly like
 * a broker that is not there (the broker drops the plaintext handshake and the client sees a timeout), and start-up
 * waits silently.
 */
public final class KafkaReachability {

    /** Kafka could not be used; the message names the bootstrap servers and the likely cause, never a secret. */
    public static final class KafkaUnreachableException extends RuntimeException {
        KafkaUnreachableException(String message) {
            super(message);
        }
    }

    private KafkaReachability() {
    }

    /**
     * @param client the properties every client of DealBridge gets (bootstrap servers and {@code kafka.client.*})
     * @param timeout how long to wait for an answer ({@code kafka.connect-timeout})
     * @throws KafkaUnreachableException when the cluster does not answer, refuses the credentials or the TLS handshake
     */
    public static void verify(Properties client, Duration timeout) {
        String bootstrap = String.valueOf(client.get(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG));
        Properties p = new Properties();
        p.putAll(client);
        int ms = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, ms);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.min(ms, 30_000));
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "dealbridge-reachability");
        Object protocol = client.get(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG);
        try (Admin admin = Admin.create(p)) {
            admin.describeCluster(new DescribeClusterOptions().timeoutMs(ms)).nodes().get(ms + 5_000L, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaUnreachableException("interrupted while waiting for Kafka at " + bootstrap);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            throw new KafkaUnreachableException(scrub(explain(bootstrap, protocol == null ? null : protocol.toString(), timeout, cause), client));
        } catch (org.apache.kafka.common.KafkaException e) {
            // the client could not even be built (e.g. a truststore that cannot be read, a bad JAAS line)
            throw new KafkaUnreachableException(scrub("cannot create a Kafka client for " + bootstrap + ": " + rootMessage(e)
                    + " (check the kafka.client.* settings)", client));
        }
    }

    /**
     * Hides every secret of the client settings (and each quoted value inside a JAAS line) in a message: messages come
     * from the Kafka client, which may quote what it could not parse.
     */
    static String scrub(String message, Properties client) {
        String scrubbed = message;
        for (Object value : client.values()) {
            if (value instanceof org.apache.kafka.common.config.types.Password password && password.value() != null) {
                java.util.List<String> secrets = new java.util.ArrayList<>();
                secrets.add(password.value());
                java.util.regex.Matcher quoted = java.util.regex.Pattern.compile("\"([^\"]+)\"").matcher(password.value());
                while (quoted.find()) {
                    secrets.add(quoted.group(1));
                }
                for (String secret : secrets) {
                    if (secret.length() >= 3) {
                        scrubbed = scrubbed.replace(secret, org.apache.kafka.common.config.types.Password.HIDDEN);
                    }
                }
            }
        }
        return scrubbed;
    }

    static String explain(String bootstrap, String protocol, Duration timeout, Throwable cause) {
        if (cause instanceof SaslAuthenticationException) {
            return "Kafka at " + bootstrap + " refused DealBridge's SASL credentials: " + cause.getMessage()
                    + " (check kafka.client.sasl.mechanism and kafka.client.sasl.jaas.config)";
        }
        if (cause instanceof SslAuthenticationException) {
            return "the TLS handshake with Kafka at " + bootstrap + " failed: " + rootMessage(cause)
                    + " (check kafka.client.ssl.truststore.location/-password, or the broker's certificate)";
        }
        if (cause instanceof AuthorizationException) {
            return "Kafka at " + bootstrap + " refused DealBridge's principal: " + cause.getMessage()
                    + " (grant the ACLs listed in the README, \"Production on your cluster\")";
        }
        if (cause instanceof TimeoutException || cause instanceof java.util.concurrent.TimeoutException) {
            List<String> closed = unreachable(bootstrap);
            String wait = "Kafka at " + bootstrap + " did not answer within " + timeout.toSeconds() + " s: ";
            if (closed.size() == servers(bootstrap).size()) {
                return wait + "nothing accepts connections at " + String.join(", ", closed)
                        + " (is the broker up, and is kafka.bootstrap-servers right?)";
            }
            boolean plaintext = protocol == null || "PLAINTEXT".equalsIgnoreCase(protocol);
            if (plaintext) {
                return wait + "the broker accepts connections but does not answer a plaintext client: its listener may "
                        + "require SASL or TLS, and no SASL settings are given (set kafka.client.security.protocol, e.g. "
                        + "SASL_SSL, with kafka.client.sasl.mechanism and kafka.client.sasl.jaas.config)";
            }
            return wait + "the broker accepts connections but no " + protocol + " session came up: check that the "
                    + "listener speaks " + protocol + " (SASL_SSL, SASL_PLAINTEXT and SSL differ) and the kafka.client.ssl.* "
                    + "and kafka.client.sasl.* settings";
        }
        return "cannot use Kafka at " + bootstrap + ": " + cause.getClass().getSimpleName() + ": " + rootMessage(cause);
    }

    private static List<String> servers(String bootstrap) {
        List<String> all = new ArrayList<>();
        for (String s : bootstrap.split(",")) {
            if (!s.isBlank()) {
                all.add(s.trim());
            }
        }
        return all;
    }

    /** The bootstrap servers nothing accepts a TCP connection at. */
    private static List<String> unreachable(String bootstrap) {
        List<String> closed = new ArrayList<>();
        for (String server : servers(bootstrap)) {
            int colon = server.lastIndexOf(':');
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(server.substring(0, colon), Integer.parseInt(server.substring(colon + 1))), 2_000);
            } catch (IOException | RuntimeException e) {
                closed.add(server);
            }
        }
        return closed;
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    }
}
