package org.dealbridge.ingestion;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two instances' ingestions against one broker: only the elected one polls, and when it leaves the other takes over
 * from the cursor the first one stored, not from the cursor it loaded itself at its start.
 */
class PollerLeadershipTest {
    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();
    private static final OffsetDateTime T0 = OffsetDateTime.parse("2026-01-10T12:00:00+03:00");

    /** The portal: records with their modification dates, listed oldest first. */
    private final List<Change> portal = new CopyOnWriteArrayList<>();

    private final class Instance implements AutoCloseable {
        final String name;
        final List<Long> refreshed = new CopyOnWriteArrayList<>();
        final Ingestion ingestion;
        final PollerLeadership leadership;

        Instance(String name, String cursorTopic, String leadershipTopic) {
            this.name = name;
            Map<String, Object> client = new HashMap<>();
            KAFKA.clientProperties().forEach((k, v) -> client.put(k.toString(), v));
            KafkaCursorStore cursors = new KafkaCursorStore(client, cursorTopic, "test-cursors-" + name, Duration.ofSeconds(10));
            ChangePoller poller = new ChangePoller(from -> portal.stream().filter(c -> c.modified().isAfter(from)).toList(),
                    ids -> {
                        refreshed.addAll(ids);
                        return new Refresher.Refreshed(ids.size(), 0);
                    }, cursors, new ChangePoller.Settings("poller-" + name, "test-poll", Duration.ofMillis(200), Duration.ofSeconds(1), T0, 10));
            leadership = new PollerLeadership(client, leadershipTopic, "pollers-" + leadershipTopic, Duration.ofSeconds(6));
            RefreshQueue queue = new RefreshQueue(ids -> Refresher.Refreshed.NONE,
                    new RefreshQueue.Settings("queue-" + name, Duration.ZERO, 1, 10));
            ingestion = new Ingestion(queue, List.of(poller), List.of(cursors), leadership);
        }

        @Override
        public void close() {
            ingestion.close();
        }
    }

    @Test
    void onlyTheElectedInstancePollsAndItsSuccessorResumesFromTheStoredCursor() throws Exception {
        KAFKA.createTopics(1, "cursors-leadership", "leadership");
        Instance a = new Instance("a", "cursors-leadership", "leadership");
        Instance b = new Instance("b", "cursors-leadership", "leadership");
        List<Instance> both = new ArrayList<>(List.of(a, b));
        try {
            a.ingestion.start();
            b.ingestion.start();  // both load the first cursor T0 before either polls
            await(() -> a.leadership.leads() || b.leadership.leads(), "a leader");
            Instance leader = a.leadership.leads() ? a : b;
            Instance other = leader == a ? b : a;
            for (long id = 1; id <= 5; id++) {
                portal.add(new Change(id, T0.plusMinutes(id)));
            }
            await(() -> leader.refreshed.containsAll(List.of(1L, 2L, 3L, 4L, 5L)), "the leader polling records 1-5");
            assertThat(other.refreshed).as("what the instance that does not lead polled").isEmpty();
            assertThat(other.leadership.leads()).isFalse();

            leader.close();  // leaves the group: partition 0 moves
            both.remove(leader);
            portal.add(new Change(6, T0.plusMinutes(6)));
            await(() -> other.refreshed.contains(6L), "the successor polling record 6");
            assertThat(other.leadership.leads()).isTrue();
            assertThat(other.refreshed).as("the successor resumed from the stored cursor, not from T0 it loaded at its start")
                    .doesNotContain(1L, 2L, 3L, 4L);
        } finally {
            both.forEach(Instance::close);
        }
    }

    private static void await(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }
}
