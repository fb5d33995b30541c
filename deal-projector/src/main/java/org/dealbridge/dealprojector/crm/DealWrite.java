package org.dealbridge.dealprojector.crm;

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
 */
public record DealWrite(DealCommand command, Outcome outcome, String reason, SyncLink link, String errorCode, int attempts,
                        boolean written, boolean reconcile) implements CommandResult<DealCommand> {

    public DealWrite(DealCommand command, Outcome outcome, String reason, SyncLink link, String errorCode, int attempts,
                     boolean written) {
        this(command, outcome, reason, link, errorCode, attempts, written, false);
    }
}
