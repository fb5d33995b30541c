package org.dealbridge.mapping;

import java.time.Duration;
import org.dealbridge.schemas.KafkaClients;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.errors.SerializationException;
import org.dealbridge.schemas.MappingProfile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the mapping topics from the beginning to their current end, without a consumer group (nothing is
 * committed): the admin commands need a consistent snapshot, not a subscription.
 */
public final class MappingTopicReader {

    private static final Logger log = LoggerFactory.getLogger(MappingTopicReader.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final Properties clientProperties;
    private final MappingTopics topics;

    public MappingTopicReader(Properties clientProperties, MappingTopics topics) {
        this.clientProperties = clientProperties;
        this.topics = topics;
    }

    /** The latest record per site on the current-version topic; sites whose latest record is a tombstone are absent. */
    public Map<String, MappingProfile> latestBySite() {
        Map<String, MappingProfile> latest = new HashMap<>();
        readAll(topics.current(), (key, profile) -> {
            if (profile == null) {
                latest.remove(key);
            } else {
                latest.put(key, profile);
            }
        });
        return latest;
    }

    public Optional<MappingProfile> latest(String siteId) {
        return Optional.ofNullable(latestBySite().get(siteId));
    }

    /** Every version of a site ever published, oldest first. */
    public List<MappingProfile> history(String siteId) {
        Map<Long, MappingProfile> byVersion = new HashMap<>();
        String prefix = siteId + ":";
        readAll(topics.history(), (key, profile) -> {
            if (key != null && key.startsWith(prefix) && profile != null && siteId.equals(profile.getSiteId())) {
                byVersion.put(profile.getVersion(), profile);
            }
        });
        List<MappingProfile> versions = new ArrayList<>(byVersion.values());
        versions.sort(Comparator.comparingLong(MappingProfile::getVersion));
        return versions;
    }

    public Optional<MappingProfile> version(String siteId, long version) {
        return history(siteId).stream().filter(p -> p.getVersion() == version).findFirst();
    }

    /** The highest version a site has had on either topic; 0 when it never had one. */
    public long highestVersion(String siteId) {
        long fromHistory = history(siteId).stream().mapToLong(MappingProfile::getVersion).max().orElse(0);
        long fromCurrent = latest(siteId).map(MappingProfile::getVersion).orElse(0L);
        return Math.max(fromHistory, fromCurrent);
    }

    private interface RecordSink {
        void accept(String key, MappingProfile profile);
    }

    private void readAll(String topic, RecordSink sink) {
        Properties props = new Properties();
        props.putAll(clientProperties);
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "dealbridge-mapping-reader-" + UUID.randomUUID());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        try (KafkaConsumer<byte[], byte[]> consumer =
                     new KafkaConsumer<>(KafkaClients.consumer(props), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<PartitionInfo> partitions = consumer.partitionsFor(topic, TIMEOUT);
            if (partitions == null || partitions.isEmpty()) {
                return;  // the topic does not exist yet: nothing was ever published
            }
            List<TopicPartition> assigned = partitions.stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(assigned);
            consumer.seekToBeginning(assigned);
            Map<TopicPartition, Long> end = consumer.endOffsets(assigned, TIMEOUT);
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (!reachedEnd(consumer, end)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not read topic " + topic + " to its end within " + TIMEOUT);
                }
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    String key = topics.keySerde().deserializer().deserialize(topic, record.key());
                    MappingProfile profile;
                    try {
                        profile = topics.valueSerde().deserializer().deserialize(topic, record.value());
                    } catch (SerializationException e) {
                        // Written around the CLI; the projectors reject it too. Skip rather than fail every command.
                        log.warn("Skipping unreadable record at {}-{}@{} (key {}): {}", topic, record.partition(),
                                record.offset(), key, e.getMessage());
                        continue;
                    }
                    sink.accept(key, profile);
                }
            }
        }
    }

    private static boolean reachedEnd(KafkaConsumer<?, ?> consumer, Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (consumer.position(e.getKey(), TIMEOUT) < e.getValue()) {
                return false;
            }
        }
        return true;
    }
}
