package org.dealbridge.ingestion;

import java.time.Duration;
import org.dealbridge.schemas.KafkaClients;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.dealbridge.schemas.Topics;

/**
 * Cursors on the compacted {@code ingest-cursors} topic: the latest record per key wins, so reading the topic from
 * the beginning to its end offsets yields the current cursor. No consumer group is used: every reader sees the whole
 * topic, and nothing here needs offsets committed.
 */
public final class KafkaCursorStore implements CursorStore, AutoCloseable {
    private final String topic;
    private final Map<String, Object> consumerConfig;
    private final KafkaProducer<String, String> producer;
    private final Duration readTimeout;

    /**
     * @param clientConfig at least {@code bootstrap.servers}
     * @param clientId     the producer's {@code client.id} suffix, e.g. {@code order-events-cursors}
     * @param readTimeout  how long {@link #load} may take before it fails (it must not silently start from scratch)
     */
    public KafkaCursorStore(Map<String, Object> clientConfig, Topics topics, String clientId, Duration readTimeout) {
        this(clientConfig, topics.ingestCursors().name(), clientId, readTimeout);
    }

    /** On another topic than {@code ingest-cursors}: for tests that keep their cursors apart. */
    public KafkaCursorStore(Map<String, Object> clientConfig, String topic, String clientId, Duration readTimeout) {
        this.topic = topic;
        this.readTimeout = readTimeout;
        this.consumerConfig = new HashMap<>(clientConfig);
        consumerConfig.remove(ConsumerConfig.GROUP_ID_CONFIG);
        consumerConfig.remove(ProducerConfig.CLIENT_ID_CONFIG);
        consumerConfig.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        consumerConfig.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        // the topic is created compacted at start-up; a lookup must never create a plain one by accident
        consumerConfig.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        this.producer = new KafkaProducer<>(KafkaClients.producer(reliable(clientConfig, clientId)), new StringSerializer(), new StringSerializer());
    }

    /** Producer settings for records a cursor may only move past once they are on every in-sync replica. */
    public static Map<String, Object> reliable(Map<String, Object> base, String clientIdSuffix) {
        Map<String, Object> config = new HashMap<>(base);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 5);
        Object clientId = base.get(ProducerConfig.CLIENT_ID_CONFIG);
        config.put(ProducerConfig.CLIENT_ID_CONFIG, (clientId == null ? "dealbridge" : clientId) + "-" + clientIdSuffix);
        return config;
    }

    @Override
    public Optional<String> load(String key) {
        Instant deadline = Instant.now().plus(readTimeout);
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(KafkaClients.consumer(consumerConfig), new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, readTimeout).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            // a topic created a moment ago may not be in every broker's metadata yet
            while (partitions.isEmpty() && Instant.now().isBefore(deadline)) {
                sleep(Duration.ofMillis(100));
                partitions = consumer.partitionsFor(topic, readTimeout).stream()
                        .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            }
            if (partitions.isEmpty()) {
                throw new KafkaException("topic " + topic + " does not exist; it is created at start-up");
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, readTimeout);
            String value = null;
            while (partitions.stream().anyMatch(tp -> consumer.position(tp, readTimeout) < end.get(tp))) {
                if (Instant.now().isAfter(deadline)) {
                    throw new KafkaException(new TimeoutException("reading " + topic + " to its end took longer than " + readTimeout));
                }
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    if (key.equals(record.key())) {
                        value = record.value(); // null = tombstone: cursor deleted
                    }
                }
            }
            return Optional.ofNullable(value);
        }
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaException("interrupted while waiting for the cursor topic", e);
        }
    }

    @Override
    public void store(String key, String value) {
        try {
            producer.send(new ProducerRecord<>(topic, key, value)).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaException("interrupted while storing cursor " + key, e);
        } catch (ExecutionException e) {
            throw new KafkaException("storing cursor " + key + " in " + topic + " failed: " + e.getCause().getMessage(), e.getCause());
        }
    }

    @Override
    public void close() {
        producer.close();
    }
}
