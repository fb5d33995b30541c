package org.dealbridge.dealevents;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@link CrmPoller#pollOnce} every {@code crm.poll.interval} on its own thread, the first poll at once (it is
 * what recovers the hooks lost while DealBridge was down). A failed poll is logged and the next one starts from the
 * same cursor.
 */
public final class CrmPolling implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(CrmPolling.class);

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "crm-poller");
        t.setDaemon(true);
        return t;
    });

    public CrmPolling(CrmPoller poller, DealEventsConfig config) {
        scheduler.scheduleWithFixedDelay(() -> {
            try {
                int published = poller.pollOnce();
                if (published > 0) {
                    log.info("CRM poll published {} deal(s)", published);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                log.warn("CRM poll failed; the next one starts from the same cursor: {}", e.getMessage());
            }
        }, 0, config.pollInterval().toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        try {
            scheduler.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
