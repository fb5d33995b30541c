package org.dealbridge.app.runtime;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.dealbridge.bitrix.store.StoreApi;
import org.dealbridge.operations.PortalReread;
import org.dealbridge.orderevents.OrderReader;
import org.dealbridge.orderevents.ProductSections;
import org.dealbridge.schemas.ChangeCause;
import org.dealbridge.schemas.ChangeSource;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.OrderChanged;
import org.dealbridge.schemas.Topics;

/**
 * How a dead-letter replay reads again what an ingestion could not read, from the launcher's own portal clients: the
 * store's orders for {@code order-changes}, read exactly as the store ingestion reads them. {@code dlq replay} and the
 * web console both replay through these.
 */
public final class PortalRereads {
    /** A replay reads a handful of orders once: the catalog is read fresh for them. */
    private static final Duration ONE_REPLAY = Duration.ofMinutes(1);

    private PortalRereads() {
    }

    /** Source topic → its reread; empty without a store. */
    public static Map<String, PortalReread> of(Optional<StoreApi> store, Topics topics, Clock clock) {
        if (store.isEmpty()) {
            return Map.of();
        }
        OrderReader reader = new OrderReader(store.get(), new ProductSections(store.get(), ONE_REPLAY, clock));
        Topics.Topic<String, OrderChanged> orderChanges = topics.orderChanges();
        ChangeCause cause = ChangeCause.newBuilder().setSource(ChangeSource.BACKFILL).setActor("dealbridge-dlq-replay").build();
        return Map.of(orderChanges.name(), key -> {
            OrderChanged order = reader.read(orderId(key), cause);
            return new PortalReread.Reread(Keys.order(order.getSiteId().toString(), order.getOrderId()),
                    orderChanges.valueSerde().serializer().serialize(orderChanges.name(), order));
        });
    }

    /** The order id of an ingestion letter's key: {@code s1:5001}, or {@code 5001} when the site was not known. */
    static long orderId(String key) {
        String id = key.substring(key.lastIndexOf(':') + 1);
        try {
            return Long.parseLong(id);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("dead letter key '" + key + "' names no order id", e);
        }
    }
}
