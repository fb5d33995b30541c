package org.dealbridge.connector;

import java.time.Instant;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;

/**
 * What the runtime needs to know of any command, whatever its schema: the pair it is about, its id and kind, the
 * mapping version it was decided under and when the change it answers happened. Every command schema
 * ({@code DealCommand}, {@code OrderCommand}) has these fields under these names.
 *
 * @param orderId null for a command about a deal that has no order yet
 * @param dealId  null for a command about an order that has no deal yet
 */
public record CommandFacts(String siteId, Long orderId, Long dealId, String commandId, String kind, long mappingVersion,
                           Instant sourceTime) {

    /** The facts of a command, read by field name; a schema without one of them fails naming it. */
    public static CommandFacts of(SpecificRecord command) {
        return new CommandFacts(text(command, "siteId"), (Long) field(command, "orderId"), (Long) field(command, "dealId"),
                text(command, "commandId"), text(command, "kind"), (Long) field(command, "mappingVersion"),
                (Instant) field(command, "sourceTime"));
    }

    private static String text(SpecificRecord command, String name) {
        Object value = field(command, name);
        return value == null ? null : value.toString();
    }

    private static Object field(SpecificRecord command, String name) {
        Schema.Field field = command.getSchema().getField(name);
        if (field == null) {
            throw new IllegalArgumentException(command.getSchema().getFullName() + " has no field '" + name + "': a command "
                    + "needs siteId, orderId, dealId, commandId, kind, mappingVersion and sourceTime");
        }
        return command.get(field.pos());
    }
}
