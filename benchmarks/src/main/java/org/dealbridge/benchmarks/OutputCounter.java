package org.dealbridge.benchmarks;

import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Counts the committed records that reach a topic from now on, with the time the latest arrived.
 */
final class OutputCounter implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Thread thread;
    private final AtomicLong count = new AtomicLong();
    private volatile long lastNanos;
    private volatile boolean running = true;

    OutputCounter(Properties client, String topic) {
        Properties props = new Properties();
        props.putAll(client);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                .map(p -> new TopicPartition(topic, p.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        partitions.forEach(consumer::position);  // fix "from now on" before anything is produced
        thread = new Thread(this::countUntilClosed, "bench-counter-" + topic);
        thread.start();
    }

    private void countUntilClosed() {
        while (running) {
            int n = consumer.poll(Duration.ofMillis(100)).count();
            if (n > 0) {
                long now = System.nanoTime();
                lastNanos = now;
                count.addAndGet(n);
            }
        }
        consumer.close();
    }

    long count() {
        return count.get();
    }

    /** Records per second from {@code startNanos} (when the producing side had its partitions) to the latest arrival. */
    double ratePerSecondSince(long startNanos) {
        long spanNanos = lastNanos - startNanos;
        return spanNanos <= 0 ? Double.NaN : count.get() / (spanNanos / 1e9);
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(10_000);
    }
}
