package org.dealbridge.app.runtime;

import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.dealbridge.app.config.DealBridgeConfig;
import org.dealbridge.bitrix.crm.CrmApi;
import org.dealbridge.bitrix.store.StoreApi;
import org.dealbridge.console.Console;
import org.dealbridge.console.ConsoleAccess;
import org.dealbridge.console.ConsoleSources;
import org.dealbridge.mapping.MappingTopics;
import org.dealbridge.schemas.Topics;
import org.dealbridge.schemas.registry.SchemaRegistry;

/** Builds the web console from the runtime's own clients, registry and health: the console opens nothing of its own. */
final class ConsoleWiring {
    private ConsoleWiring() {
    }

    static Console console(DealBridgeConfig config, Properties clientProperties, Topics topics, SchemaRegistry registry,
                           Connections connections, HealthRegistry health, Optional<ConsoleSources.OrderResync> resync) {
        ConsoleSources sources = new ConsoleSources(clientProperties, topics, MappingTopics.of(registry, topics.prefix()),
                connections.crm().map(CrmApi::new), connections.store().map(StoreApi::new),
                config.getString(DealBridgeConfig.STORE_SITE_ID), () -> {
                    Map<String, ConsoleSources.RoleHealth> roles = new LinkedHashMap<>();
                    health.components().forEach((role, h) -> roles.put(role, new ConsoleSources.RoleHealth(h.status().name(), h.detail())));
                    return roles;
                }, resync, PortalRereads.of(connections.store().map(StoreApi::new), topics, Clock.systemUTC()));
        ConsoleAccess access = new ConsoleAccess(config.secret(DealBridgeConfig.CONSOLE_TOKEN),
                config.getString(DealBridgeConfig.CONSOLE_PROXY_HEADER), Clock.systemUTC());
        return new Console(sources, access, Clock.systemUTC());
    }
}
