package org.dealbridge.orderevents;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Objects;
import org.dealbridge.ingestion.FirstCursor;

/**
 * Settings of the store ingestion side, as the launcher reads them from its configuration.
 *
 * @param siteIds              store sites to poll ({@code store.sites}), e.g. {@code [s1]}; one poller and one cursor each
 * @param applicationToken     the token of the store's outbound webhook ({@code store.application-token}); a secret:
 *                             never logged, compared in constant time
 * @param pollInterval         pause between two poll rounds ({@code store.poll-interval}, e.g. 30 s)
 * @param pollOverlap          how far before the cursor a round starts ({@code store.poll-overlap}, at least 1 s, default 2 s)
 * @param firstCursor          where a site's poller starts when no cursor was ever stored (e.g. the store's time at the
 *                             first start, {@link FirstCursor#portalTimeMinus}; older orders are the backfill's job)
 * @param catalogCacheTtl      how long products and sections are cached ({@code store.catalog-cache-ttl}, default 10 min)
 * @param hookMaxBodyBytes     body limit of {@code /hooks/store}, over it → 413 (default 16 KiB)
 * @param refreshQueueCapacity order ids that may wait for a hook-triggered read (default 10 000; more are left to the poller)
 */
public record StoreIngestionConfig(List<String> siteIds, String applicationToken, Duration pollInterval, Duration pollOverlap,
                                   FirstCursor firstCursor, Duration catalogCacheTtl, int hookMaxBodyBytes, int refreshQueueCapacity) {
    public static final Duration DEFAULT_POLL_OVERLAP = Duration.ofSeconds(2);
    public static final Duration DEFAULT_CATALOG_CACHE_TTL = Duration.ofMinutes(10);
    public static final int DEFAULT_REFRESH_QUEUE_CAPACITY = 10_000;

    public StoreIngestionConfig {
        siteIds = List.copyOf(Objects.requireNonNull(siteIds, "store.sites"));
        if (siteIds.isEmpty()) {
            throw new IllegalArgumentException("store.sites must name at least one store site id, e.g. s1");
        }
        Objects.requireNonNull(firstCursor, "firstCursor");
        if (catalogCacheTtl == null || catalogCacheTtl.isNegative() || catalogCacheTtl.isZero()) {
            throw new IllegalArgumentException("store.catalog-cache-ttl must be a positive duration, got " + catalogCacheTtl);
        }
        if (refreshQueueCapacity < 1) {
            throw new IllegalArgumentException("refreshQueueCapacity must be >= 1, got " + refreshQueueCapacity);
        }
        // the remaining checks live where the values are used (StorePoller.Settings, StoreHookHandler) and run at start
    }

    public StoreIngestionConfig(List<String> siteIds, String applicationToken, Duration pollInterval, Duration pollOverlap,
                                OffsetDateTime firstCursor, Duration catalogCacheTtl, int hookMaxBodyBytes, int refreshQueueCapacity) {
        this(siteIds, applicationToken, pollInterval, pollOverlap, FirstCursor.at(firstCursor), catalogCacheTtl, hookMaxBodyBytes,
                refreshQueueCapacity);
    }

    /** The defaults above for everything but sites, token, interval and first cursor. */
    public static StoreIngestionConfig of(List<String> siteIds, String applicationToken, Duration pollInterval, OffsetDateTime firstCursor) {
        return new StoreIngestionConfig(siteIds, applicationToken, pollInterval, DEFAULT_POLL_OVERLAP, firstCursor,
                DEFAULT_CATALOG_CACHE_TTL, StoreHookHandler.DEFAULT_MAX_BODY_BYTES, DEFAULT_REFRESH_QUEUE_CAPACITY);
    }

    @Override
    public String toString() {
        // the token stays out of logs even when the whole config is printed
        return "StoreIngestionConfig[siteIds=" + siteIds + ", applicationToken=***, pollInterval=" + pollInterval + ", pollOverlap="
                + pollOverlap + ", firstCursor=" + firstCursor + ", catalogCacheTtl=" + catalogCacheTtl + ", hookMaxBodyBytes="
                + hookMaxBodyBytes + ", refreshQueueCapacity=" + refreshQueueCapacity + "]";
    }
}
