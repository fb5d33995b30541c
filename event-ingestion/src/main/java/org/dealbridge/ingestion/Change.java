package org.dealbridge.ingestion;

import java.time.OffsetDateTime;

/**
 * A record the portal lists as changed: its id, when it was last modified, by the portal's own clock
 * ({@code dateUpdate} of an order, {@code DATE_MODIFY} of a deal), and a digest of what the side publishes of it as
 * listed.
 *
 * <p>Why the digest: the modification date has second precision (reference §0), so a record saved twice within one
 * second lists with the same date both times; only what it now says tells the second save from the first.
 *
 * @param modified null when the portal sent none; such a record is refreshed but never moves the cursor
 * @param content  the side's digest of the record as listed ({@link PublishedVersions}); null when the side lists
 *                 none, and then the record is read again whenever it is listed
 */
public record Change(long id, OffsetDateTime modified, String content) {
    /** A change listed without a digest of its content. */
    public Change(long id, OffsetDateTime modified) {
        this(id, modified, null);
    }
}
