package org.dealbridge.dealprojector.crm;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.dealbridge.bitrix.BatchCommand;
import org.dealbridge.bitrix.BatchResult;
import org.dealbridge.schemas.DealCommand;

/**
 * The reads of the next round, planned while this round writes and sent in this round's last write call where they
 * fit (issue 14 item 3 (a)): a round then costs one HTTP call, its writes, instead of a read call and a write call.
 *
 * <p>Why it is safe: the commands of a batch run in order (reference §4.2), so these reads come after this round's
 * writes and see the CRM as the next round would have read it in a call of its own; the next round holds no order of
 * this one ({@code CrmConnector} leaves those to be read in their own call, since the links this round leaves change
 * how they are decided). Nothing is decided here: the next round decides on these answers as on any read. The sub-commands
 * travel under {@link #PREFIX} ({@link BatchCommand#withKeyPrefix}), so their keys never meet the writes'.
 *
 * <p>Used once, by the next {@link DealWriter#write} whose first round holds every command planned here (the same
 * objects); anything else (a command dropped by a rebalance, a CRM unreachable meanwhile, a round retried) drops it, and
 * those commands are read again in a call of their own.
 */
final class ReadAhead {
    static final String PREFIX = "next_";
    /**
     * How old reads may be when the next round decides on them. Normally that round starts within one call interval of
     * the answer; a longer pause (a slow commit, a run restarted after a crash) reads again instead of deciding on a
     * deal as it was seconds ago.
     */
    static final Duration MAX_AGE = Duration.ofSeconds(5);

    /** The planned commands' rounds, by command (identity: the exact objects the next round will be given). */
    private final Map<DealCommand, CommandRound> rounds = new IdentityHashMap<>();
    final ContactLookups contacts;
    final List<DealLookups.Batch> batches;
    /** The answer of each batch that rode in a write call, read back under its own keys. */
    private final Map<DealLookups.Batch, BatchResult> answers = new IdentityHashMap<>();
    private final List<DealLookups.Batch> riding = new ArrayList<>();
    /** When the reads were answered, by the writer's clock. */
    private Instant answeredAt;

    private ReadAhead(List<CommandRound> reading, ContactLookups contacts, List<DealLookups.Batch> batches) {
        reading.forEach(r -> rounds.put(r.command, r));
        this.contacts = contacts;
        this.batches = batches;
    }

    /** The reads of these commands, planned as a round of their own would plan them. */
    static ReadAhead plan(List<DealCommand> next, BuyerContacts memory, int batchSize) {
        List<CommandRound> reading = new ArrayList<>();
        for (DealCommand command : next) {
            if (!DealWriter.knownDeleted(command)) {
                CommandRound round = new CommandRound(command, reading.size());
                DealReads.plan(round);
                reading.add(round);
            }
        }
        ContactLookups contacts = ContactLookups.plan(reading, memory);
        return new ReadAhead(reading, contacts, DealLookups.pack(reading, contacts.groups(), batchSize));
    }

    /** How many keys the planned rounds use: the next round's other commands are numbered after them. */
    int size() {
        return rounds.size();
    }

    /**
     * The read batches that fit, in order, into {@code room} sub-commands of a write call, renamed under {@link #PREFIX}.
     * Later batches wait for the next round's own read call.
     */
    List<BatchCommand> ride(int room) {
        List<BatchCommand> commands = new ArrayList<>();
        for (DealLookups.Batch batch : batches) {
            List<BatchCommand> reads = batch.commands();
            if (reads.isEmpty() || commands.size() + reads.size() > room) {
                break;
            }
            reads.forEach(c -> commands.add(c.withKeyPrefix(PREFIX)));
            riding.add(batch);
        }
        return commands;
    }

    /** The write call these reads rode in was answered at {@code now}. */
    void answered(BatchResult call, Instant now) {
        BatchResult own = call.part(PREFIX);
        riding.forEach(batch -> answers.put(batch, own));
        riding.clear();
        answeredAt = now;
    }

    /**
     * True when some reads were answered no longer than {@link #MAX_AGE} before {@code now} and every planned command is
     * among {@code commands}.
     */
    boolean usableFor(List<DealCommand> commands, Instant now) {
        if (answers.isEmpty() || Duration.between(answeredAt, now).compareTo(MAX_AGE) > 0) {
            return false;
        }
        Set<DealCommand> present = Collections.newSetFromMap(new IdentityHashMap<>());
        present.addAll(commands);
        return present.containsAll(rounds.keySet());
    }

    /** The planned round of a command, or null when it was not planned here. */
    CommandRound round(DealCommand command) {
        return rounds.get(command);
    }

    /** The answer of a planned batch, or null when it did not ride (it is read in a call of its own). */
    BatchResult answer(DealLookups.Batch batch) {
        return answers.get(batch);
    }
}
