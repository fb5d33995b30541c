package org.dealbridge.mapping;

import java.time.Instant;
import org.dealbridge.schemas.LinkOrigin;
import org.dealbridge.schemas.SyncLink;

import java.util.OptionalLong;

/**
 * The mark DealBridge leaves on a store order it makes from a deal: {@code xmlId = dealbridge-deal:{dealId}}. Both
 * directions read it from here: the order projector writes it (and looks the order up by it, so a retried add never
 * makes a second order), the deal projector recognises it on an order whose link has not arrived yet, so the order
 * never gets a second deal.
 */
public final class OrderFromDeal {

    /** What every {@code xmlId} of an order made from a deal starts with. */
    public static final String XML_ID_PREFIX = "dealbridge-deal:";

    private OrderFromDeal() {
    }

    /** The {@code xmlId} of the order made from this deal. */
    public static String xmlId(long dealId) {
        if (dealId <= 0) {
            throw new IllegalArgumentException("dealId must be positive but is " + dealId);
        }
        return XML_ID_PREFIX + dealId;
    }

    /**
     * The deal an order was made from, read from its {@code xmlId}; empty for any other xmlId (null, another system's,
     * or the prefix followed by something that is not a positive deal id).
     */
    public static OptionalLong dealId(CharSequence xmlId) {
        if (xmlId == null) {
            return OptionalLong.empty();
        }
        String text = xmlId.toString();
        if (!text.startsWith(XML_ID_PREFIX)) {
            return OptionalLong.empty();
        }
        String id = text.substring(XML_ID_PREFIX.length());
        if (id.isEmpty() || id.length() > 18 || !id.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return OptionalLong.empty();
        }
        long dealId = Long.parseLong(id);
        return dealId > 0 ? OptionalLong.of(dealId) : OptionalLong.empty();
    }

    /**
     * The link of an order made from a deal, as far as the deal projector knows it before the store connector's link
     * arrives: the deal is the order's origin (it owns every field but the stage) and nothing has been agreed yet, so
     * when the two sides disagree the later change wins.
     */
    public static SyncLink adoptedLink(String siteId, long orderId, long dealId) {
        return SyncLink.newBuilder()
                .setSiteId(siteId)
                .setOrderId(orderId)
                .setDealId(dealId)
                .setCategoryId(0)
                .setStageId("")
                .setStatusId("")
                .setOrigin(LinkOrigin.DEAL)
                .setUpdatedAt(Instant.EPOCH)
                .build();
    }
}
