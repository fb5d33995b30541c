package org.dealbridge.ingestion;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One side's ingestion assembled: the hook's {@link RefreshQueue} and one {@link ChangePoller} per cursor, plus
 * whatever they publish through (producers, cursor store), closed last.
 *
 * <p>{@link #start()} stores every poller's first cursor <em>before</em> the queue accepts a hook event: an event
 * accepted and then lost with the process (the queue is in memory) is then re-read by the poller after the restart.
 */
public final class Ingestion implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Ingestion.class);

    private final RefreshQueue queue;
    private final List<ChangePoller> pollers;
    private final List<AutoCloseable> resources;

    /**
     * @param resources closed after the queue and the pollers, in this order (producers, the cursor store)
     */
    public Ingestion(RefreshQueue queue, List<ChangePoller> pollers, List<AutoCloseable> resources) {
        this.queue = Objects.requireNonNull(queue, "queue");
        this.pollers = List.copyOf(pollers);
        this.resources = new ArrayList<>(resources);
    }

    public RefreshQueue queue() {
        return queue;
    }

    public List<ChangePoller> pollers() {
        return pollers;
    }

    /** Loads or stores every cursor, opens the queue to hook events, then starts the pollers (first round at once). */
    public void start() {
        pollers.forEach(ChangePoller::cursor);
        queue.open();
        pollers.forEach(ChangePoller::start);
    }

    /** Pollers first, then the queue, then the producers, so nothing is sent to a closed producer. */
    @Override
    public void close() {
        pollers.forEach(ChangePoller::close);
        queue.close();
        for (AutoCloseable resource : resources) {
            try {
                resource.close();
            } catch (Exception e) {
                log.warn("closing {} failed: {}", resource, e.toString());
            }
        }
    }
}
