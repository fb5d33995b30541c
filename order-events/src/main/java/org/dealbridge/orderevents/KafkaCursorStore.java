package org.dealbridge.orderevents;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.dealbridge.schemas.Topics;

/**
 * Cursors on the compacted {@code ingest-cursors} topic: the latest record per key wins, so reading the topic from
 * the beginning to its end offsets yields the current cursor. No consumer group is used: every reader sees the whole
 * topic, and nothing here needs offsets committed.
 */
public final class KafkaCursorStore implements CursorStore, AutoCloseable {
    private final Topics.Topic<String, String> topic;
    private final Map<String, Object> consumerConfig;
    private final KafkaProducer<String, String> producer;
    private final Duration readTimeout;

    /**
     * @param clientConfig at least {@code bootstrap.servers}
     * @param readTimeout  how long {@link #load} may take before it fails (it must not silently start from scratch)
     */
    public KafkaCursorStore(Map<String, Object> clientConfig, Topics topics, Duration readTimeout) {
        this.topic = topics.ingestCursors();
        this.readTimeout = readTimeout;
        this.consumerConfig = new HashMap<>(clientConfig);
        consumerConfig.remove(ConsumerConfig.GROUP_ID_CONFIG);
        consumerConfig.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        consumerConfig.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        // the topic is created compacted at start-up; a lookup must never create a plain one by accident
        consumerConfig.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        this.producer = new KafkaProducer<>(OrderPublisher.reliable(clientConfig, "order-events-cursors"),
                topic.keySerde().serializer(), topic.valueSerde().serializer());
    }

    @Override
    public Optional<String> load(String key) {
        Instant deadline = Instant.now().plus(readTimeout);
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerConfig,
                topic.keySerde().deserializer(), topic.valueSerde().deserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic.name(), readTimeout).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            if (partitions.isEmpty()) {
                throw new KafkaException("topic " + topic.name() + " does not exist; it is created at start-up");
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, readTimeout);
            String value = null;
            while (partitions.stream().anyMatch(tp -> consumer.position(tp, readTimeout) < end.get(tp))) {
                if (Instant.now().isAfter(deadline)) {
                    throw new KafkaException(new TimeoutException("reading " + topic.name() + " to its end took longer than " + readTimeout));
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

    @Override
    public void store(String key, String value) {
        OrderPublisher.await(producer.send(new ProducerRecord<>(topic.name(), key, value)), "cursor " + key);
    }

    @Override
    public void close() {
        producer.close();
    }
}
