package org.dealbridge.connector;

import java.time.Duration;
import org.dealbridge.schemas.KafkaClients;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.BiConsumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A compacted topic read from the start by an unsubscribed consumer (every partition, no group), brought up to date on
 * demand. The store connector keeps the links and the mapping this way, so it decides with what the topics held when
 * the command was processed, links written by either connector included; the CRM connector reads the links once when
 * it starts, so a restart does not forget the links it committed before.
 */
public final class CompactedTopicView<V> implements AutoCloseable {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(CompactedTopicView.class);

    private final String topic;
    private final KafkaConsumer<String, V> consumer;
    private final BiConsumer<String, V> apply;
    private List<TopicPartition> partitions;

    public CompactedTopicView(Properties kafka, String topic, Deserializer<V> values, BiConsumer<String, V> apply) {
        Properties props = new Properties();
        props.putAll(kafka);
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        this.topic = topic;
        this.consumer = new KafkaConsumer<>(KafkaClients.consumer(props), new StringDeserializer(), values);
        this.apply = apply;
    }

    public String topic() {
        return topic;
    }

    /** Reads until every partition is at the end offset it had when called. */
    public void catchUp(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        if (partitions == null) {
            partitions = consumer.partitionsFor(topic, timeout).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
        }
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
        while (end.entrySet().stream().anyMatch(e -> consumer.position(e.getKey(), timeout) < e.getValue())) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("could not read " + topic + " to its end within " + timeout);
            }
            org.apache.kafka.clients.consumer.ConsumerRecords<String, V> records;
            try {
                records = consumer.poll(Duration.ofMillis(100));
            } catch (org.apache.kafka.common.errors.RecordDeserializationException e) {
                // the projector's Streams app dead-letters the same record (its deserialization handler); this view
                // only must not stop on it, or the connector would restart forever on one bad record
                log.error("Skipping the unreadable record of {} at {} offset {}: {}", topic, e.topicPartition(), e.offset(), e.getMessage());
                consumer.seek(e.topicPartition(), e.offset() + 1);
                continue;
            }
            for (ConsumerRecord<String, V> record : records) {
                if (record.key() != null) {
                    apply.accept(record.key(), record.value());
                }
            }
        }
    }

    @Override
    public void close() {
        consumer.close();
    }
}
