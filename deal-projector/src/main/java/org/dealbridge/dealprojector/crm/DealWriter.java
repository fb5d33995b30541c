package org.dealbridge.dealprojector.crm;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.dealbridge.bitrix.BatchCommand;
import org.dealbridge.bitrix.BatchResult;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.bitrix.BitrixException;
import org.dealbridge.bitrix.Idempotence;
import org.dealbridge.bitrix.crm.CrmApi;
import org.dealbridge.dealprojector.DealProjectorConfig;
import org.dealbridge.mapping.PairDecision;
import org.dealbridge.retry.RetryPolicy;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.DealCommandKind;
import org.dealbridge.schemas.Outcome;
import org.dealbridge.schemas.SyncLink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the CRM is called: executes deal commands (one per order) in {@code batch} calls of at most
 * {@code crm.batch-size} sub-commands. A round is the reads of every pending command (packed into as few batch calls
 * as fit), then their writes; each step is its own class:
 * <ol>
 *   <li><b>read</b> ({@link DealReads}): for a CREATE, the deal by ORIGINATOR_ID+ORIGIN_ID and the buyer's contact;
 *       for an UPDATE, the deal (and its rows), to decide against the deal as it is;</li>
 *   <li><b>decide</b> ({@link CommandDecision}, with {@link DealUpdatePlan}, and {@link FoundDeal} for a CREATE whose
 *       deal exists): each field with {@code Ownership} against the freshest link (a value a person set stands,
 *       {@link Outcome#MANAGER_VALUE_KEPT}), the stage with {@link PairDecision} in the pipeline the deal is really in
 *       — the code the order projector decides with, so a pair is never pulled two ways;</li>
 *   <li><b>write</b> ({@link DealWrites}): pipeline moves first, in batches of their own (a refused move leaves the
 *       rest of its command unwritten), each linked deal's move once its intent is recorded ({@link MoveIntents}); then
 *       contact, deal add only when no deal was found, fields, rows;</li>
 *   <li><b>record</b> ({@link LinkAfterWrite}): the link to publish.</li>
 * </ol>
 * A command whose round failed transiently (timeout, dropped connection, 5xx) is retried from the read step, so an add
 * whose answer was lost is looked up before it is ever sent again: rounds follow one {@link RetryPolicy}, at most
 * {@code crm.max-attempts} of them, waiting at most {@code crm.max-backoff} between two. Below it the client retries
 * only what the portal surely did not run (rate refusals, requests never sent;
 * {@link BitrixClient#leavingFailuresToCaller}). Out of rounds the command is {@link DealWrite#waiting} (the
 * connector waits and runs it again, never a dead letter); a permanent error dead-letters it at once. A deal deleted in the CRM is not an error: the order is unlinked ({@link Outcome#DEAL_DELETED}).
 *
 * <p>All calls go through one {@link BitrixClient}, so they share the portal's rate budget.
 */
public final class DealWriter {

    private static final Logger log = LoggerFactory.getLogger(DealWriter.class);

    private final BitrixClient client;
    private final int batchSize;
    /** The command layer's retries: crm.max-attempts rounds, waits of crm.initial-backoff doubling to crm.max-backoff. */
    private final RetryPolicy retry;
    private final Clock clock;
    private final Sleeper sleeper;
    /** The webhook's user: DealBridge's own changes carry this id in MODIFY_BY_ID/MOVED_BY_ID. */
    private final String webhookUser;
    /** The buyers' contacts met so far; the connector fills it from {@code buyer-contacts} when a run starts. */
    private final BuyerContacts buyerContacts = new BuyerContacts();
    /** The reads the last write sent ahead for the next one ({@link ReadAhead}); null when none. */
    private ReadAhead readAhead;

    /**
     * Where the writer records the intent of a pipeline move before the CRM call that makes it
     * ({@link LinkAfterWrite#moveIntent}). The CRM is outside the connector's Kafka transaction: when the process dies
     * after a move and before the link of it is committed, the command is consumed again and judged on the link before
     * the move, on which a manager's move back meanwhile reads as no move at all (nothing on the deal tells it from a
     * stage change inside the pipeline). The intent, committed before the call, tells the command executed again what it
     * was about to do and when ({@code Ownership.moveIntent}).
     */
    @FunctionalInterface
    public interface MoveIntents {
        /** For a caller that never loses a result between the CRM call and its link (a test of one rule): nothing recorded. */
        MoveIntents UNRECORDED = intents -> { };

        /**
         * Records these links (each the link a command was judged on, with its move intent), by the command each is for,
         * and returns once they are durable. Throws when they could not be made so: then no move is made.
         */
        void record(Map<DealCommand, SyncLink> intents);
    }

    /** How the writer waits between rounds (tests record the waits instead). */
    @FunctionalInterface
    public interface Sleeper extends RetryPolicy.Sleeper {
    }

    public DealWriter(BitrixClient client, DealProjectorConfig config, Clock clock) {
        this(client, config, clock, RetryPolicy.Sleeper.THREAD::sleep);
    }

    public DealWriter(BitrixClient client, DealProjectorConfig config, Clock clock, Sleeper sleeper) {
        // a round restarts from the look-ups, so the client retries only what surely did not run: one layer per failure
        this.client = client.leavingFailuresToCaller();
        this.batchSize = config.batchSize();
        this.retry = new RetryPolicy(config.maxAttempts(), config.initialBackoff(), config.maxBackoff());
        this.clock = clock;
        this.sleeper = sleeper;
        this.webhookUser = client.config().webhook().userId();
    }

    /** The buyers' contacts this writer knows (the connector keeps them on {@code buyer-contacts}). */
    public BuyerContacts buyerContacts() {
        return buyerContacts;
    }

    /**
     * How long the portal's rate budget would hold this writer's next call; zero when it could go now. Reserves nothing:
     * the connector spends the wait gathering commands, so the call carries them.
     */
    public Duration untilNextCall() {
        return client.rateLimiter().untilRoom();
    }

    /**
     * Writes every command (at most one per order) and says what became of each, in the given order, recording no move
     * intent ({@link MoveIntents#UNRECORDED}).
     */
    public List<DealWrite> write(List<DealCommand> commands) throws InterruptedException {
        return write(commands, MoveIntents.UNRECORDED);
    }

    /**
     * Writes every command (at most one per order) and says what became of each, in the given order; the intent of each
     * pipeline move of a linked deal is recorded with {@code intents} before the call that makes it.
     */
    public List<DealWrite> write(List<DealCommand> commands, MoveIntents intents) throws InterruptedException {
        return write(commands, intents, List.of());
    }

    /**
     * Writes every command as {@link #write(List, MoveIntents)} does, and sends the reads of {@code next} — the
     * commands the caller will hand the next call, none of them for an order among {@code commands} — in this write's
     * last call where they fit ({@link ReadAhead}), so the next write's first round needs no read call of its own.
     * The next write uses them only if it is given every one of those command objects; otherwise it reads as usual.
     */
    public List<DealWrite> write(List<DealCommand> commands, MoveIntents intents, List<DealCommand> next)
            throws InterruptedException {
        ReadAhead ahead = readAhead;
        readAhead = null;
        if (ahead != null && !ahead.usableFor(commands, clock.instant())) {
            ahead = null;
        }
        ReadAhead nextReads = null;
        Map<DealCommand, DealWrite> done = new HashMap<>();
        // by command: a round run again after its move failed transiently is judged on its recorded intent
        Map<DealCommand, SyncLink> recorded = new IdentityHashMap<>();
        List<DealCommand> remaining = commands;
        for (int attempt = 1; !remaining.isEmpty(); attempt++) {
            Round round = new Round(attempt, done, intents, recorded);
            if (attempt == 1) {
                round.ahead = ahead;
                round.next = next;
            }
            round.run(remaining);
            nextReads = round.nextReads;
            if (round.retry.isEmpty()) {
                break;
            }
            // read ahead before a wait between rounds: too old to decide on by the time the next write runs
            nextReads = null;
            if (!retry.mayRetryAfter(attempt)) {
                // the CRM is unreachable, not the command wrong: the connector waits and runs it again from the reads
                round.retry.forEach((command, error) -> done.put(command, DealWrite.waiting(command, round.attempt, error.code(),
                        error.message())));
                break;
            }
            Duration wait = retry.delayAfter(attempt);
            RoundFailure first = round.retry.values().iterator().next();
            log.info("{} deal command(s) failed transiently (attempt {} of {}; the first: {} {}); retrying in {} ms",
                    round.retry.size(), attempt, retry.maxAttempts(), first.code(), first.message(), wait.toMillis());
            sleeper.sleep(wait);
            remaining = new ArrayList<>(round.retry.keySet());
        }
        readAhead = nextReads;
        List<DealWrite> results = new ArrayList<>(commands.size());
        commands.forEach(command -> results.add(done.get(command)));
        // what the CRM now has, whether or not the connector's transaction commits (a contact added stays added)
        results.forEach(r -> r.contacts().forEach(buyerContacts::remember));
        return results;
    }

    /** One round: every command's reads (as few batch calls as fit), its decision, then every command's writes. */
    private final class Round {
        final int attempt;
        final Map<DealCommand, DealWrite> done;
        /** The commands to run again, with why this round failed for them (in the given order). */
        final Map<DealCommand, RoundFailure> retry = new LinkedHashMap<>();
        final MoveIntents intents;
        /** The move intents recorded so far in this write, by command. */
        final Map<DealCommand, SyncLink> recorded;
        /** What the previous write read ahead for these commands, or null. */
        ReadAhead ahead;
        /** The next write's commands, whose reads ride in this round's last write call where they fit. */
        List<DealCommand> next = List.of();
        /** Those reads, once planned. */
        ReadAhead nextReads;
        /** The keys of the buyers this round may add a contact for. */
        final Set<String> newBuyers = new HashSet<>();

        Round(int attempt, Map<DealCommand, DealWrite> done, MoveIntents intents, Map<DealCommand, SyncLink> recorded) {
            this.attempt = attempt;
            this.done = done;
            this.intents = intents;
            this.recorded = recorded;
        }

        void run(List<DealCommand> commands) {
            List<CommandRound> reading = new ArrayList<>();
            List<CommandRound> toRead = new ArrayList<>();
            // the rounds planned ahead keep their keys; the others are numbered after them
            int index = ahead == null ? 0 : ahead.size();
            for (DealCommand command : commands) {
                CommandRound planned = ahead == null ? null : ahead.round(command);
                CommandRound round = planned != null ? planned : new CommandRound(command, index++);
                round.intentRecorded = recorded.get(command);
                SyncLink decidedOn = command.getDecidedOn();
                if (knownDeleted(command)) {
                    // the deal is known to be gone: nothing to read or write (see FreshestLink)
                    round.link = decidedOn;
                    round.outcome = Outcome.DEAL_DELETED;
                    round.reason = "Deal " + decidedOn.getDealId() + " of order " + round.order() + " was deleted in the CRM ("
                            + decidedOn.getDealDeletedAt() + "); nothing is written.";
                    done.put(command, round.finished(attempt, false));
                } else if (planned != null) {
                    reading.add(round);
                } else {
                    DealReads.plan(round);
                    reading.add(round);
                    toRead.add(round);
                }
            }
            Map<CommandRound, BatchResult> readResults = read(toRead);
            // the buyers whose contact this round may add: a next order of theirs is read in its own call, after this
            // round has remembered the contact (whether the CRM's duplicate search sees a contact added earlier in the
            // same batch, the reference does not say)
            reading.stream().filter(r -> r.command.getKind() == DealCommandKind.CREATE && r.contact == null)
                    .forEach(r -> newBuyers.addAll(BuyerContacts.keys(r.command.getBuyer())));
            List<CommandRound> writing = new ArrayList<>();
            for (CommandRound round : reading) {
                BatchResult reads = readResults.get(round);
                if (reads == null) {
                    continue;  // its reads failed
                }
                try {
                    CommandDecision.decide(round, reads, webhookUser, clock.instant());
                    if (round.writes.isEmpty()) {
                        done.put(round.command, round.finished(attempt, false));
                    } else {
                        writing.add(round);
                    }
                } catch (BitrixException e) {
                    fail(round, RoundFailure.of(e));
                } catch (RuntimeException e) {
                    // a command the CRM cannot take as it is (e.g. a stage outside its pipeline): never a poison pill
                    fail(round, RoundFailure.permanent(e));
                }
            }
            writing = movedFirst(writing);
            List<List<CommandRound>> writeCalls = batches(writing, r -> r.writes);
            for (int call = 0; call < writeCalls.size(); call++) {
                List<CommandRound> batch = writeCalls.get(call);
                List<BatchCommand> subCommands = subCommands(batch, r -> r.writes);
                // the next write's reads ride in the last call, after these writes (a batch runs in order, §4.2)
                List<BatchCommand> riding = call == writeCalls.size() - 1 ? readsAhead(batchSize - subCommands.size()) : List.of();
                subCommands.addAll(riding);
                BatchResult result;
                try {
                    result = client.batch(subCommands, false, Idempotence.NOT_IDEMPOTENT);
                } catch (BitrixException e) {
                    // the answer is lost but the writes may have run: the retry starts from the look-up
                    batch.forEach(r -> fail(r, RoundFailure.of(e)));
                    continue;
                }
                if (!riding.isEmpty()) {
                    nextReads.answered(result, clock.instant());
                }
                batch.forEach(r -> written(r, result));
            }
        }

        /** The next write's reads that fit into {@code room} sub-commands of this round's last write call. */
        private List<BatchCommand> readsAhead(int room) {
            List<DealCommand> readable = next.stream().filter(c -> c.getKind() != DealCommandKind.CREATE
                    || BuyerContacts.keys(c.getBuyer()).stream().noneMatch(newBuyers::contains)).toList();
            if (readable.isEmpty() || room <= 0) {
                return List.of();
            }
            nextReads = ReadAhead.plan(readable, buyerContacts, batchSize);
            return nextReads.ride(room);
        }

        /**
         * The read step: every round's own reads and its share of the deal look-ups ({@link DealLookups}), then, in a
         * second call only when needed, the look-ups a shared one left unsure. The rounds the previous write read ahead
         * take the answers that rode in its last call (a batch of them that did not fit is read now). Returns each
         * round that was read with the answer to its own reads; a round whose reads failed is handed to {@link #fail}.
         */
        private Map<CommandRound, BatchResult> read(List<CommandRound> toRead) {
            Map<CommandRound, BatchResult> answered = new HashMap<>();
            List<CommandRound> unsure = new ArrayList<>();
            if (ahead != null) {
                unsure.addAll(read(ahead.batches, ahead.contacts, ahead::answer, answered));
            }
            if (!toRead.isEmpty()) {
                ContactLookups contacts = ContactLookups.plan(toRead, buyerContacts);
                unsure.addAll(read(DealLookups.pack(toRead, contacts.groups(), batchSize), contacts, batch -> null, answered));
            }
            for (DealLookups.Batch batch : DealLookups.confirming(unsure, batchSize)) {
                BatchResult result = readBatch(batch);
                if (result != null) {
                    batch.answer(result, this::fail);
                }
            }
            answered.keySet().removeIf(r -> !r.lookedUp() || retry.containsKey(r.command) || done.containsKey(r.command));
            return answered;
        }

        /** Planned read batches, each answered already ({@code answers}) or read now; returns the rounds left unsure. */
        private List<CommandRound> read(List<DealLookups.Batch> batches, ContactLookups contacts,
                                        Function<DealLookups.Batch, BatchResult> answers, Map<CommandRound, BatchResult> answered) {
            List<CommandRound> unsure = new ArrayList<>();
            for (DealLookups.Batch batch : batches) {
                BatchResult answer = answers.apply(batch);
                BatchResult result = answer != null ? answer : readBatch(batch);
                if (result == null) {
                    contacts.batchFailed();
                    continue;
                }
                contacts.absorb(result);
                unsure.addAll(batch.answer(result, this::fail));
                batch.rounds.forEach(r -> answered.put(r, result));
            }
            contacts.assign(this::fail);
            return unsure;
        }

        private BatchResult readBatch(DealLookups.Batch batch) {
            try {
                return client.batch(batch.commands(), false, Idempotence.IDEMPOTENT);
            } catch (BitrixException e) {
                batch.rounds.forEach(r -> fail(r, RoundFailure.of(e)));
                return null;
            }
        }

        /**
         * Pipeline moves go first, in batches of their own: a move the CRM refuses (a pipeline or stage it lacks) must
         * leave the rest of its command unwritten, since a dead-lettered command records no link, and an amount or rows
         * DealBridge wrote without a link would later read as a person's edit and stand. One more call per round, only
         * when a basket moved a deal. Returns the commands still to write (a command whose move was all it had is done).
         */
        private List<CommandRound> movedFirst(List<CommandRound> writing) {
            List<CommandRound> moving = writing.stream().filter(r -> move(r) != null).toList();
            if (moving.isEmpty()) {
                return writing;
            }
            List<CommandRound> rest = new ArrayList<>(writing);
            recordIntents(moving);
            for (List<CommandRound> batch : batches(moving, r -> List.of(move(r)))) {
                BatchResult result;
                try {
                    result = client.batch(subCommands(batch, r -> List.of(move(r))), false, Idempotence.NOT_IDEMPOTENT);
                } catch (BitrixException e) {
                    // the moves may have run: the retry starts from the look-up, which sees where each deal is
                    batch.forEach(r -> fail(r, RoundFailure.of(e)));
                    rest.removeAll(batch);
                    continue;
                }
                for (CommandRound r : batch) {
                    BatchCommand move = move(r);
                    Optional<RoundFailure> failure = DealWrites.failure(List.of(move), result);
                    if (failure.isPresent()) {
                        fail(r, failure.get());
                        rest.remove(r);
                        continue;
                    }
                    r.writes.remove(move);
                    if (r.writes.isEmpty()) {
                        written(r, result);
                        rest.remove(r);
                    }
                }
            }
            return rest;
        }

        /**
         * Records the intent of every linked deal's move before the call ({@link MoveIntents}), stamped with the CRM's own
         * time now ({@code portalNow}: the reads just answered, so no call is added), which the deal's {@code MOVED_TIME}
         * is compared with if the command is executed again. Each move's link then counts on from its intent. An
         * exception (the intents could not be made durable) leaves every move of the round unmade.
         */
        private void recordIntents(List<CommandRound> moving) {
            Instant crmTime = client.portalNow().orElse(null);
            Instant now = clock.instant();
            Map<DealCommand, SyncLink> intentsNow = new LinkedHashMap<>();
            for (CommandRound r : moving) {
                if (r.move != null) {
                    intentsNow.put(r.command, LinkAfterWrite.moveIntent(r.move.judgedOn(), r.command.getCommandId(), r.move.from(),
                            r.move.to(), crmTime, now));
                }
            }
            if (intentsNow.isEmpty()) {
                return;
            }
            intents.record(intentsNow);
            for (CommandRound r : moving) {
                SyncLink intent = intentsNow.get(r.command);
                if (intent != null) {
                    recorded.put(r.command, intent);
                    r.link = LinkAfterWrite.after(r.link, intent);
                }
            }
        }

        private BatchCommand move(CommandRound round) {
            String key = round.key("move");
            return round.writes.stream().filter(w -> w.key().equals(key)).findFirst().orElse(null);
        }

        /** A command's writes answered: finished, unless one of them failed or the add's id is unreadable. */
        private void written(CommandRound round, BatchResult result) {
            Optional<RoundFailure> failure = DealWrites.failure(round, result);
            if (failure.isPresent()) {
                fail(round, failure.get());
                return;
            }
            if (round.link.getDealId() == 0) {
                long dealId;
                try {
                    dealId = CrmApi.addedId(result, round.key("add"));
                } catch (RuntimeException e) {
                    fail(round, RoundFailure.unreadableAnswer(e));
                    return;
                }
                round.link = LinkAfterWrite.withAddedId(round.link, dealId);
                if (result.succeeded(round.key("contact"))) {
                    // the buyer's new contact: remembered, so the buyer's next order neither searches nor adds one
                    long contact = CrmApi.addedId(result, round.key("contact"));
                    BuyerContacts.keys(round.command.getBuyer()).forEach(key -> round.learnedContacts.put(key, contact));
                }
                round.reason = "Deal " + dealId + " created for order " + round.order() + " in pipeline "
                        + round.link.getCategoryId() + " at stage " + round.link.getStageId() + ".";
            }
            done.put(round.command, round.finished(attempt, true));
        }

        private void fail(CommandRound round, RoundFailure e) {
            if (e.retryable()) {
                retry.put(round.command, e);
            } else {
                done.put(round.command, deadLetter(round.command, attempt, e.code(), e.message()));
            }
        }
    }

    /**
     * Groups commands so that each group's sub-commands fit one batch; a command's sub-commands stay together because
     * they reference each other's results.
     */
    private List<List<CommandRound>> batches(List<CommandRound> rounds, Function<CommandRound, List<BatchCommand>> part) {
        List<List<CommandRound>> batches = new ArrayList<>();
        List<CommandRound> current = new ArrayList<>();
        int used = 0;
        for (CommandRound round : rounds) {
            int size = part.apply(round).size();
            if (size == 0) {
                continue;
            }
            if (!current.isEmpty() && used + size > batchSize) {
                batches.add(current);
                current = new ArrayList<>();
                used = 0;
            }
            current.add(round);
            used += size;
        }
        if (!current.isEmpty()) {
            batches.add(current);
        }
        return batches;
    }

    private static List<BatchCommand> subCommands(List<CommandRound> batch, Function<CommandRound, List<BatchCommand>> part) {
        List<BatchCommand> commands = new ArrayList<>();
        batch.forEach(r -> commands.addAll(part.apply(r)));
        return commands;
    }

    /** An UPDATE of a deal the link knows is deleted: nothing to read or write (see FreshestLink). */
    static boolean knownDeleted(DealCommand command) {
        SyncLink decidedOn = command.getDecidedOn();
        return command.getKind() == DealCommandKind.UPDATE && decidedOn != null && decidedOn.getDealDeletedAt() != null;
    }

    private static DealWrite deadLetter(DealCommand c, int attempts, String code, String message) {
        return new DealWrite(c, Outcome.DEAD_LETTERED, "The " + c.getKind() + " of the deal of order " + c.getSiteId() + ":"
                + c.getOrderId() + " was given up: " + message, null, code, attempts, false);
    }
}
