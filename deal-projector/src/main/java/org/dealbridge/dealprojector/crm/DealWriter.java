package org.dealbridge.dealprojector.crm;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.dealbridge.bitrix.BatchCommand;
import org.dealbridge.bitrix.BatchResult;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.bitrix.BitrixException;
import org.dealbridge.bitrix.Idempotence;
import org.dealbridge.bitrix.crm.CrmApi;
import org.dealbridge.dealprojector.DealProjectorConfig;
import org.dealbridge.dealprojector.topology.DealFields;
import org.dealbridge.mapping.PairDecision;
import org.dealbridge.schemas.Buyer;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.DealCommandKind;
import org.dealbridge.schemas.LinkOrigin;
import org.dealbridge.schemas.Outcome;
import org.dealbridge.schemas.ProductRow;
import org.dealbridge.schemas.SyncLink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the CRM is called: executes deal commands (one per order) in {@code batch} calls of at most
 * {@code crm.batch-size} sub-commands; a round is the reads of every pending command (packed into as few batch
 * calls as fit), then their writes:
 * <ol>
 *   <li><b>read</b>: for a CREATE, {@code crm.deal.list} by ORIGINATOR_ID+ORIGIN_ID (the deal may exist: an earlier
 *       add timed out after it was applied, or a replay) and the buyer's contact by e-mail and phone
 *       ({@code crm.duplicate.findbycomm}, with the contact's owner when {@code resolveResponsibleFromContact}); for
 *       an UPDATE, {@code crm.deal.get} to check the values the command expects to replace (no blind overwrite);</li>
 *   <li><b>write</b>: {@code crm.contact.add} when no contact was found, {@code crm.deal.add} only when no deal was
 *       found, {@code crm.item.update} for a pipeline change, {@code crm.deal.update} for the other fields,
 *       {@code crm.deal.productrows.set}.</li>
 * </ol>
 * A command whose round failed transiently (timeout, dropped connection, 5xx, rate refusal) is retried from the
 * read step, so an add whose answer was lost is looked up before it is ever sent again. Rounds are retried with
 * exponential backoff and jitter up to {@code crm.max-attempts}; then, and at once for permanent errors, the
 * command is dead-lettered. An UPDATE whose target changed since the decision is dropped, and the link is
 * refreshed with the deal's current state so the next decision starts from it ({@link Outcome#CONFLICT_RESOLVED}).
 *
 * <p>The stage is decided again against the deal as read, with {@link PairDecision} — the code the order projector
 * decides with, so a pair is never pulled two ways: a deal already consistent with the order's status keeps its
 * stage; when both sides moved since the link (or a CREATE finds a deal, which has no link), the later change wins,
 * and a manager's later stage change is never overwritten here (the order projector writes the order instead).
 *
 * <p>All calls go through one {@link BitrixClient}, so they share the portal's rate budget.
 */
public final class DealWriter {

    private static final Logger log = LoggerFactory.getLogger(DealWriter.class);
    private static final List<String> DEAL_SELECT = List.of("ID", "TITLE", "CATEGORY_ID", "STAGE_ID", "OPPORTUNITY",
            "CURRENCY_ID", "ASSIGNED_BY_ID", "DATE_MODIFY", "UF_*");

    private final BitrixClient client;
    private final int batchSize;
    private final int maxAttempts;
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private final Clock clock;
    private final Sleeper sleeper;

    /** How the writer waits between rounds (tests may not want to). */
    @FunctionalInterface
    public interface Sleeper {
        void sleep(Duration duration) throws InterruptedException;
    }

    public DealWriter(BitrixClient client, DealProjectorConfig config, Clock clock) {
        this(client, config, clock, duration -> Thread.sleep(duration.toMillis()));
    }

    public DealWriter(BitrixClient client, DealProjectorConfig config, Clock clock, Sleeper sleeper) {
        this.client = client;
        this.batchSize = config.batchSize();
        this.maxAttempts = config.maxAttempts();
        this.initialBackoff = config.initialBackoff();
        this.maxBackoff = config.maxBackoff();
        this.clock = clock;
        this.sleeper = sleeper;
    }

    /** Writes every command (at most one per order) and says what became of each, in the given order. */
    public List<DealWrite> write(List<DealCommand> commands) throws InterruptedException {
        Map<DealCommand, DealWrite> done = new HashMap<>();
        List<DealCommand> remaining = commands;
        Map<DealCommand, Failure> lastError = new HashMap<>();
        for (int attempt = 1; !remaining.isEmpty(); attempt++) {
            List<DealCommand> retry = new ArrayList<>();
            runRound(jobs(remaining), attempt, done, retry, lastError);
            if (retry.isEmpty()) {
                break;
            }
            if (attempt >= maxAttempts) {
                for (DealCommand command : retry) {
                    Failure error = lastError.get(command);
                    done.put(command, deadLetter(command, attempt, error.code(), "still failing after " + attempt
                            + " attempts: " + error.message()));
                }
                break;
            }
            Duration wait = backoff(attempt);
            log.info("{} deal command(s) failed transiently (attempt {} of {}); retrying in {} ms", retry.size(), attempt,
                    maxAttempts, wait.toMillis());
            sleeper.sleep(wait);
            remaining = retry;
        }
        List<DealWrite> results = new ArrayList<>(commands.size());
        commands.forEach(command -> results.add(done.get(command)));
        return results;
    }

    /** Exponential with ±50% jitter, so many connectors do not retry in step. */
    Duration backoff(int attempt) {
        long base = Math.min(maxBackoff.toMillis(), initialBackoff.toMillis() << Math.min(attempt - 1, 20));
        long jittered = (long) (base * (0.5 + ThreadLocalRandom.current().nextDouble()));
        return Duration.ofMillis(Math.max(1, Math.min(maxBackoff.toMillis(), jittered)));
    }

    // ---- one command's round ----

    /** One command in a round, with the keys of its sub-commands (unique in the batch by the index). */
    private static final class Job {
        final DealCommand command;
        final int index;
        final List<BatchCommand> reads = new ArrayList<>();
        final List<BatchCommand> writes = new ArrayList<>();
        SyncLink link;
        Outcome outcome;
        String reason;

        Job(DealCommand command, int index) {
            this.command = command;
            this.index = index;
        }

        String key(String kind) {
            return kind + index;
        }
    }

    /** The jobs of one round: every remaining command with its reads planned. */
    private List<Job> jobs(List<DealCommand> commands) {
        List<Job> jobs = new ArrayList<>(commands.size());
        int index = 0;
        for (DealCommand command : commands) {
            Job job = new Job(command, index++);
            planReads(job);
            jobs.add(job);
        }
        return jobs;
    }

    /**
     * Groups jobs so that each group's sub-commands fit one batch; a job's sub-commands stay together because they
     * reference each other's results.
     */
    private List<List<Job>> batches(List<Job> jobs, java.util.function.Function<Job, List<BatchCommand>> part) {
        List<List<Job>> batches = new ArrayList<>();
        List<Job> current = new ArrayList<>();
        int used = 0;
        for (Job job : jobs) {
            int size = part.apply(job).size();
            if (size == 0) {
                continue;
            }
            if (!current.isEmpty() && used + size > batchSize) {
                batches.add(current);
                current = new ArrayList<>();
                used = 0;
            }
            current.add(job);
            used += size;
        }
        if (!current.isEmpty()) {
            batches.add(current);
        }
        return batches;
    }

    private void planReads(Job job) {
        DealCommand c = job.command;
        if (c.getKind() == DealCommandKind.CREATE) {
            job.reads.add(BatchCommand.of(job.key("find"), "crm.deal.list", Map.of(
                    "filter", Map.of("ORIGINATOR_ID", c.getOriginatorId(), "ORIGIN_ID", Long.toString(c.getOrderId())),
                    "select", DEAL_SELECT, "order", Map.of("ID", "ASC"), "start", -1)));
            Buyer buyer = c.getBuyer();
            if (buyer != null && buyer.getEmail() != null && !buyer.getEmail().isBlank()) {
                job.reads.add(findContact(job.key("email"), "EMAIL", buyer.getEmail()));
                if (c.getResolveResponsibleFromContact()) {
                    job.reads.add(BatchCommand.of(job.key("emailOwner"), "crm.contact.get",
                            Map.of("id", BatchCommand.ref(job.key("email"), "CONTACT", "0"))));
                }
            }
            if (buyer != null && buyer.getPhone() != null && !buyer.getPhone().isBlank()) {
                job.reads.add(findContact(job.key("phone"), "PHONE", buyer.getPhone()));
                if (c.getResolveResponsibleFromContact()) {
                    job.reads.add(BatchCommand.of(job.key("phoneOwner"), "crm.contact.get",
                            Map.of("id", BatchCommand.ref(job.key("phone"), "CONTACT", "0"))));
                }
            }
        } else {
            job.reads.add(BatchCommand.of(job.key("get"), "crm.deal.get", Map.of("id", c.getDealId())));
        }
    }

    private static BatchCommand findContact(String key, String type, String value) {
        return BatchCommand.of(key, "crm.duplicate.findbycomm", Map.of("type", type, "values", List.of(value),
                "entity_type", "CONTACT"));
    }

    /** One round: every job's reads (as few batch calls as fit), then every job's writes. */
    private void runRound(List<Job> round, int attempt, Map<DealCommand, DealWrite> done, List<DealCommand> retry,
                          Map<DealCommand, Failure> lastError) {
        Map<Job, BatchResult> readResults = new HashMap<>();
        for (List<Job> batch : batches(round, job -> job.reads)) {
            List<BatchCommand> reads = new ArrayList<>();
            batch.forEach(job -> reads.addAll(job.reads));
            try {
                BatchResult result = client.batch(reads, false, Idempotence.IDEMPOTENT);
                batch.forEach(job -> readResults.put(job, result));
            } catch (BitrixException e) {
                failAll(batch, Failure.of(e), attempt, done, retry, lastError);
            }
        }
        List<Job> writing = new ArrayList<>();
        for (Job job : round) {
            BatchResult reads = readResults.get(job);
            if (reads == null) {
                continue;  // its read batch failed
            }
            try {
                if (planWrites(job, reads, attempt, done)) {
                    if (job.writes.isEmpty()) {
                        done.put(job.command, finished(job, attempt, false));
                    } else {
                        writing.add(job);
                    }
                }
            } catch (BitrixException e) {
                fail(job, Failure.of(e), attempt, done, retry, lastError);
            } catch (DealGone e) {
                fail(job, new Failure(false, "NOT_FOUND", e.getMessage()), attempt, done, retry, lastError);
            } catch (RuntimeException e) {
                // a command the CRM cannot take as it is (e.g. a stage outside its pipeline): never a poison pill
                fail(job, new Failure(false, e.getClass().getSimpleName(), e.getMessage()), attempt, done, retry, lastError);
            }
        }
        for (List<Job> batch : batches(writing, job -> job.writes)) {
            List<BatchCommand> writes = new ArrayList<>();
            batch.forEach(job -> writes.addAll(job.writes));
            BatchResult writeResult;
            try {
                writeResult = client.batch(writes, false, Idempotence.NOT_IDEMPOTENT);
            } catch (BitrixException e) {
                // the answer is lost but the writes may have run: the retry starts from the look-up
                failAll(batch, Failure.of(e), attempt, done, retry, lastError);
                continue;
            }
            for (Job job : batch) {
                Optional<Failure> failure = job.writes.stream()
                        .map(w -> writeResult.error(w.key()).map(Failure::of).orElseGet(() -> writeResult.succeeded(w.key()) ? null
                                : new Failure(true, "NOT_EXECUTED", w.method() + " did not run")))
                        .filter(java.util.Objects::nonNull)
                        .findFirst();
                if (failure.isPresent()) {
                    fail(job, failure.get(), attempt, done, retry, lastError);
                    continue;
                }
                if (job.link.getDealId() == 0) {
                    long dealId;
                    try {
                        dealId = CrmApi.addedId(writeResult, job.key("add"));
                    } catch (RuntimeException e) {
                        // the add ran but its answer is unreadable: the retry finds the deal by its origin
                        fail(job, new Failure(true, e.getClass().getSimpleName(), e.getMessage()), attempt, done, retry, lastError);
                        continue;
                    }
                    SyncLink created = SyncLink.newBuilder(job.link).setDealId(dealId).build();
                    job.link = created;
                    job.reason = "Deal " + created.getDealId() + " created for order " + key(job.command) + " in pipeline "
                            + created.getCategoryId() + " at stage " + created.getStageId() + ".";
                }
                done.put(job.command, finished(job, attempt, true));
            }
        }
    }

    /**
     * Decides the writes of a job from what the read step found; false when nothing is to be written (the job is
     * finished, e.g. on a conflict).
     */
    private boolean planWrites(Job job, BatchResult reads, int attempt, Map<DealCommand, DealWrite> done) {
        DealCommand c = job.command;
        if (c.getKind() == DealCommandKind.CREATE) {
            List<JsonNode> found = elements(reads.result(job.key("find")));
            if (!found.isEmpty()) {
                // the deal exists (an earlier add went through, or a replay): bring it to the desired state instead
                if (found.size() > 1) {
                    log.warn("Order {} has {} deals with ORIGINATOR_ID {}; writing the oldest, {}", key(c), found.size(),
                            c.getOriginatorId(), text(found.get(0), "ID"));
                }
                JsonNode deal = found.get(0);
                Map<String, String> fields = new LinkedHashMap<>(sendable(c.getFields()));
                fields.remove(DealFields.ORIGINATOR_ID);
                fields.remove(DealFields.ORIGIN_ID);
                fields.remove(DealFields.ASSIGNED_BY_ID);  // never reassign an existing deal
                fields.remove(DealFields.IS_MANUAL_OPPORTUNITY);
                removeUnchanged(fields, deal);
                // No link yet: DealBridge made this deal (found by its ORIGINATOR_ID+ORIGIN_ID) and nothing records a
                // consistent state since, so its stage counts as DealBridge's own write, not a manager's change, and
                // the order's status is written. Comparing times instead let the deal's creation by an earlier
                // incarnation (killed before its link was committed) outrank the order's change: the crash loop lost
                // status changes that way.
                Optional<PairDecision.Verdict> stage = decideStage(c, deal, fields, false);
                applyStage(stage, fields, deal);
                planUpdate(job, deal, fields, c.getProductRows(), Outcome.UPDATED,
                        "Deal " + text(deal, "ID") + " already existed for order " + key(c) + "; brought up to date.");
                explainStage(job, stage, deal);
                return true;
            }
            Map<String, Object> fields = new LinkedHashMap<>(sendable(c.getFields()));
            Optional<Long> contact = firstContact(reads, job.key("email")).or(() -> firstContact(reads, job.key("phone")));
            if (c.getResolveResponsibleFromContact()) {
                owner(reads, job.key("emailOwner")).or(() -> owner(reads, job.key("phoneOwner")))
                        .ifPresent(owner -> fields.put(DealFields.ASSIGNED_BY_ID, Long.toString(owner)));
            }
            if (contact.isPresent()) {
                fields.put("CONTACT_IDS", List.of(contact.get()));
            } else if (hasContactData(c.getBuyer())) {
                job.writes.add(BatchCommand.of(job.key("contact"), "crm.contact.add", Map.of(
                        "fields", contactFields(c.getBuyer(), fields.get(DealFields.ASSIGNED_BY_ID)),
                        "params", Map.of("REGISTER_SONET_EVENT", "N"))));
                fields.put("CONTACT_IDS", List.of(BatchCommand.ref(job.key("contact"))));
            }
            job.writes.add(BatchCommand.of(job.key("add"), "crm.deal.add", Map.of("fields", fields,
                    "params", Map.of("REGISTER_SONET_EVENT", "N"))));
            List<ProductRow> rows = c.getProductRows() == null ? List.of() : c.getProductRows();
            if (!rows.isEmpty()) {
                job.writes.add(CrmApi.setProductRowsCommand(job.key("rows"), BatchCommand.ref(job.key("add")), bitrixRows(rows)));
            }
            Map<String, String> written = new LinkedHashMap<>(sendable(c.getFields()));
            fields.forEach((k, v) -> {
                if (v instanceof String s) {
                    written.put(k, s);
                }
            });
            written.put(DealFields.PRODUCT_ROWS_DIGEST, DealFields.productRowsDigest(rows));
            job.link = link(c, 0L, Long.parseLong(c.getFields().get(DealFields.CATEGORY_ID)),
                    c.getFields().get(DealFields.STAGE_ID), written);
            job.outcome = Outcome.CREATED;
            return true;
        }

        JsonNode deal;
        try {
            deal = reads.result(job.key("get"));
        } catch (BitrixException.NotFound e) {
            throw new DealGone("deal " + c.getDealId() + " of order " + key(c) + " no longer exists in the CRM ("
                    + e.description() + ")");
        }
        Map<String, String> fields = new LinkedHashMap<>(sendable(c.getFields()));
        String stageByPipeline = c.getExpected().get(DealFields.STAGE_BY_PIPELINE);
        if (stageByPipeline != null && !fields.containsKey(DealFields.STAGE_ID)) {
            // an order made from this deal, before its link: the order status's stage in the deal's own pipeline
            DealFields.stageOfPipeline(stageByPipeline, longValue(deal, "CATEGORY_ID"))
                    .ifPresent(stage -> fields.put(DealFields.STAGE_ID, stage));
        }
        Optional<PairDecision.Verdict> stage = decideStage(c, deal, fields, true);
        Map<String, String> mismatches = new LinkedHashMap<>();
        c.getExpected().forEach((field, expected) -> {
            boolean decided = stage.isPresent() && field.equals(DealFields.STAGE_ID);
            if (!decided && !DealFields.isBookkeeping(field) && !sameValue(field, expected, valueOf(deal, field))) {
                mismatches.put(field, valueOf(deal, field));
            }
        });
        if (!mismatches.isEmpty()) {
            // no blind overwrite: the deal changed since the decision; record what it has now
            job.link = link(c, c.getDealId(), longValue(deal, "CATEGORY_ID"), text(deal, "STAGE_ID"), dealState(deal, c, null));
            job.outcome = Outcome.CONFLICT_RESOLVED;
            job.reason = "Deal " + c.getDealId() + " of order " + key(c) + " changed in the CRM since the decision ("
                    + describe(c.getExpected(), mismatches) + "); the write was dropped and the link refreshed.";
            done.put(c, finished(job, attempt, false));
            return false;
        }
        applyStage(stage, fields, deal);
        planUpdate(job, deal, fields, c.getProductRows(), Outcome.UPDATED,
                "Deal " + c.getDealId() + " of order " + key(c) + " updated: " + fields.keySet() + ".");
        explainStage(job, stage, deal);
        return true;
    }

    /**
     * The pair decision on the stage, when the command would change it within the deal's pipeline: the deal as read
     * (stage, DATE_MODIFY), the order as the command carries it (status, dateUpdate) and, for an UPDATE, the link it
     * was decided against. Empty when the command leaves the stage alone or moves the deal to another pipeline.
     */
    private static Optional<PairDecision.Verdict> decideStage(DealCommand c, JsonNode deal, Map<String, String> fields,
                                                              boolean linked) {
        String desired = fields.get(DealFields.STAGE_ID);
        String status = c.getExpected().get(DealFields.ORDER_STATUS);
        String dealStage = text(deal, "STAGE_ID");
        long pipeline = longValue(deal, "CATEGORY_ID");
        String category = fields.get(DealFields.CATEGORY_ID);
        if (desired == null || status == null || dealStage == null
                || (category != null && Long.parseLong(category) != pipeline)) {
            return Optional.empty();
        }
        String agreedStage = c.getExpected().get(DealFields.STAGE_ID);
        PairDecision.Agreed agreed;
        if (!linked) {
            agreed = new PairDecision.Agreed(dealStage, null);  // a deal of our own found by a CREATE: see planWrites
        } else {
            agreed = agreedStage != null ? new PairDecision.Agreed(agreedStage, c.getExpected().get(DealFields.AGREED_STATUS)) : null;
        }
        return Optional.of(PairDecision.UNDER_MAPPING.decide(new CommandedStage(pipeline, status, desired),
                new PairDecision.DealState(pipeline, dealStage, modifiedAt(deal)),
                new PairDecision.OrderState(status, c.getSourceTime()), agreed));
    }

    /** Keeps the stage write only when the deal is the side to write; else the deal's stage stands. */
    private static void applyStage(Optional<PairDecision.Verdict> stage, Map<String, String> fields, JsonNode deal) {
        stage.ifPresent(verdict -> {
            if (verdict.writes(PairDecision.Side.DEAL)) {
                fields.put(DealFields.STAGE_ID, verdict.value());
            } else {
                fields.remove(DealFields.STAGE_ID);
                if (!fields.containsKey(DealFields.CATEGORY_ID) || fields.get(DealFields.CATEGORY_ID)
                        .equals(Long.toString(longValue(deal, "CATEGORY_ID")))) {
                    fields.remove(DealFields.CATEGORY_ID);
                }
            }
        });
    }

    /** Says why a stage was not written when the deal's later change won. */
    private static void explainStage(Job job, Optional<PairDecision.Verdict> stage, JsonNode deal) {
        if (stage.isEmpty() || stage.get().winner() != PairDecision.Side.DEAL) {
            return;
        }
        String kept = "the deal's stage " + text(deal, "STAGE_ID") + " (changed " + text(deal, "DATE_MODIFY")
                + ") is the later change and stands; the order projector brings the order to it";
        job.reason = job.reason + " The order's stage was not written: " + kept + ".";
        if (job.writes.isEmpty()) {
            job.outcome = Outcome.CONFLICT_RESOLVED;
        }
    }

    /** DATE_MODIFY of a deal as read; null when absent or unreadable (then the CRM wins ties, as PairDecision says). */
    private static java.time.Instant modifiedAt(JsonNode deal) {
        String text = text(deal, "DATE_MODIFY");
        if (text == null || text.isEmpty()) {
            return null;
        }
        try {
            return java.time.OffsetDateTime.parse(text).toInstant();
        } catch (java.time.format.DateTimeParseException e) {
            return null;
        }
    }

    private void planUpdate(Job job, JsonNode deal, Map<String, String> fields, List<ProductRow> rows, Outcome outcome,
                            String reason) {
        DealCommand c = job.command;
        long dealId = longValue(deal, "ID");
        long category = longValue(deal, "CATEGORY_ID");
        String stage = text(deal, "STAGE_ID");
        String newCategory = fields.remove(DealFields.CATEGORY_ID);
        if (newCategory != null && Long.parseLong(newCategory) != category) {
            // crm.deal.update ignores CATEGORY_ID: a pipeline change is a move (reference §5.6)
            String newStage = fields.remove(DealFields.STAGE_ID);
            job.writes.add(CrmApi.moveDealCommand(job.key("move"), dealId, Long.parseLong(newCategory), newStage));
            category = Long.parseLong(newCategory);
            stage = newStage;
        } else if (fields.containsKey(DealFields.STAGE_ID)) {
            stage = fields.get(DealFields.STAGE_ID);
        }
        if (!fields.isEmpty()) {
            job.writes.add(BatchCommand.of(job.key("update"), "crm.deal.update", Map.of("id", dealId, "fields", fields,
                    "params", Map.of("REGISTER_SONET_EVENT", "N"))));
        }
        if (rows != null) {
            job.writes.add(CrmApi.setProductRowsCommand(job.key("rows"), dealId, bitrixRows(rows)));
        }
        Map<String, String> state = dealState(deal, c, rows);
        state.putAll(fields);
        if (newCategory != null) {
            state.put(DealFields.CATEGORY_ID, Long.toString(category));
            state.put(DealFields.STAGE_ID, stage);
        }
        job.link = link(c, dealId, category, stage, state);
        job.outcome = job.writes.isEmpty() ? Outcome.UNCHANGED : outcome;
        job.reason = job.writes.isEmpty() ? "Deal " + dealId + " of order " + key(c) + " already had every value." : reason;
    }

    /** The managed values the deal has now, with the product-rows digest of what was or will be written. */
    private static Map<String, String> dealState(JsonNode deal, DealCommand c, List<ProductRow> rowsWritten) {
        Map<String, String> state = new LinkedHashMap<>();
        for (String field : List.of(DealFields.TITLE, DealFields.OPPORTUNITY, DealFields.CURRENCY_ID)) {
            state.put(field, valueOf(deal, field));
        }
        deal.fieldNames().forEachRemaining(name -> {
            if (name.startsWith("UF_CRM_")) {
                state.put(name, valueOf(deal, name));
            }
        });
        String digest = rowsWritten != null ? DealFields.productRowsDigest(rowsWritten)
                : c.getExpected().get(DealFields.PRODUCT_ROWS_DIGEST);
        if (digest != null) {
            state.put(DealFields.PRODUCT_ROWS_DIGEST, digest);
        }
        return state;
    }

    private static void removeUnchanged(Map<String, String> fields, JsonNode deal) {
        fields.entrySet().removeIf(e -> !e.getKey().equals(DealFields.CATEGORY_ID)
                && sameValue(e.getKey(), e.getValue(), valueOf(deal, e.getKey())));
    }

    private SyncLink link(DealCommand c, long dealId, long category, String stage, Map<String, String> fields) {
        Map<String, String> kept = new LinkedHashMap<>(fields);
        kept.remove(DealFields.CATEGORY_ID);
        kept.remove(DealFields.STAGE_ID);
        kept.remove("CONTACT_IDS");
        String status = c.getExpected().get(DealFields.ORDER_STATUS);
        return SyncLink.newBuilder()
                .setSiteId(c.getSiteId())
                .setOrderId(c.getOrderId())
                .setDealId(dealId)
                .setCategoryId(category)
                .setStageId(stage == null ? "" : stage)
                .setStatusId(status == null ? "" : status)
                .setDealFields(kept)
                .setOrigin(LinkOrigin.ORDER)
                .setUpdatedAt(clock.instant())
                .build();
    }

    private DealWrite finished(Job job, int attempt, boolean written) {
        return new DealWrite(job.command, job.outcome, job.reason, job.link, null, attempt, written);
    }

    /** Why a round failed for a command. */
    private record Failure(boolean retryable, String code, String message) {
        static Failure of(BitrixException e) {
            String code = e.errorCode() == null || e.errorCode().isEmpty() ? e.getClass().getSimpleName() : e.errorCode();
            return new Failure(e.retryable(), code, e.getMessage());
        }
    }

    /** The linked deal was deleted in the CRM: permanent for this command. */
    private static final class DealGone extends RuntimeException {
        DealGone(String message) {
            super(message);
        }
    }

    private void failAll(List<Job> jobs, Failure e, int attempt, Map<DealCommand, DealWrite> done,
                         List<DealCommand> retry, Map<DealCommand, Failure> lastError) {
        jobs.forEach(job -> fail(job, e, attempt, done, retry, lastError));
    }

    private void fail(Job job, Failure e, int attempt, Map<DealCommand, DealWrite> done, List<DealCommand> retry,
                      Map<DealCommand, Failure> lastError) {
        if (e.retryable()) {
            lastError.put(job.command, e);
            retry.add(job.command);
        } else {
            done.put(job.command, deadLetter(job.command, attempt, e.code(), e.message()));
        }
    }

    private DealWrite deadLetter(DealCommand c, int attempts, String code, String message) {
        return new DealWrite(c, Outcome.DEAD_LETTERED, "The " + c.getKind() + " of the deal of order " + key(c)
                + " was given up: " + message, null, code, attempts, false);
    }

    // ---- values ----

    private static Map<String, String> sendable(Map<String, String> fields) {
        Map<String, String> sendable = new LinkedHashMap<>();
        fields.forEach((k, v) -> {
            if (!DealFields.isBookkeeping(k)) {
                sendable.put(k, v);
            }
        });
        return sendable;
    }

    private static boolean sameValue(String field, String expected, String actual) {
        if (expected == null || actual == null) {
            return expected == null && actual == null;
        }
        if (field.equals(DealFields.OPPORTUNITY)) {
            try {
                return DealFields.amount(field, expected).equals(DealFields.amount(field, actual));
            } catch (IllegalArgumentException e) {
                return false;
            }
        }
        return expected.equals(actual);
    }

    /** A deal field as text, the way the link keeps it: amounts with two decimals, null and false as "". */
    static String valueOf(JsonNode deal, String field) {
        JsonNode v = deal.get(field);
        if (v == null || v.isNull() || (v.isBoolean() && !v.booleanValue())) {
            return "";
        }
        if (field.equals(DealFields.OPPORTUNITY) && !v.asText().isEmpty()) {
            return DealFields.amount(field, v.asText());
        }
        return v.isValueNode() ? v.asText() : v.toString();
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static long longValue(JsonNode node, String field) {
        String t = text(node, field);
        return t == null || t.isEmpty() ? 0L : Long.parseLong(t);
    }

    private static List<JsonNode> elements(JsonNode node) {
        List<JsonNode> list = new ArrayList<>();
        if (node != null && node.isArray()) {
            node.forEach(list::add);
        }
        return list;
    }

    /** The first contact id of a findbycomm result; {@code []} (no match) or a failed look-up mean none. */
    private static Optional<Long> firstContact(BatchResult reads, String key) {
        if (!reads.succeeded(key)) {
            return Optional.empty();
        }
        JsonNode contacts = reads.result(key).get("CONTACT");
        if (contacts == null || !contacts.isArray() || contacts.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(contacts.get(0).asLong());
    }

    /** The owner of a contact read in the batch; absent when the contact was not found (its get failed). */
    private static Optional<Long> owner(BatchResult reads, String key) {
        if (!reads.succeeded(key)) {
            return Optional.empty();
        }
        String owner = text(reads.result(key), "ASSIGNED_BY_ID");
        return owner == null || owner.isEmpty() || owner.equals("0") ? Optional.empty() : Optional.of(Long.parseLong(owner));
    }

    private static boolean hasContactData(Buyer buyer) {
        return buyer != null && (notBlank(buyer.getEmail()) || notBlank(buyer.getPhone()) || notBlank(buyer.getName()));
    }

    private static boolean notBlank(String s) {
        return s != null && !s.isBlank();
    }

    private static Map<String, Object> contactFields(Buyer buyer, Object responsible) {
        Map<String, Object> fields = new LinkedHashMap<>();
        if (notBlank(buyer.getName())) {
            fields.put("NAME", buyer.getName());
        }
        if (notBlank(buyer.getEmail())) {
            fields.put("EMAIL", List.of(Map.of("VALUE", buyer.getEmail(), "VALUE_TYPE", "WORK")));
        }
        if (notBlank(buyer.getPhone())) {
            fields.put("PHONE", List.of(Map.of("VALUE", buyer.getPhone(), "VALUE_TYPE", "MOBILE")));
        }
        if (responsible != null) {
            fields.put("ASSIGNED_BY_ID", responsible);
        }
        return fields;
    }

    private static List<org.dealbridge.bitrix.crm.ProductRow> bitrixRows(List<ProductRow> rows) {
        List<org.dealbridge.bitrix.crm.ProductRow> converted = new ArrayList<>(rows.size());
        for (ProductRow row : rows) {
            converted.add(org.dealbridge.bitrix.crm.ProductRow.of(row.getProductId() == null ? 0 : row.getProductId(),
                    row.getName(), new java.math.BigDecimal(row.getPrice()), new java.math.BigDecimal(row.getQuantity())));
        }
        return converted;
    }

    private static String describe(Map<String, String> expected, Map<String, String> actual) {
        List<String> parts = new ArrayList<>();
        actual.forEach((field, value) -> parts.add(field + " expected " + expected.get(field) + " but is " + value));
        return String.join(", ", parts);
    }

    private static String key(DealCommand c) {
        return c.getSiteId() + ":" + c.getOrderId();
    }
}
