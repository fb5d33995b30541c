package org.dealbridge.dealprojector.crm;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dealbridge.bitrix.BatchCommand;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.Outcome;
import org.dealbridge.schemas.SyncLink;

/**
 * One deal command in one round of {@link DealWriter}: the sub-commands it reads and writes with, and what became of
 * it. Its sub-commands' keys carry its index, so they are unique in a batch shared with other commands and may
 * reference each other ({@code $result[add3]}).
 */
final class CommandRound {
    final DealCommand command;
    private final int index;
    final List<BatchCommand> reads = new ArrayList<>();
    final List<BatchCommand> writes = new ArrayList<>();
    /** CREATE: the deals its look-up by origin found, oldest first (empty: none); null until looked up. */
    List<JsonNode> dealsOfOrigin;
    /** UPDATE: its deal as read; null until read. */
    JsonNode deal;
    /** UPDATE: the CRM's answer when its deal no longer exists, or null. */
    String deletedBecause;
    /** CREATE: the buyer's contact (remembered or found), or null: the writes add one. */
    Long contact;
    /** CREATE: the owner of that contact, when the command takes its responsible from it and it has one. */
    Long contactOwner;
    /** Buyer keys → contact id this round learned, for {@link BuyerContacts} once it is written. */
    final Map<String, Long> learnedContacts = new LinkedHashMap<>();
    /** The link to publish once the writes succeed (its deal id is 0 until an add answers). */
    SyncLink link;
    Outcome outcome;
    String reason;
    /** The deal's stage won against the order's status: the store side must follow it. */
    boolean reconcile;
    /**
     * The move intent this command's earlier round of the same write recorded ({@link DealWriter.MoveIntents}), or null:
     * a round run again after its move failed transiently is judged on it, as a command consumed again after a crash is.
     */
    SyncLink intentRecorded;
    /** The pipeline move the plan makes on a linked deal, whose intent is recorded before the call; null when none. */
    PlannedMove move;

    /** A linked deal's move: the link the command was judged on, the deal's pipeline as read, the pipeline it goes to. */
    record PlannedMove(SyncLink judgedOn, long from, long to) {
    }

    CommandRound(DealCommand command, int index) {
        this.command = command;
        this.index = index;
    }

    /** The link an UPDATE is judged on: the intent its earlier round recorded, else the one it was decided on. */
    SyncLink decidedOn() {
        return intentRecorded != null ? intentRecorded : command.getDecidedOn();
    }

    /** Its deal was looked up (found, known absent, or known deleted). */
    boolean lookedUp() {
        return dealsOfOrigin != null || deal != null || deletedBecause != null;
    }

    /** The key of this command's sub-command of a kind ("find", "add", …). */
    String key(String kind) {
        return kind + index;
    }

    /** The order the command is for, as the admin reads it ({@code s1:5001}). */
    String order() {
        return command.getSiteId() + ":" + command.getOrderId();
    }

    DealWrite finished(int attempt, boolean written) {
        return new DealWrite(command, outcome, reason, link, null, attempt, written, reconcile, false, Map.copyOf(learnedContacts));
    }
}
