package org.dealbridge.orderprojector.store;

import org.dealbridge.connector.CommandResult;
import org.dealbridge.schemas.OrderCommand;
import org.dealbridge.schemas.Outcome;
import org.dealbridge.schemas.SyncLink;

/**
 * What the store connector did with one command (the runtime publishes it as a {@link CommandResult}).
 *
 * @param link      the link to publish (the pair's new agreed state), or null when nothing is known to agree
 * @param written   true when the store was written (an order added or its status set)
 * @param errorCode the API error code or exception class, for dead letters
 * @param unreachable true when a side (the store, or the CRM it reads) still failed transiently after the last attempt:
 *                  the connector waits and runs the command again (never a dead letter; see {@link CommandResult#unreachable()})
 */
public record OrderWrite(OrderCommand command, Outcome outcome, String reason, SyncLink link, boolean written,
                         String errorCode, int attempts, boolean unreachable) implements CommandResult<OrderCommand> {

    public OrderWrite(OrderCommand command, Outcome outcome, String reason, SyncLink link, boolean written, String errorCode,
                      int attempts) {
        this(command, outcome, reason, link, written, errorCode, attempts, false);
    }
}
