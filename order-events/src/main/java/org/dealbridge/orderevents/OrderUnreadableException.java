package org.dealbridge.orderevents;

/**
 * An order that cannot become an {@code OrderChanged} however often it is re-read: it does not exist, or a field the
 * event needs is missing or malformed. The message names the order, the field and the value.
 */
public final class OrderUnreadableException extends RuntimeException {
    private final long orderId;

    public OrderUnreadableException(long orderId, String message, Throwable cause) {
        super(message, cause);
        this.orderId = orderId;
    }

    public long orderId() {
        return orderId;
    }
}
