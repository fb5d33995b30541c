package org.dealbridge.emulator;

import java.time.Instant;
import java.util.Map;

/**
 * One attempt to deliver an outbound event to a subscribed handler. There is exactly one attempt per event and
 * handler: a failed one ({@code delivered == false}) is lost, as on a real portal. {@code httpStatus} is 0 when the
 * handler could not be reached. {@code form} holds the posted fields with the application token masked.
 */
public record EventDelivery(Portal portal, String event, int handlerId, String handlerUrl, String entityId,
                            Instant sentAt, boolean delivered, int httpStatus, String failure, Map<String, String> form) {
}
