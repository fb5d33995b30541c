package org.dealbridge.ingestion;

import java.util.List;

/**
 * How one side turns ids into records in Kafka: read each record's current state from the portal and publish it (or a
 * dead letter when it cannot be read for good), and return only once Kafka has acknowledged every send. Whatever it
 * throws means "not done": the ids are refreshed again (the queue keeps them, the poller's cursor stays before them).
 */
@FunctionalInterface
public interface Refresher {
    /** What a refresh did; records that no longer exist count as neither. */
    record Refreshed(int published, int deadLettered) {
        public static final Refreshed NONE = new Refreshed(0, 0);

        public Refreshed plus(Refreshed other) {
            return new Refreshed(published + other.published, deadLettered + other.deadLettered);
        }
    }

    Refreshed refresh(List<Long> ids);
}
