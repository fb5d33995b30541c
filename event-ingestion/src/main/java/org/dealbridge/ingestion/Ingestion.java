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
 *
 * <p>Several instances: every instance's hook accepts and publishes (the queue is per instance), but the pollers run
 * only on the instance that a {@link PollerLeadership} elects; when it dies they start on the next leader, from the
 * cursor stored in the topic. Every instance still stores or loads the cursor before its hook accepts anything, and a
 * poller moves the cursor only past what it published, so whatever any instance's hook accepted is in Kafka or after
 * the stored cursor that the next leader resumes from.
 */
public final class Ingestion implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Ingestion.class);

    private final RefreshQueue queue;
    private final List<ChangePoller> pollers;
    private final List<AutoCloseable> resources;
    private final PollerLeadership leadership;

    /**
     * @param resources closed after the queue and the pollers, in this order (producers, the cursor store)
     */
    public Ingestion(RefreshQueue queue, List<ChangePoller> pollers, List<AutoCloseable> resources) {
        this(queue, pollers, resources, null);
    }

    /**
     * @param leadership when not null the pollers run only while it elects this instance (one instance of several);
     *                   null: they always run (a single instance)
     */
    public Ingestion(RefreshQueue queue, List<ChangePoller> pollers, List<AutoCloseable> resources, PollerLeadership leadership) {
        this.queue = Objects.requireNonNull(queue, "queue");
        this.pollers = List.copyOf(pollers);
        this.resources = new ArrayList<>(resources);
        this.leadership = leadership;
        if (leadership != null) {
            leadership.addListener(new PollerLeadership.Listener() {
                @Override
                public void elected() {
                    Ingestion.this.pollers.forEach(ChangePoller::start);
                }

                @Override
                public void deposed() {
                    Ingestion.this.pollers.forEach(ChangePoller::stop);
                }
            });
        }
    }

    public RefreshQueue queue() {
        return queue;
    }

    public List<ChangePoller> pollers() {
        return pollers;
    }

    /**
     * Tells {@code listener} when this side's reads (the hook's queue, each poller) start failing and when they work
     * again: e.g. whatever reports the portal as unreachable on {@code /health}.
     */
    public Ingestion addReadFailureListener(ReadFailureListener listener) {
        queue.addListener(listener);
        pollers.forEach(p -> p.addListener(listener));
        return this;
    }

    /**
     * Loads or stores every cursor, opens the queue to hook events, then starts the pollers (first round at once), or,
     * with a leadership, joins its group: the pollers start when this instance is elected.
     */
    public void start() {
        pollers.forEach(ChangePoller::cursor);
        queue.open();
        if (leadership == null) {
            pollers.forEach(ChangePoller::start);
        } else {
            leadership.start();
        }
    }

    /** Pollers first (leaving the leadership hands them to another instance), then the queue, then the producers. */
    @Override
    public void close() {
        if (leadership != null) {
            leadership.close();
        }
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
