package org.dealbridge.dealprojector.crm;

import java.util.Map;
import org.dealbridge.connector.CommandResult;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.Outcome;
import org.dealbridge.schemas.SyncLink;

/**
 * What became of one deal command (the runtime publishes it as a {@link CommandResult}).
 *
 * @param command   the (folded) command
 * @param outcome   CREATED, UPDATED, UNCHANGED, CONFLICT_RESOLVED, MANAGER_VALUE_KEPT, DEAL_DELETED or DEAD_LETTERED
 * @param reason    one sentence for the admin, naming the deal and values
 * @param link      the link to publish (the deal's state after the write, or as read back on a conflict); null when
 *                  dead-lettered
 * @param errorCode the API's error code (or exception class) when dead-lettered
 * @param attempts  how many rounds it took
 * @param written   true when a write reached the CRM (for the latency timer)
 * @param reconcile true when the deal's stage won against the order's status: the store side must bring the order to
 *                  it, and may have judged the pair on a link too old to see that (see {@code OrderCommandKind.RECONCILE})
 * @param unreachable true when the CRM still failed transiently after the last round: the connector waits and runs the
 *                    command again (never a dead letter; see {@link CommandResult#unreachable()})
 * @param contacts  the buyer's contact learned by this command, by buyer key ({@link BuyerContacts}), to publish on
 *                  {@code buyer-contacts} with its result
 */
public record DealWrite(DealCommand command, Outcome outcome, String reason, SyncLink link, String errorCode, int attempts,
                        boolean written, boolean reconcile, boolean unreachable, Map<String, Long> contacts)
        implements CommandResult<DealCommand> {

    public DealWrite(DealCommand command, Outcome outcome, String reason, SyncLink link, String errorCode, int attempts,
                     boolean written, boolean reconcile, boolean unreachable) {
        this(command, outcome, reason, link, errorCode, attempts, written, reconcile, unreachable, Map.of());
    }

    public DealWrite(DealCommand command, Outcome outcome, String reason, SyncLink link, String errorCode, int attempts,
                     boolean written, boolean reconcile) {
        this(command, outcome, reason, link, errorCode, attempts, written, reconcile, false);
    }

    public DealWrite(DealCommand command, Outcome outcome, String reason, SyncLink link, String errorCode, int attempts,
                     boolean written) {
        this(command, outcome, reason, link, errorCode, attempts, written, false);
    }

    /** The CRM could not be reached through every round: nothing is published, the command runs again after a wait. */
    static DealWrite waiting(DealCommand c, int attempts, String code, String message) {
        return new DealWrite(c, Outcome.OTHER, "The CRM is unreachable for the " + c.getKind() + " of the deal of order "
                + c.getSiteId() + ":" + c.getOrderId() + " after " + attempts + " attempts; it waits and runs again: " + message,
                null, code, attempts, false, false, true);
    }
}
