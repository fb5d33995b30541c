package org.dealbridge.ingestion;

import java.time.Duration;

/**
 * Told when a side's reads from its portal start failing and when they work again, so that whatever reports a portal
 * as unreachable (health, a metric of how long) counts ingestion's reads too, not only the connectors' writes. Reads
 * that fail wait and are read again ({@link RefreshQueue}, {@link ChangePoller}); nothing is dead-lettered for it.
 *
 * <p>Called on the reader's own thread, at most once per change of state: keep it quick and do not throw.
 */
public interface ReadFailureListener {
    /**
     * The portal looks unreachable or refusing to {@code reader}: the reads of a refresh queue ({@code store-order-refresh},
     * {@code deal-refresh}) failed one after another, or a poller's listing ({@code store-poller-s1}, {@code crm-poller})
     * failed. They are tried again. One record failing while others are read is not reported.
     */
    void readsFailing(String reader, RuntimeException cause);

    /** A read of {@code reader} worked again after failing for {@code failedFor}. */
    void readsRecovered(String reader, Duration failedFor);

    /**
     * {@code reader} stopped while its reads were failing (a poller whose leadership moved to another instance): it no
     * longer reads here, so it is neither failing nor recovered; whatever reported it failing stops doing so.
     */
    default void readerStopped(String reader) {
    }
}
