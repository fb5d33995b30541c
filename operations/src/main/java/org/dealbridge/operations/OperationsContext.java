package org.dealbridge.operations;

import java.io.PrintStream;
import java.util.Map;
import java.util.Properties;
import org.dealbridge.schemas.Topics;

/**
 * What the operations commands need from the launcher: how to reach Kafka, the topics with their serdes
 * (bound to the schema registry in use) and where to print. The launcher implements it from its configuration;
 * tests implement it over an embedded broker.
 */
public interface OperationsContext extends AutoCloseable {

    /** Properties every Kafka client starts from (at least {@code bootstrap.servers}); the commands add their own settings. */
    Properties kafkaClientProperties();

    /** The topics and their serdes. */
    Topics topics();

    PrintStream out();

    PrintStream err();

    /**
     * Source topic → how a replay reads again, from its portal, a record its ingestion could not read (the store's
     * orders when the store is configured); none by default.
     */
    default Map<String, PortalReread> portalRereads() {
        return Map.of();
    }

    /** Releases what the context opened (e.g. a schema registry client); nothing by default. */
    @Override
    default void close() {
    }

    /** A context of these parts, which it neither copies nor closes (tests, and callers that hold the clients already). */
    static OperationsContext of(Properties kafkaClientProperties, Topics topics, PrintStream out, PrintStream err) {
        return new OperationsContext() {
            @Override
            public Properties kafkaClientProperties() {
                Properties copy = new Properties();
                copy.putAll(kafkaClientProperties);
                return copy;
            }

            @Override
            public Topics topics() {
                return topics;
            }

            @Override
            public PrintStream out() {
                return out;
            }

            @Override
            public PrintStream err() {
                return err;
            }
        };
    }

    /** Opens a context when a command runs, so {@code --help} needs neither configuration nor Kafka. */
    @FunctionalInterface
    interface Opener {
        OperationsContext open();
    }
}
