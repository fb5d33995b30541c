package org.dealbridge.orderevents;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.dealbridge.bitrix.store.StoreApi;
import org.dealbridge.schemas.Topics;

/** What {@link BackfillCommand} needs from the launcher: the store, Kafka producer settings and the topics. */
public interface BackfillContext {
    StoreApi store();

    /** Producer settings, at least {@code bootstrap.servers}; acks and idempotence are forced by {@link OrderPublisher}. */
    Map<String, Object> producerConfig();

    Topics topics();

    default MeterRegistry meterRegistry() {
        return io.micrometer.core.instrument.Metrics.globalRegistry;
    }

    /** How long catalog products and sections are cached ({@code store.catalog-cache-ttl}). */
    default Duration catalogCacheTtl() {
        return Duration.ofMinutes(10);
    }

    default Clock clock() {
        return Clock.systemUTC();
    }
}
