package org.dealbridge.schemas;

/**
 * Record keys, in one place. Keys are plain UTF-8 strings so that any tool can read and produce them.
 * <ul>
 *   <li>order key {@code {siteId}:{orderId}}, e.g. {@code s1:5001}: order-changes, deal-commands, deal-links, sync-outcomes;</li>
 *   <li>deal key: the deal id in decimal, e.g. {@code 812}: deal-changes, order-commands (one portal per DealBridge instance);</li>
 *   <li>site key: the site id, e.g. {@code s1}: mapping-config.</li>
 * </ul>
 */
public final class Keys {
    private Keys() {
    }

    public static String order(String siteId, long orderId) {
        if (siteId == null || siteId.isEmpty() || siteId.indexOf(':') >= 0) {
            throw new IllegalArgumentException("siteId must be non-empty and contain no ':' but was '" + siteId + "'");
        }
        if (orderId <= 0) {
            throw new IllegalArgumentException("orderId must be positive but was " + orderId);
        }
        return siteId + ":" + orderId;
    }

    public static String deal(long dealId) {
        if (dealId <= 0) {
            throw new IllegalArgumentException("dealId must be positive but was " + dealId);
        }
        return Long.toString(dealId);
    }

    /** An order key split into site and order id. */
    public record OrderKey(String siteId, long orderId) {
        @Override
        public String toString() {
            return order(siteId, orderId);
        }
    }

    /** Parses {@code s1:5001}; throws IllegalArgumentException naming the bad key. */
    public static OrderKey parseOrder(String key) {
        int colon = key == null ? -1 : key.lastIndexOf(':');
        if (colon <= 0 || colon == key.length() - 1) {
            throw new IllegalArgumentException("order key must look like {siteId}:{orderId} but was '" + key + "'");
        }
        try {
            long id = Long.parseLong(key.substring(colon + 1));
            return new OrderKey(key.substring(0, colon), id);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("order key must end in a numeric order id but was '" + key + "'");
        }
    }
}
