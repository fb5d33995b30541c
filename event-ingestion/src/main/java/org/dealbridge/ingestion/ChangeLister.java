package org.dealbridge.ingestion;

import java.time.OffsetDateTime;
import java.util.List;

/** How one side lists what changed: every record modified after {@code from}, every page, oldest first. */
@FunctionalInterface
public interface ChangeLister {
    List<Change> changedSince(OffsetDateTime from);
}
