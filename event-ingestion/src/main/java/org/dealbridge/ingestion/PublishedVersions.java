package org.dealbridge.ingestion;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * What one side has lately put in Kafka, by whichever path (the hook's queue or a poller): each record's version as
 * published — its modification date ({@code dateUpdate}, {@code DATE_MODIFY}) and the side's digest of its content.
 * A poller does not read again a record listed with the version it was published with: the hook already read that
 * state, or an earlier round did (its overlap lists the newest records again every round), and reading it again costs
 * the portal's budget and republishes an unchanged record.
 *
 * <p>Why the content and not the date alone: the dates have second precision, so a record saved again within the
 * second it was read in lists with the date it was published with. Skipped by date, that second save was lost for good
 * when its hook event was (issue 13, deal 488: created and published at 22:44:10, moved by a manager within the same
 * second, never published again). A version is the same only when its date and its digest are; a record whose digest
 * is unknown on either side is read again.
 *
 * <p>Even date and content cannot tell a save that changes only what the digest leaves out (a deal's product rows)
 * from none. So a record read within the second of its modification date, by the portal's own clock, is recorded
 * with its content unknown ({@link #settled}): the next listing reads it again, and a read a second later settles it.
 * A poller's overlap (at least a second) lists it again, since no record it lists can move its cursor past a second
 * that had not ended when the record was listed.
 *
 * <p>Only acknowledged sends are recorded, so a poller's cursor may move past a record found here: it is in Kafka. Held
 * in memory and bounded (the least recently recorded go first); after a restart each record is read once more.
 *
 * <p>A side reads and sends a record under its lock here ({@link #readingAndSending}), by whichever path: else "the
 * poller reads the old state, the hook reads and sends the new one, the poller sends the old one last" leaves the old
 * state last on the partition, and recorded as published, so nothing reads the record again.
 */
public final class PublishedVersions {
    static final int DEFAULT_CAPACITY = 100_000;

    /** A record's version as published: its modification date and the side's digest of its content (null: unknown). */
    private record Version(Instant modified, String content) {
    }

    private final Map<Long, Version> versions;
    private static final int STRIPES = 64;
    private final ReentrantLock[] stripes = new ReentrantLock[STRIPES];

    public PublishedVersions() {
        this(DEFAULT_CAPACITY);
    }

    public PublishedVersions(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
        }
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new ReentrantLock();
        }
        this.versions = new LinkedHashMap<>(16, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, Version> eldest) {
                return size() > capacity;
            }
        };
    }

    /**
     * Record {@code id} as in Kafka with this modification date and content digest (acknowledged), for a side whose
     * digest tells every save apart (a store order's {@code version}). A later date is kept over an earlier one; at the
     * same date the version recorded last stands, since it was sent last.
     */
    public synchronized void published(long id, Instant modified, String content) {
        if (modified == null) {
            return;
        }
        Version before = versions.remove(id);
        versions.put(id, before != null && before.modified().isAfter(modified) ? before : new Version(modified, content));
    }

    /**
     * As {@link #published(long, Instant, String)}, for a record read at {@code readAt} by the portal's own clock (null:
     * unknown): when that is within the second of {@code modified}, its content is recorded as unknown, so the record
     * is read again when next listed.
     */
    public void published(long id, Instant modified, String content, Instant readAt) {
        published(id, modified, settled(modified, readAt) ? content : null);
    }

    /**
     * Whether a record read at {@code readAt} (the portal's time just before the read) shows every save of the second
     * of {@code modified} (second precision): the read began after that second had ended.
     */
    public static boolean settled(Instant modified, Instant readAt) {
        return modified != null && readAt != null && !readAt.isBefore(modified.truncatedTo(ChronoUnit.SECONDS).plusSeconds(1));
    }

    /**
     * Record a record a poller listed and had read (published, gone or dead-lettered) with the version it was listed
     * with, unless its read left the content of that date unknown (read within its second): that stands.
     */
    public synchronized void listedAndRead(long id, Instant modified, String content) {
        Version recorded = versions.get(id);
        if (recorded != null && recorded.content() == null && recorded.modified().equals(modified)) {
            return;
        }
        published(id, modified, content);
    }

    /**
     * Runs {@code work} — reading {@code ids} from the portal and sending them, acknowledged — holding the lock of every
     * stripe of {@code ids}, taken in stripe order (no deadlock), so the record last on the partition is the state read
     * last, whichever path read it.
     */
    public <T> T readingAndSending(List<Long> ids, Supplier<T> work) {
        SortedSet<Integer> held = new TreeSet<>();
        ids.forEach(id -> held.add(Math.floorMod(Long.hashCode(id), STRIPES)));
        List<ReentrantLock> taken = new ArrayList<>(held.size());
        try {
            for (int i : held) {
                stripes[i].lock();
                taken.add(stripes[i]);
            }
            return work.get();
        } finally {
            taken.forEach(ReentrantLock::unlock);
        }
    }

    /**
     * The digest a side records a record's content by: SHA-256 (its first 16 bytes, hex) of the parts in order, each
     * part's text (null kept apart from "null"), so a record holds a few bytes here whatever its size.
     */
    public static String digest(List<?> parts) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
        for (Object part : parts) {
            sha.update(part == null ? new byte[] {0} : (part + "\u001f").getBytes(StandardCharsets.UTF_8));
        }
        return HexFormat.of().formatHex(sha.digest(), 0, 16);
    }

    /** True when {@code id} was published with this modification date and this (known) content digest. */
    public synchronized boolean isPublished(long id, OffsetDateTime modified, String content) {
        Version version = versions.get(id);
        return modified != null && content != null && version != null && modified.toInstant().equals(version.modified())
                && Objects.equals(content, version.content());
    }
}
