package org.dealbridge.operations;

import java.time.Duration;
import org.dealbridge.schemas.KafkaClients;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.function.Predicate;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads a topic from its beginning up to the end offsets seen when the scan starts, without a consumer group
 * (no offsets are committed, nothing else is disturbed). Values stay bytes so that only the records whose key
 * matches are deserialized. Reads committed records only, so an aborted replay is never shown.
 *
 * <p>Cost: a scan reads the whole topic. That is fine for the sizes a store produces in its retention period
 * (7 days of order changes); for very large topics an index (e.g. a state store keyed by order) would be the next step.
 */
final class TopicScan {
    private static final Duration POLL = Duration.ofMillis(200);
    private static final Duration TIMEOUT = Duration.ofSeconds(90);

    private final Properties clientProperties;

    TopicScan(Properties clientProperties) {
        this.clientProperties = clientProperties;
    }

    /** What one scan read: the matching records, and the end offsets it read up to (where a later scan may go on from). */
    record Scan(List<ConsumerRecord<String, byte[]>> records, Map<TopicPartition, Long> ends) {
    }

    /** Every committed record of {@code topic} whose key passes {@code keyFilter}, in partition and offset order. */
    List<ConsumerRecord<String, byte[]>> read(String topic, Predicate<String> keyFilter) {
        return scan(topic, keyFilter, Map.of()).records();
    }

    /**
     * Like {@link #read}, from the offsets in {@code from} on (partitions not in it from their beginning), returning the
     * end offsets too.
     */
    Scan scan(String topic, Predicate<String> keyFilter, Map<TopicPartition, Long> from) {
        Properties p = new Properties();
        p.putAll(clientProperties);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "dealbridge-ops-scan");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "2000");
        p.remove(ConsumerConfig.GROUP_ID_CONFIG);
        List<ConsumerRecord<String, byte[]>> matched = new ArrayList<>();
        Map<TopicPartition, Long> end;
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(KafkaClients.consumer(p), new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, TIMEOUT).stream()
                    .map(info -> new TopicPartition(topic, info.partition())).toList();
            if (partitions.isEmpty()) {
                throw new IllegalStateException("topic '" + topic + "' does not exist");
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            from.forEach((partition, offset) -> {
                if (partitions.contains(partition)) {
                    consumer.seek(partition, offset);
                }
            });
            end = highWatermarks(partitions);
            Map<TopicPartition, Long> remaining = new HashMap<>(end);
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (!reachedEnd(consumer, remaining)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(String.format(Locale.ROOT,
                            "reading topic '%s' did not reach its end offsets %s within %s: a transaction left open (a crashed producer) holds it until the transaction times out", topic, end, TIMEOUT));
                }
                for (ConsumerRecord<String, byte[]> r : consumer.poll(POLL)) {
                    // records written after the scan started are left out, so the scan ends
                    if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition())) && keyFilter.test(r.key())) {
                        matched.add(r);
                    }
                }
            }
        }
        return new Scan(matched, end);
    }

    /**
     * The high watermarks, not the last stable offsets a read_committed consumer would report: right after a
     * transaction commits its markers may not be written yet, and a scan up to the older stable offset would miss
     * the transaction (e.g. a replay's tombstone, so a second replay would send the record again). Reading
     * read_committed up to the high watermark waits for those markers instead.
     */
    private Map<TopicPartition, Long> highWatermarks(List<TopicPartition> partitions) {
        try (Admin admin = Admin.create(KafkaClients.admin(clientProperties))) {
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            partitions.forEach(tp -> latest.put(tp, OffsetSpec.latest()));
            Map<TopicPartition, Long> end = new HashMap<>();
            admin.listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED)).all()
                    .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                    .forEach((tp, info) -> end.put(tp, info.offset()));
            return end;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading the end offsets of " + partitions, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot read the end offsets of " + partitions + ": " + e.getMessage(), e);
        }
    }

    private static boolean reachedEnd(KafkaConsumer<?, ?> consumer, Map<TopicPartition, Long> remaining) {
        remaining.entrySet().removeIf(e -> consumer.position(e.getKey()) >= e.getValue());
        return remaining.isEmpty();
    }
}
