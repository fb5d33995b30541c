package org.dealbridge.connector;

import java.time.Instant;

/**
 * What the runtime needs to know of any command, whatever its schema: the pair it is about, its id and kind, the
 * mapping version it was decided under and when the change it answers happened.
 *
 * @param orderId null for a command about a deal that has no order yet
 * @param dealId  null for a command about an order that has no deal yet
 */
public record CommandFacts(String siteId, Long orderId, Long dealId, String commandId, String kind, long mappingVersion,
                           Instant sourceTime) {
}
