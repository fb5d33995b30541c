package org.dealbridge.console;

import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Supplier;
import org.dealbridge.bitrix.crm.CrmApi;
import org.dealbridge.bitrix.store.StoreApi;
import org.dealbridge.mapping.MappingTopics;
import org.dealbridge.operations.PortalReread;
import org.dealbridge.schemas.Topics;

/**
 * What the console reads from the running DealBridge: Kafka, the topics with their serdes, the portals (when
 * configured), the site this instance syncs and the health of each role. The launcher builds it; tests build it
 * over an embedded broker and the emulators.
 *
 * @param kafkaClientProperties properties every Kafka client starts from (bootstrap servers, security)
 * @param health                the health of each role, as {@code /health} reports it
 * @param resync                how to read an order again (the store ingestion's refresh), when the store is configured
 * @param portalRereads         how a dead-letter replay reads again what an ingestion could not read, by source topic
 */
public record ConsoleSources(Properties kafkaClientProperties, Topics topics, MappingTopics mappingTopics,
                             Optional<CrmApi> crm, Optional<StoreApi> store, String siteId,
                             Supplier<Map<String, RoleHealth>> health, Optional<OrderResync> resync,
                             Map<String, PortalReread> portalRereads) {

    /** Sources whose dead-letter replays read nothing again from the portals. */
    public ConsoleSources(Properties kafkaClientProperties, Topics topics, MappingTopics mappingTopics, Optional<CrmApi> crm,
                          Optional<StoreApi> store, String siteId, Supplier<Map<String, RoleHealth>> health,
                          Optional<OrderResync> resync) {
        this(kafkaClientProperties, topics, mappingTopics, crm, store, siteId, health, resync, Map.of());
    }

    /** Reads an order of this site from the store again and publishes it, as a store hook would (present with a store). */
    @FunctionalInterface
    public interface OrderResync {
        /** @return whether the order was queued ({@code QUEUED}), already waiting ({@code ALREADY_PENDING}) or refused ({@code DROPPED_FULL}) */
        String resync(long orderId);
    }

    /** One role's health: {@code UP}, {@code DEGRADED}, {@code DOWN} or {@code NOT_CONFIGURED}, and why. */
    public record RoleHealth(String status, String detail) {
    }

    public ConsoleSources {
        Properties copy = new Properties();
        copy.putAll(kafkaClientProperties);
        kafkaClientProperties = copy;
    }

    @Override
    public Properties kafkaClientProperties() {
        Properties copy = new Properties();
        copy.putAll(kafkaClientProperties);
        return copy;
    }
}
