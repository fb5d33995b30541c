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
}
