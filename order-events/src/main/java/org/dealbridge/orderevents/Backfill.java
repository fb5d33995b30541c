package org.dealbridge.orderevents;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.bitrix.Idempotence;
import org.dealbridge.bitrix.LenientJson;
import org.dealbridge.bitrix.store.StoreApi;
import org.dealbridge.schemas.ChangeSource;

/**
 * Every historical order of a site (optionally only those changed on or after a date) into {@code order-changes}.
 *
 * <p>Orders are walked by id ({@code filter >id}, {@code start=-1}, reference §3.2), not by offset, so orders saved
 * while the backfill runs cannot shift pages and be skipped. Each order is read in full and published with cause
 * BACKFILL. Safe to re-run: events carry the whole order and the projector compares them with its links, so a second
 * run changes nothing in the CRM. Orders that cannot be read become dead letters; a retryable portal failure that
 * outlives the client's retries stops the run (run it again).
 *
 * <p>Progress goes to {@code progress} (stderr for the command), at most once per {@code progressEvery} and once at
 * the end: {@code backfill s1: 150/1234 orders, 42.0 orders/s, ETA 00:00:25}.
 */
public final class Backfill {
    public static final String COMPONENT = "backfill";

    /** What a run did. */
    public record Result(long total, long published, long deadLettered, Duration took) {
    }

    private final StoreApi store;
    private final OrderIngest ingest;
    private final PrintWriter progress;
    private final Clock clock;
    private final Duration progressEvery;

    public Backfill(StoreApi store, OrderIngest ingest, PrintWriter progress, Clock clock, Duration progressEvery) {
        this.store = Objects.requireNonNull(store, "store");
        this.ingest = Objects.requireNonNull(ingest, "ingest");
        this.progress = Objects.requireNonNull(progress, "progress");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.progressEvery = Objects.requireNonNull(progressEvery, "progressEvery");
    }

    public Result run(String siteId, LocalDate since) {
        if (siteId == null || siteId.isBlank()) {
            throw new IllegalArgumentException("--site must name a store site id, e.g. s1");
        }
        Map<String, Object> filter = new LinkedHashMap<>();
        filter.put("lid", siteId);
        if (since != null) {
            // a date-only value is read by the portal in its own time zone (reference §3.5)
            filter.put(">=dateUpdate", since.toString());
        }
        BitrixClient client = store.client();
        long total = client.callForResponse("sale.order.list",
                Map.of("filter", filter, "select", List.of("id"), "order", Map.of("id", "asc"), "start", 0), Idempotence.IDEMPOTENT)
                .total().orElse(-1);
        Instant started = clock.instant();
        long[] done = {0};
        long[] published = {0};
        Instant[] lastPrinted = {started};
        List<OrderIngest.Outcome> pending = new ArrayList<>();
        client.exportById("sale.order.list", Map.of("filter", filter, "select", List.of("id")), "id", "orders", page -> {
            for (JsonNode row : page) {
                long orderId = LenientJson.requiredLong(row, "id");
                pending.add(ingest.ingest(orderId, ChangeSource.BACKFILL, COMPONENT, siteId));
                done[0]++;
            }
            // confirm each page before walking on, so a failure names a recent position and memory stays flat
            published[0] += confirm(pending);
            Instant now = clock.instant();
            if (Duration.between(lastPrinted[0], now).compareTo(progressEvery) >= 0) {
                printProgress(siteId, done[0], total, started, now);
                lastPrinted[0] = now;
            }
        });
        published[0] += confirm(pending);
        Instant finished = clock.instant();
        printProgress(siteId, done[0], Math.max(total, done[0]), started, finished);
        return new Result(done[0], published[0], done[0] - published[0], Duration.between(started, finished));
    }

    private long confirm(List<OrderIngest.Outcome> pending) {
        long published = ingest.confirm(pending).published();
        pending.clear();
        return published;
    }

    private void printProgress(String siteId, long done, long total, Instant started, Instant now) {
        progress.println(progressLine(siteId, done, total, Duration.between(started, now)));
        progress.flush();
    }

    /** {@code backfill s1: 150/1234 orders, 42.0 orders/s, ETA 00:00:25}; "?" where it cannot be known yet. */
    static String progressLine(String siteId, long done, long total, Duration elapsed) {
        double seconds = elapsed.toMillis() / 1000.0;
        double rate = seconds > 0 ? done / seconds : 0;
        String eta;
        if (total < 0 || rate <= 0) {
            eta = "?";
        } else {
            long left = (long) Math.ceil(Math.max(0, total - done) / rate);
            eta = String.format("%02d:%02d:%02d", left / 3600, (left % 3600) / 60, left % 60);
        }
        return String.format(java.util.Locale.ROOT, "backfill %s: %d/%s orders, %.1f orders/s, ETA %s",
                siteId, done, total < 0 ? "?" : Long.toString(total), rate, eta);
    }
}
