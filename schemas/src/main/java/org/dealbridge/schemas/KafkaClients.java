package org.dealbridge.schemas;

import java.util.Map;
import java.util.Properties;

/**
 * One set of client properties for every Kafka client of DealBridge, carrying per-role settings the way Kafka Streams
 * carries them: entries prefixed {@code producer.}, {@code consumer.} and {@code admin.} (and DealBridge's own
 * {@code streams.}) apply to that kind of client only. Every client DealBridge builds takes its properties through
 * one of these methods, so a setting given for one role ({@code kafka.producer.linger.ms}) reaches exactly those
 * clients and no client is handed a key it does not know.
 */
public final class KafkaClients {
    public static final String PRODUCER = "producer.";
    public static final String CONSUMER = "consumer.";
    public static final String ADMIN = "admin.";
    public static final String STREAMS = "streams.";

    private KafkaClients() {
    }

    public static Properties producer(Map<?, ?> all) {
        return forRole(all, PRODUCER, false);
    }

    public static Properties consumer(Map<?, ?> all) {
        return forRole(all, CONSUMER, false);
    }

    public static Properties admin(Map<?, ?> all) {
        return forRole(all, ADMIN, false);
    }

    /** For a Kafka Streams app: its own settings on top, the producer./consumer./admin. ones left for Streams to apply. */
    public static Properties streams(Map<?, ?> all) {
        return forRole(all, STREAMS, true);
    }

    private static Properties forRole(Map<?, ?> all, String role, boolean keepClientPrefixes) {
        Properties out = new Properties();
        all.forEach((k, v) -> {
            String key = k.toString();
            boolean streams = key.startsWith(STREAMS);
            boolean client = key.startsWith(PRODUCER) || key.startsWith(CONSUMER) || key.startsWith(ADMIN);
            if (!streams && (!client || keepClientPrefixes)) {
                out.put(key, v);
            }
        });
        all.forEach((k, v) -> {
            String key = k.toString();
            if (key.startsWith(role)) {
                out.put(key.substring(role.length()), v);
            }
        });
        return out;
    }
}
