package org.dealbridge.connector;

import org.dealbridge.schemas.Outcome;
import org.dealbridge.schemas.SyncLink;

/**
 * What a connector did with one command: the shape the runtime publishes from (link, outcome, dead letter, metrics).
 * The connectors' own result records ({@code DealWrite}, {@code OrderWrite}) implement it.
 *
 * @param <C> the command type
 */
public interface CommandResult<C> {

    /** The command as executed (for the CRM connector, the folded command of an order). */
    C command();

    Outcome outcome();

    /** One sentence for the admin, naming the pair and the values. */
    String reason();

    /** The pair's agreed state to publish to {@code deal-links}, or null when nothing is known to agree. */
    SyncLink link();

    /** True when the other side was written (the write counts for {@code dealbridge.sync.latency}). */
    boolean written();

    /** The API's error code or the exception class, for the dead letter of a DEAD_LETTERED command. */
    String errorCode();

    /** How many rounds it took. */
    int attempts();

    /**
     * True when the command still failed transiently (refused connection, timeout, 5xx, an HTML error page, rate
     * refusals) after the connector's own rounds: the side is unreachable. Such a result is never published nor
     * dead-lettered; the runtime commits its partition only up to the command, waits and runs it again. Only a
     * permanent error is a DEAD_LETTERED result.
     */
    default boolean unreachable() {
        return false;
    }
}
