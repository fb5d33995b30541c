package org.dealbridge.dealprojector.crm;

import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.Outcome;
import org.dealbridge.schemas.SyncLink;

/**
 * What became of one deal command.
 *
 * @param command   the (folded) command
 * @param outcome   CREATED, UPDATED, UNCHANGED, CONFLICT_RESOLVED or DEAD_LETTERED
 * @param reason    one sentence for the admin, naming the deal and values
 * @param link      the link to publish (the deal's state after the write, or as read back on a conflict); null when
 *                  dead-lettered
 * @param errorCode the API's error code (or exception class) when dead-lettered
 * @param attempts  how many rounds it took
 * @param written   true when a write reached the CRM (for the latency timer)
 */
public record DealWrite(DealCommand command, Outcome outcome, String reason, SyncLink link, String errorCode, int attempts,
                        boolean written) {
}
