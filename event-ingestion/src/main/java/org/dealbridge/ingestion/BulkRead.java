package org.dealbridge.ingestion;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The one shape both sides read records in bulk with: the ids a {@link RefreshQueue} or a {@link ChangePoller} hands
 * over are cut into chunks of {@code chunkSize}, each chunk read with one bulk read ({@link Reader}: a list call with an
 * {@code @id}/{@code @ID} filter, inside {@code batch} where it helps), and each id's answer is handled on its own
 * ({@link Handler}): published, gone, or failed by the {@link ReadFailures} rule.
 *
 * <p>Why per id: one store request then brings tens of records, while a record the answer lacks (deleted, or filtered
 * out) or cannot be parsed is still that record's trouble alone, as it was with one read per record.
 *
 * <p>A failure that waits ({@link ReadFailures#waits}) — of the whole bulk read, or of one id — is thrown after the
 * rest of the chunk is handled, so the caller keeps those ids and reads them again (the queue after a backoff, the
 * poller in its next round); records of the same call that were published are published again then, which is
 * harmless (full-state events) and rare (one id's own wait comes from a look-up of its own, such as a catalog product).
 *
 * @param <R> what one id reads as (an order event, a deal event)
 */
public final class BulkRead<R> implements Refresher {

    /** One id's answer in a bulk read. */
    public sealed interface Result<R> {
        /** The record as read now. */
        record Found<R>(R record) implements Result<R> {
        }

        /** The bulk answer lacks the id: the record no longer exists or the filter leaves it out. */
        record Gone<R>() implements Result<R> {
        }

        /** Reading this id failed ({@link ReadFailures#waits} says whether it waits or is the record's for good). */
        record Failed<R>(RuntimeException cause) implements Result<R> {
        }

        static <R> Result<R> gone() {
            return new Gone<>();
        }
    }

    /** One bulk read: at most {@code chunkSize} ids → an answer for each; a failure of the whole call is thrown. */
    @FunctionalInterface
    public interface Reader<R> {
        Map<Long, Result<R>> read(List<Long> ids);
    }

    /** What a side does with each answer, and how it waits for what it sent. */
    public interface Handler<R> {
        /** Sends the record (not yet acknowledged). */
        void publish(long id, R record);

        /** The record is gone: the side's rule (a dead letter naming it, or a log line); returns whether it dead-lettered. */
        boolean gone(long id);

        /** The record can never be read (the portal refused it or answered malformed): a dead letter naming it, or throw. */
        void unreadable(long id, RuntimeException cause);

        /** Flushes and waits until every send of this chunk is acknowledged (a failed send throws). */
        void confirm();
    }

    private final Reader<R> reader;
    private final Handler<R> handler;
    private final int chunkSize;

    public BulkRead(Reader<R> reader, Handler<R> handler, int chunkSize) {
        this.reader = Objects.requireNonNull(reader, "reader");
        this.handler = Objects.requireNonNull(handler, "handler");
        if (chunkSize < 1) {
            throw new IllegalArgumentException("bulk read chunk size must be >= 1, got " + chunkSize);
        }
        this.chunkSize = chunkSize;
    }

    public int chunkSize() {
        return chunkSize;
    }

    /** Reads and publishes every id, chunk by chunk; throws a waiting failure once the chunk it hit is handled. */
    @Override
    public Refreshed refresh(List<Long> ids) {
        Refreshed done = Refreshed.NONE;
        List<Long> distinct = new ArrayList<>(new LinkedHashSet<>(ids));
        for (int from = 0; from < distinct.size(); from += chunkSize) {
            done = done.plus(chunk(distinct.subList(from, Math.min(distinct.size(), from + chunkSize))));
        }
        return done;
    }

    private Refreshed chunk(List<Long> ids) {
        Map<Long, Result<R>> answers = reader.read(ids);
        int published = 0;
        int deadLettered = 0;
        RuntimeException waits = null;
        for (long id : ids) {
            Result<R> answer = answers.getOrDefault(id, Result.gone());
            if (answer instanceof Result.Found<R> found) {
                handler.publish(id, found.record());
                published++;
            } else if (answer instanceof Result.Failed<R> failed) {
                if (ReadFailures.waits(failed.cause())) {
                    if (waits == null) {
                        waits = failed.cause();
                    }
                } else {
                    handler.unreadable(id, failed.cause());
                    deadLettered++;
                }
            } else if (handler.gone(id)) {
                deadLettered++;
            }
        }
        handler.confirm();
        if (waits != null) {
            throw waits;
        }
        return new Refreshed(published, deadLettered);
    }
}
