package org.dealbridge.mapping.cli;

import java.util.Optional;
import java.util.Properties;
import org.dealbridge.bitrix.crm.CrmApi;
import org.dealbridge.bitrix.store.StoreApi;
import org.dealbridge.schemas.registry.SchemaRegistry;

/**
 * What the {@code mapping} commands need from the launcher. It is asked for lazily, once per command, so
 * {@code mapping validate FILE} works without Kafka or the portals configured.
 */
public interface MappingCliContext extends AutoCloseable {

    /** Kafka client properties (bootstrap servers, security), without serializers or a group id. */
    Properties kafkaClientProperties();

    SchemaRegistry schemaRegistry();

    /** The installation's {@code kafka.topic-prefix}, in front of the mapping topics' names; empty (the default) for none. */
    default String topicPrefix() {
        return "";
    }

    /** The CRM, when its webhook is configured. */
    Optional<CrmApi> crm();

    /** The store, when its webhook is configured. */
    Optional<StoreApi> store();

    /** Releases what the context opened (clients, registry); nothing by default. */
    @Override
    default void close() {
    }
}
