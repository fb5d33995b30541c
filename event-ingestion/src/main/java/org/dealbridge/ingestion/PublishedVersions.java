package org.dealbridge.ingestion;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one side has lately put in Kafka, by whichever path (the hook's queue or a poller): each record's modification
 * date as published ({@code dateUpdate}, {@code DATE_MODIFY}). A poller does not read again a record listed with the
 * date it was published with: the hook already read that state, or an earlier round did (its overlap lists the newest
 * records again every round), and reading it again costs the portal's budget and republishes an unchanged record.
 *
 * <p>Only acknowledged sends are recorded, so a poller's cursor may move past a record found here: it is in Kafka. Held in
 * memory and bounded (the least recently recorded go first); after a restart each record is read once more.
 */
public final class PublishedVersions {
    static final int DEFAULT_CAPACITY = 100_000;

    private final Map<Long, Instant> versions;

    public PublishedVersions() {
        this(DEFAULT_CAPACITY);
    }

    public PublishedVersions(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
        }
        this.versions = new LinkedHashMap<>(16, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, Instant> eldest) {
                return size() > capacity;
            }
        };
    }

    /** Record {@code id} as in Kafka with this modification date (acknowledged); a later date is kept over an earlier one. */
    public synchronized void published(long id, Instant modified) {
        if (modified == null) {
            return;
        }
        Instant before = versions.remove(id);
        versions.put(id, before != null && before.isAfter(modified) ? before : modified);
    }

    /** True when {@code id} was published with exactly this modification date. */
    public synchronized boolean isPublished(long id, OffsetDateTime modified) {
        return modified != null && modified.toInstant().equals(versions.get(id));
    }
}
