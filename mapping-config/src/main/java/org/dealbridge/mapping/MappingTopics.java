package org.dealbridge.mapping;

import java.util.Map;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.dealbridge.schemas.MappingProfile;
import org.dealbridge.schemas.Topics;
import org.dealbridge.schemas.registry.SchemaRegistry;
import org.dealbridge.schemas.serde.AvroSerde;

/**
 * The two compacted topics a mapping lives on.
 *
 * <ul>
 *   <li>{@code mapping-config} ({@link Topics#MAPPING_CONFIG}), key the site id: the latest published version per
 *       site, which is what the projectors read; a tombstone removes the site's mapping.</li>
 *   <li>{@code mapping-history} ({@link Topics#MAPPING_HISTORY}), key {@code {site}:{version}}: every version ever published,
 *       because compaction keeps only the latest record per key on {@code mapping-config}. It serves
 *       {@code history}, {@code show --version} and {@code rollback}, and is never read by the projectors.</li>
 * </ul>
 * Publishing writes the history record first, so a version on {@code mapping-config} always has its history entry.
 */
public record MappingTopics(String current, String history, Serde<String> keySerde, Serde<MappingProfile> valueSerde) {

    /** Every published version, key {@code {site}:{version}}; compacted. Belongs in {@link Topics}. */
    public static final String HISTORY = Topics.MAPPING_HISTORY;

    public static MappingTopics of(SchemaRegistry registry) {
        return of(registry, "");
    }

    /** The mapping topics of the installation whose topic names start with {@code topicPrefix} ({@code kafka.topic-prefix}). */
    public static MappingTopics of(SchemaRegistry registry, String topicPrefix) {
        return named(registry, topicPrefix + Topics.MAPPING_CONFIG, topicPrefix + HISTORY);
    }

    /** Other names (tests use fresh topics per test). */
    public static MappingTopics named(SchemaRegistry registry, String current, String history) {
        return new MappingTopics(current, history, Serdes.String(),
                new AvroSerde<>(registry, MappingProfile.getClassSchema(), false));
    }

    /** History record key of a version. Site ids never contain ':' (the validator makes sure). */
    public static String historyKey(String siteId, long version) {
        return siteId + ":" + version;
    }

    /** Configs both topics are created with: compacted, never deleted by age. */
    public static Map<String, String> topicConfigs() {
        return Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
                TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, "0");
    }
}
