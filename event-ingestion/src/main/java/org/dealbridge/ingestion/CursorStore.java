package org.dealbridge.ingestion;

import java.util.Optional;

/** Where a poller keeps how far it has read. Implemented on the compacted {@code ingest-cursors} topic. */
public interface CursorStore {
    /** The last stored value for {@code key}, or empty when none was ever stored. */
    Optional<String> load(String key);

    /** Stores {@code value} durably (acknowledged by all in-sync replicas) before returning. */
    void store(String key, String value);
}
