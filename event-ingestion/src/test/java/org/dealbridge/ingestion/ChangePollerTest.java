package org.dealbridge.ingestion;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** What a poller tells its {@link ReadFailureListener}s. */
class ChangePollerTest {
    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();
    private static final OffsetDateTime T0 = OffsetDateTime.parse("2026-12-06T22:44:10+03:00");

    /**
     * A poller stopped while its listing fails (its leadership moved to another instance) says so: else what reports
     * the portal unreachable (the launcher's {@code /health}) would go on saying so on this instance for good.
     */
    @Test
    void aPollerStoppedWhileItsListingFailsTellsItsListenersItStopped() throws Exception {
        Map<String, Object> client = new HashMap<>();
        KAFKA.clientProperties().forEach((k, v) -> client.put(k.toString(), v));
        KAFKA.createTopics(1, "cursors-stopped");
        List<String> heard = new CopyOnWriteArrayList<>();
        CountDownLatch failing = new CountDownLatch(1);
        try (KafkaCursorStore cursors = new KafkaCursorStore(client, "cursors-stopped", "test-cursors", Duration.ofSeconds(10))) {
            ChangePoller poller = new ChangePoller(from -> {
                throw new IllegalStateException("the portal answers 503");
            }, ids -> Refresher.Refreshed.NONE, cursors, new ChangePoller.Settings("store-poller-s1", "test-poll", Duration.ofMillis(100),
                    Duration.ofSeconds(1), T0, 50));
            poller.addListener(new ReadFailureListener() {
                @Override
                public void readsFailing(String reader, RuntimeException cause) {
                    heard.add("failing " + reader);
                    failing.countDown();
                }

                @Override
                public void readsRecovered(String reader, Duration failedFor) {
                    heard.add("recovered " + reader);
                }

                @Override
                public void readerStopped(String reader) {
                    heard.add("stopped " + reader);
                }
            });
            poller.start();
            assertThat(failing.await(10, TimeUnit.SECONDS)).isTrue();
            poller.stop();
        }
        assertThat(heard).containsExactly("failing store-poller-s1", "stopped store-poller-s1");
    }
}
