package org.dealbridge.ingestion;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reconciliation behind a hook (online events are delivered once, never retried, reference §10.5): every
 * {@code interval}, list the records modified after the cursor minus an overlap ({@link ChangeLister}, every page,
 * oldest first), refresh them in batches ({@link Refresher}: read, publish, acknowledged), and only then store the new
 * cursor, the latest modification handled, in the compacted {@code ingest-cursors} topic. A crash anywhere before the
 * cursor write re-reads those records on the next start (re-publishing full-state events is harmless), never skips them.
 *
 * <p><b>Nothing accepted is lost.</b> The first cursor is stored on the first {@link #cursor()} call, which
 * {@link Ingestion#start()} makes before the hook accepts anything, and a restart resumes from the stored cursor. The
 * cursor only moves past records this poller has itself published (or dead-lettered), or that its side's
 * {@link PublishedVersions} says are in Kafka with that modification date, so it never passes a change that a hook event
 * named and the refresh queue still holds unless that change is already in Kafka: whatever the hook accepted is in
 * Kafka or after the stored cursor.
 *
 * <p>Overlap: modification dates have second precision, so a record saved later in the cursor's own second would be
 * missed by {@code >cursor}; the filter is {@code >cursor - overlap}, and the overlap is at least that second. Records
 * listed with the version they were published with, by this poller or by the hook's queue ({@link PublishedVersions}:
 * the modification date <em>and</em> the side's digest of the content, since a second save within the same second keeps
 * the date), are not refreshed again: an idle poller only lists (remembered in memory: once more after a restart).
 *
 * <p>A refresh that throws (a portal failure that outlived the client's retries: the portal unreachable, answering 5xx
 * or an HTML page, refusing for its rate or the webhook) ends the round: the cursor moves to the last batch handled,
 * never past the record that could not be read, and the next round, an interval later, resumes there. Nothing is
 * dead-lettered for it; the refresher dead-letters only records that can never be read. {@link ReadFailureListener}s
 * hear when the listing starts failing (the portal is unreachable or refusing) and when it works again. A failed
 * cursor write is thrown.
 */
public final class ChangePoller implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ChangePoller.class);
    /** Cursor text: ISO with seconds and the portal's own offset, e.g. {@code 2026-01-10T12:00:00+03:00}. */
    private static final DateTimeFormatter CURSOR_FORMAT = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ssxxx");
    /** Modification dates ({@code dateUpdate}, {@code DATE_MODIFY}) are whole seconds (reference §0, {@code datetime}). */
    public static final Duration MODIFIED_PRECISION = Duration.ofSeconds(1);

    /**
     * @param name        for logs and the thread, e.g. {@code store poller for site s1}
     * @param cursorKey   the key in {@code ingest-cursors}, e.g. {@code store-poll:s1}, {@code crm-poll}
     * @param interval    time between the end of one round and the start of the next
     * @param overlap     how far before the cursor each round starts; at least {@link #MODIFIED_PRECISION}
     * @param firstCursor where to start when no cursor was ever stored (history is the backfill's job), by the portal's
     *                    clock ({@link FirstCursor#portalTimeMinus})
     * @param batchSize   records handed to the refresher at once
     */
    public record Settings(String name, String cursorKey, Duration interval, Duration overlap, FirstCursor firstCursor, int batchSize) {
        public Settings(String name, String cursorKey, Duration interval, Duration overlap, OffsetDateTime firstCursor, int batchSize) {
            this(name, cursorKey, interval, overlap, FirstCursor.at(firstCursor), batchSize);
        }

        public Settings {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(cursorKey, "cursorKey");
            if (interval == null || interval.isNegative() || interval.isZero()) {
                throw new IllegalArgumentException(name + ": the poll interval must be a positive duration, got " + interval);
            }
            if (overlap == null || overlap.compareTo(MODIFIED_PRECISION) < 0) {
                throw new IllegalArgumentException(name + ": the poll overlap must be at least " + MODIFIED_PRECISION.toMillis()
                        + " ms (modification dates have second precision, so the cursor's own second is listed again), got " + overlap);
            }
            Objects.requireNonNull(firstCursor, "firstCursor");
            if (batchSize < 1) {
                throw new IllegalArgumentException(name + ": batch size must be >= 1, got " + batchSize);
            }
        }
    }

    /** What one round did. {@code listed} counts what the portal listed, before the overlap's repeats are skipped. */
    public record Round(OffsetDateTime from, int listed, int published, int deadLettered, OffsetDateTime cursor, boolean interrupted) {
    }

    private final ChangeLister lister;
    private final Refresher refresher;
    private final CursorStore cursors;
    private final Settings settings;
    /** Versions of records published lately (by this poller or the hook's queue): not read again. */
    private final PublishedVersions published;
    private final List<ReadFailureListener> listeners = new CopyOnWriteArrayList<>();
    private OffsetDateTime cursor;
    /** When rounds started failing (nanoTime), or null while they work. */
    private Long failingSince;
    private volatile ScheduledExecutorService scheduler;

    public ChangePoller(ChangeLister lister, Refresher refresher, CursorStore cursors, Settings settings) {
        this(lister, refresher, cursors, settings, new PublishedVersions());
    }

    /** @param published what the side has put in Kafka lately, shared with its hook's queue */
    public ChangePoller(ChangeLister lister, Refresher refresher, CursorStore cursors, Settings settings, PublishedVersions published) {
        this.published = Objects.requireNonNull(published, "published");
        this.lister = Objects.requireNonNull(lister, "lister");
        this.refresher = Objects.requireNonNull(refresher, "refresher");
        this.cursors = Objects.requireNonNull(cursors, "cursors");
        this.settings = Objects.requireNonNull(settings, "settings");
    }

    public Settings settings() {
        return settings;
    }

    /** Tells {@code listener} when the listing starts failing (the portal unreachable or refusing) and when it works again. */
    public ChangePoller addListener(ReadFailureListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
        return this;
    }

    /**
     * The cursor in force: loaded from the topic on first use; when none was ever stored, the first cursor is stored
     * now, so that a restart resumes from it rather than from its own start time.
     */
    public synchronized OffsetDateTime cursor() {
        if (cursor == null) {
            OffsetDateTime stored = cursors.load(settings.cursorKey()).map(this::parseCursor).orElse(null);
            if (stored == null) {
                OffsetDateTime first = settings.firstCursor().at();
                cursors.store(settings.cursorKey(), first.format(CURSOR_FORMAT));
                log.info("{} starts from its first cursor {} (stored)", settings.name(), first.format(CURSOR_FORMAT));
                stored = first.withNano(0);
            } else {
                log.info("{} starts from cursor {}", settings.name(), stored.format(CURSOR_FORMAT));
            }
            cursor = stored;
        }
        return cursor;
    }

    /**
     * The stored cursor, or null when it cannot be read: a record written around DealBridge must not stop the poller
     * (nor the start) for good, so it starts over from its first cursor, and the log names what was lost.
     */
    private OffsetDateTime parseCursor(String stored) {
        try {
            return OffsetDateTime.parse(stored, DateTimeFormatter.ISO_OFFSET_DATE_TIME);
        } catch (DateTimeParseException e) {
            log.error("{}: the stored cursor {} is not an ISO date-time with offset: '{}'; starting from its first cursor "
                    + "instead (changes before that are not polled: 'bin/dealbridge backfill' reads them)", settings.name(),
                    settings.cursorKey(), stored);
            return null;
        }
    }

    /** One round: list, refresh in batches, then move the cursor. */
    public synchronized Round pollOnce() {
        OffsetDateTime from = cursor().minus(settings.overlap());
        List<Change> listed;
        try {
            listed = lister.changedSince(from);
        } catch (RuntimeException e) {
            failing(e);
            throw e;
        }
        recovered();
        List<Change> changed = latestPerRecord(listed);
        List<Change> toRead = changed.stream().filter(c -> !published.isPublished(c.id(), c.modified(), c.content())).toList();
        Refresher.Refreshed done = Refresher.Refreshed.NONE;
        Change stoppedAt = null;
        for (int start = 0; start < toRead.size(); start += settings.batchSize()) {
            List<Change> batch = toRead.subList(start, Math.min(toRead.size(), start + settings.batchSize()));
            try {
                done = done.plus(refresher.refresh(batch.stream().map(Change::id).toList()));
            } catch (RuntimeException e) {
                log.warn("{}: the round stops before record {}: {}; the next round resumes there", settings.name(), batch.get(0).id(), e.toString());
                stoppedAt = batch.get(0);
                break;
            }
            batch.forEach(c -> published.listedAndRead(c.id(), c.modified() == null ? null : c.modified().toInstant(), c.content()));
        }
        // past everything listed before the record the round stopped at: read now, or in Kafka already at that date
        OffsetDateTime handledUpTo = null;
        for (Change c : changed) {
            if (c == stoppedAt) {
                break;
            }
            if (c.modified() != null && (handledUpTo == null || c.modified().isAfter(handledUpTo))) {
                handledUpTo = c.modified();
            }
        }
        boolean interrupted = stoppedAt != null;
        if (handledUpTo != null && handledUpTo.isAfter(cursor)) {
            cursors.store(settings.cursorKey(), handledUpTo.format(CURSOR_FORMAT));
            cursor = handledUpTo;
        }
        Round round = new Round(from, listed.size(), done.published(), done.deadLettered(), cursor, interrupted);
        log.debug("{}: {}", settings.name(), round);
        return round;
    }

    // the listing says whether the portal answers; a record that fails while the listing works is that record's trouble
    private void failing(RuntimeException e) {
        if (failingSince == null) {
            failingSince = System.nanoTime();
            listeners.forEach(l -> l.readsFailing(settings.name(), e));
        }
    }

    private void recovered() {
        if (failingSince != null) {
            Duration failedFor = Duration.ofNanos(System.nanoTime() - failingSince);
            failingSince = null;
            listeners.forEach(l -> l.readsRecovered(settings.name(), failedFor));
        }
    }

    // A record saved during the walk is listed twice (old and new date); reading it once, at its later place, keeps
    // the list sorted and costs one read.
    private static List<Change> latestPerRecord(List<Change> changes) {
        Map<Long, Integer> last = new HashMap<>();
        for (int i = 0; i < changes.size(); i++) {
            last.put(changes.get(i).id(), i);
        }
        List<Change> out = new ArrayList<>(last.size());
        for (int i = 0; i < changes.size(); i++) {
            if (last.get(changes.get(i).id()) == i) {
                out.add(changes.get(i));
            }
        }
        return out;
    }

    /**
     * Polls every {@code interval} on a daemon thread, the first round at once; a failed round is logged and retried.
     * After {@link #stop()} it may be started again: it then resumes from the cursor stored in the topic, which another
     * instance's poller may have moved meanwhile.
     */
    public synchronized void start() {
        if (scheduler != null) {
            throw new IllegalStateException(settings.name() + " already started");
        }
        cursor = null;  // read again: the stored cursor is the truth, and another instance's poller may have moved it
        cursor();
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, settings.name());
            t.setDaemon(true);
            return t;
        });
        scheduler.scheduleWithFixedDelay(() -> {
            try {
                Round round = pollOnce();
                if (round.published() > 0) {
                    log.info("{} published {} record(s); cursor {}", settings.name(), round.published(), round.cursor().format(CURSOR_FORMAT));
                }
            } catch (RuntimeException e) {
                // a portal down for long fails every round: one line each, the stack only at DEBUG
                log.warn("{}: the round failed; the cursor stays at {} and the next round tries again: {}", settings.name(), cursor, e.toString());
                log.debug("{}: the round failed", settings.name(), e);
            }
        }, 0, settings.interval().toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Stops polling once the round in progress has ended (its cursor stored), and forgets the cursor: while stopped, another instance's poller owns the cursor, so a later {@link #start()} reads it again.
     */
    public void stop() {
        ScheduledExecutorService s = scheduler;
        if (s == null) {
            return;
        }
        s.shutdown();
        try {
            if (!s.awaitTermination(30, TimeUnit.SECONDS)) {
                s.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            scheduler = null;
            cursor = null;
            if (failingSince != null) {
                // another instance polls now: this one must not go on reporting a failure it no longer has
                failingSince = null;
                listeners.forEach(l -> l.readerStopped(settings.name()));
            }
        }
    }

    @Override
    public void close() {
        stop();
    }
}
