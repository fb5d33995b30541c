package org.dealbridge.dealevents;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.dealbridge.ingestion.KafkaCursorStore;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;

/** Poll cursors on a test's own topic, so tests sharing one broker keep their cursors apart. */
final class TestCursors {
    /** Where a test's poller starts when its topic holds no cursor yet. */
    static final java.time.OffsetDateTime FIRST_CURSOR = java.time.OffsetDateTime.parse("2020-01-01T00:00:00Z");

    private TestCursors() {
    }

    static KafkaCursorStore on(EmbeddedKafkaCluster kafka, String topic) {
        Map<String, Object> config = new HashMap<>();
        kafka.clientProperties().forEach((k, v) -> config.put(k.toString(), v));
        return new KafkaCursorStore(config, topic, "test-cursors", Duration.ofSeconds(10));
    }
}
