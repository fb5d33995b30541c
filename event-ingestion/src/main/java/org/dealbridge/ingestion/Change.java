package org.dealbridge.ingestion;

import java.time.OffsetDateTime;

/**
 * A record the portal lists as changed: its id and when it was last modified, by the portal's own clock
 * ({@code dateUpdate} of an order, {@code DATE_MODIFY} of a deal).
 *
 * @param modified null when the portal sent none; such a record is refreshed but never moves the cursor
 */
public record Change(long id, OffsetDateTime modified) {
}
