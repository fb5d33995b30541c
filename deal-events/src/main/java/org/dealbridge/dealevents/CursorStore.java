package org.dealbridge.dealevents;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Poll cursors on the compacted {@code ingest-cursors} topic: written synchronously, read back by scanning the topic
 * once at start (it holds one record per poller) and from memory afterwards.
 */
public final class CursorStore {

    private final Producer<String, String> producer;
    private final String topic;
    private final Map<String, String> cursors = new HashMap<>();

    private CursorStore(Producer<String, String> producer, String topic) {
        this.producer = producer;
        this.topic = topic;
    }

    /** Reads every cursor on the topic, then keeps them current as they are written. */
    public static CursorStore load(Properties kafka, String topic, Producer<String, String> producer) {
        CursorStore store = new CursorStore(producer, topic);
        Properties props = new Properties();
        props.putAll(kafka);
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (end.entrySet().stream().anyMatch(e -> consumer.position(e.getKey()) < e.getValue())) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.value() == null) {
                        store.cursors.remove(r.key());
                    } else {
                        store.cursors.put(r.key(), r.value());
                    }
                }
            }
        }
        return store;
    }

    public synchronized Optional<String> read(String key) {
        return Optional.ofNullable(cursors.get(key));
    }

    /** Writes and waits for the acknowledgement. */
    public synchronized void write(String key, String value) throws InterruptedException {
        try {
            producer.send(new ProducerRecord<>(topic, key, value)).get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("writing cursor " + key + " to " + topic + " failed: " + e.getCause(), e.getCause());
        }
        cursors.put(key, value);
    }
}
