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
import org.dealbridge.mapping.Ownership;
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
 *       an UPDATE, {@code crm.deal.get} (and {@code crm.deal.productrows.get} when it carries rows), to decide against
 *       the deal as it is;</li>
 *   <li><b>write</b>: {@code crm.contact.add} when no contact was found, {@code crm.deal.add} only when no deal was
 *       found, {@code crm.item.update} for a pipeline change, {@code crm.deal.update} for the other fields,
 *       {@code crm.deal.productrows.set}.</li>
 * </ol>
 * A command whose round failed transiently (timeout, dropped connection, 5xx, rate refusal) is retried from the
 * read step, so an add whose answer was lost is looked up before it is ever sent again. Rounds are retried with
 * exponential backoff and jitter up to {@code crm.max-attempts}; then, and at once for permanent errors, the
 * command is dead-lettered. A deal deleted in the CRM is not an error: the order is unlinked
 * ({@link Outcome#DEAL_DELETED}).
 *
 * <p>What is written on a deal that exists is {@link DealUpdatePlan}'s decision: each field with
 * {@code Ownership} against the freshest link (a value a person set stands, {@link Outcome#MANAGER_VALUE_KEPT}), the
 * stage with {@link PairDecision} in the pipeline the deal is really in — the code the order projector decides with,
 * so a pair is never pulled two ways. A CREATE that finds its deal decides against what the deal says of itself: a
 * {@code MODIFY_BY_ID}/{@code MOVED_BY_ID} other than the webhook's user is a person's change.
 *
 * <p>All calls go through one {@link BitrixClient}, so they share the portal's rate budget.
 */
public final class DealWriter {

    private static final Logger log = LoggerFactory.getLogger(DealWriter.class);
    private static final List<String> DEAL_SELECT = List.of("ID", "TITLE", "CATEGORY_ID", "STAGE_ID", "OPPORTUNITY",
            "IS_MANUAL_OPPORTUNITY", "CURRENCY_ID", "ASSIGNED_BY_ID", "DATE_MODIFY", "MODIFY_BY_ID", "MOVED_BY_ID", "UF_*");

    private final BitrixClient client;
    private final int batchSize;
    private final int maxAttempts;
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private final Clock clock;
    private final Sleeper sleeper;
    /** The webhook's user: DealBridge's own changes carry this id in MODIFY_BY_ID/MOVED_BY_ID. */
    private final String webhookUser;

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
        this.webhookUser = client.config().webhook().userId();
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
        boolean reconcile;

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
            if (c.getProductRows() != null) {
                // rows are written only over rows DealBridge set, so the deal's current rows are read first
                job.reads.add(BatchCommand.of(job.key("rowsNow"), "crm.deal.productrows.get", Map.of("id", c.getDealId())));
            }
        }
    }

    private static BatchCommand findContact(String key, String type, String value) {
        return BatchCommand.of(key, "crm.duplicate.findbycomm", Map.of("type", type, "values", List.of(value),
                "entity_type", "CONTACT"));
    }

    /** One round: every job's reads (as few batch calls as fit), then every job's writes. */
    private void runRound(List<Job> jobs, int attempt, Map<DealCommand, DealWrite> done, List<DealCommand> retry,
                          Map<DealCommand, Failure> lastError) {
        List<Job> round = new ArrayList<>();
        for (Job job : jobs) {
            SyncLink decidedOn = job.command.getDecidedOn();
            if (job.command.getKind() == DealCommandKind.UPDATE && decidedOn != null && decidedOn.getDealDeletedAt() != null) {
                // the deal is known to be gone: nothing to read or write (see FreshestLink)
                job.link = decidedOn;
                job.outcome = Outcome.DEAL_DELETED;
                job.reason = "Deal " + decidedOn.getDealId() + " of order " + key(job.command) + " was deleted in the CRM ("
                        + decidedOn.getDealDeletedAt() + "); nothing is written.";
                done.put(job.command, finished(job, attempt, false));
            } else {
                round.add(job);
            }
        }
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
     * finished, e.g. the deal is gone).
     */
    private boolean planWrites(Job job, BatchResult reads, int attempt, Map<DealCommand, DealWrite> done) {
        DealCommand c = job.command;
        if (c.getKind() == DealCommandKind.CREATE) {
            List<JsonNode> found = elements(reads.result(job.key("find")));
            if (!found.isEmpty()) {
                // the deal exists (an earlier add went through, or a replay): decide against it as it is
                if (found.size() > 1) {
                    log.warn("Order {} has {} deals with ORIGINATOR_ID {}; writing the oldest, {}", key(c), found.size(),
                            c.getOriginatorId(), text(found.get(0), "ID"));
                }
                JsonNode deal = found.get(0);
                planLinkedUpdate(job, deal, foundOnCreate(c, deal), null);
                if (job.outcome == Outcome.UPDATED) {
                    job.reason = "Deal " + text(deal, "ID") + " already existed for order " + key(c) + "; " + job.reason;
                }
                return true;
            }
            Map<String, Object> fields = new LinkedHashMap<>(sendable(c.getFields()));
            fields.put(DealFields.CATEGORY_ID, DealUpdatePlan.pickedPipeline(c));  // the latest order's, when folded
            fields.put(DealFields.STAGE_ID, DealUpdatePlan.newDealStage(c));
            c.getOrderValues().forEach((field, value) -> {
                if (fields.containsKey(field) && !field.equals(Ownership.PIPELINE)) {
                    fields.put(field, value);
                }
            });
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
            Map<String, String> written = new LinkedHashMap<>();
            fields.forEach((k, v) -> {
                if (v instanceof String text && (c.getOrderValues().containsKey(k) || k.equals(DealFields.ASSIGNED_BY_ID))) {
                    written.put(k, text);
                }
            });
            written.put(DealFields.PRODUCT_ROWS_DIGEST, DealFields.productRowsDigest(rows));
            job.link = DealUpdatePlan.created(c, written, clock.instant());
            job.outcome = Outcome.CREATED;
            return true;
        }

        JsonNode deal;
        try {
            deal = reads.result(job.key("get"));
        } catch (BitrixException.NotFound e) {
            // a deletion is a person's decision, not an error: the order is unlinked (deals.onDeleted decides what next)
            SyncLink was = c.getDecidedOn() != null ? c.getDecidedOn() : SyncLink.newBuilder()
                    .setSiteId(c.getSiteId()).setOrderId(c.getOrderId()).setDealId(c.getDealId()).setCategoryId(0)
                    .setStageId("").setStatusId(c.getOrderStatusId() == null ? "" : c.getOrderStatusId())
                    .setUpdatedAt(clock.instant()).build();
            job.link = SyncLink.newBuilder(was).setDealDeletedAt(clock.instant()).setUpdatedAt(clock.instant()).build();
            job.outcome = Outcome.DEAL_DELETED;
            job.reason = "Deal " + c.getDealId() + " of order " + key(c) + " no longer exists in the CRM (" + e.description()
                    + "): the order is unlinked and nothing is written.";
            done.put(c, finished(job, attempt, false));
            return false;
        }
        JsonNode rowsNow = null;
        if (c.getProductRows() != null && reads.succeeded(job.key("rowsNow"))) {
            rowsNow = reads.result(job.key("rowsNow"));
        }
        planLinkedUpdate(job, deal, c.getDecidedOn(), rowsNow);
        return true;
    }

    /**
     * What a CREATE that finds its deal decides against, in place of the link it has not got. Whether a person has
     * touched the deal since DealBridge added it is read from the deal itself: DealBridge writes as the webhook's user,
     * so a {@code MODIFY_BY_ID}/{@code MOVED_BY_ID} of anybody else is a person's change. Untouched, the deal's values
     * are DealBridge's own and the order's are written; touched, the person's values stand (the stage by
     * {@link PairDecision}: nothing agreed, so the later change wins).
     */
    private SyncLink foundOnCreate(DealCommand c, JsonNode deal) {
        boolean edited = byPerson(deal, "MODIFY_BY_ID");
        boolean moved = byPerson(deal, "MOVED_BY_ID");
        Map<String, String> written = new LinkedHashMap<>();
        if (edited) {
            // what DealBridge's add carried: the order's values, which a person has since changed or not
            c.getOrderValues().forEach((field, value) -> {
                if (!field.equals(Ownership.PIPELINE)) {
                    written.put(field, value);
                }
            });
            written.put(Ownership.PIPELINE, c.getFields().getOrDefault(DealFields.CATEGORY_ID, text(deal, "CATEGORY_ID")));
        } else {
            c.getOrderValues().keySet().forEach(field -> {
                if (!field.equals(Ownership.PIPELINE) && !DealFields.isBookkeeping(field)) {
                    written.put(field, valueOf(deal, field));
                }
            });
            written.put(Ownership.PIPELINE, text(deal, "CATEGORY_ID"));
        }
        return SyncLink.newBuilder()
                .setSiteId(c.getSiteId())
                .setOrderId(c.getOrderId())
                .setDealId(longValue(deal, "ID"))
                .setCategoryId(longValue(deal, "CATEGORY_ID"))
                .setStageId(moved ? "" : text(deal, "STAGE_ID"))
                .setStatusId("")
                .setDealFields(written)
                .setOrderValues(edited ? written : Map.of())
                .setOrigin(LinkOrigin.ORDER)
                .setUpdatedAt(java.time.Instant.EPOCH)
                .build();
    }

    /** True when the deal's last change of this kind was made by somebody other than DealBridge's webhook user. */
    private boolean byPerson(JsonNode deal, String field) {
        String by = text(deal, field);
        return by != null && !by.isEmpty() && !by.equals("0") && !by.equals(webhookUser);
    }

    /** The writes of a linked deal as read ({@link DealUpdatePlan}), as batch sub-commands, with the link and outcome. */
    private void planLinkedUpdate(Job job, JsonNode deal, SyncLink link, JsonNode rowsNow) {
        DealCommand c = job.command;
        long dealId = longValue(deal, "ID");
        Map<String, String> values = new LinkedHashMap<>();
        c.getOrderValues().keySet().forEach(field -> values.put(field, valueOf(deal, field)));
        DealUpdatePlan.DealState state = new DealUpdatePlan.DealState(longValue(deal, "CATEGORY_ID"), text(deal, "STAGE_ID"),
                modifiedAt(deal), text(deal, "DATE_MODIFY"), values, !"N".equals(text(deal, DealFields.IS_MANUAL_OPPORTUNITY)),
                rowsNow == null ? null : productRows(rowsNow));
        DealUpdatePlan.Plan plan = DealUpdatePlan.plan(c, link, state, DealWriter::sameValue);
        Map<String, String> write = new LinkedHashMap<>(plan.fields());
        if (plan.moveTo() != null) {
            job.writes.add(CrmApi.moveDealCommand(job.key("move"), dealId, plan.moveTo(), plan.stage()));  // reference §5.6
        } else if (plan.stage() != null) {
            write.put(DealFields.STAGE_ID, plan.stage());
        }
        if (!write.isEmpty()) {
            job.writes.add(BatchCommand.of(job.key("update"), "crm.deal.update", Map.of("id", dealId, "fields", write,
                    "params", Map.of("REGISTER_SONET_EVENT", "N"))));
        }
        if (plan.rows() != null) {
            job.writes.add(CrmApi.setProductRowsCommand(job.key("rows"), dealId, bitrixRows(plan.rows())));
        }
        job.link = plan.link(c, link, dealId, state, clock.instant());
        job.reconcile = plan.dealWon();
        List<String> changed = new ArrayList<>();
        if (plan.moveTo() != null) {
            changed.add(DealFields.CATEGORY_ID);
        }
        changed.addAll(write.keySet());
        if (plan.rows() != null) {
            changed.add("product rows");
        }
        StringBuilder reason = new StringBuilder("Deal " + dealId + " of order " + key(c));
        if (c.getOrderDeleted()) {
            job.outcome = Outcome.ORDER_DELETED;
            job.reason = reason.append(": ").append(plan.notes().get(0)).append('.').toString();
            return;
        }
        if (plan.writes()) {
            job.outcome = Outcome.UPDATED;
            reason.append(" updated: ").append(changed).append('.');
        } else if (!plan.kept().isEmpty()) {
            job.outcome = Outcome.MANAGER_VALUE_KEPT;
            reason.append(": nothing written.");
        } else {
            job.outcome = plan.dealWon() ? Outcome.CONFLICT_RESOLVED : Outcome.UNCHANGED;
            reason.append(" already had every value.");
        }
        if (!plan.kept().isEmpty()) {
            reason.append(" A person's values stand: ").append(String.join(", ", plan.kept())).append('.');
        }
        if (!plan.notes().isEmpty()) {
            reason.append(" The order's stage was not written: ").append(String.join("; ", plan.notes())).append('.');
        }
        job.reason = reason.toString();
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

    /** The rows of a {@code crm.deal.productrows.get} answer, in the form the digest reads (no product: null). */
    private static List<ProductRow> productRows(JsonNode rows) {
        List<ProductRow> list = new ArrayList<>();
        for (JsonNode row : elements(rows)) {
            long product = longValue(row, "PRODUCT_ID");
            list.add(ProductRow.newBuilder()
                    .setProductId(product == 0 ? null : product)
                    .setName(text(row, "PRODUCT_NAME") == null ? "" : text(row, "PRODUCT_NAME"))
                    .setPrice(text(row, "PRICE") == null ? "0" : text(row, "PRICE"))
                    .setQuantity(text(row, "QUANTITY") == null ? "0" : text(row, "QUANTITY"))
                    .build());
        }
        return list;
    }

    private DealWrite finished(Job job, int attempt, boolean written) {
        return new DealWrite(job.command, job.outcome, job.reason, job.link, null, attempt, written, job.reconcile);
    }

    /** Why a round failed for a command. */
    private record Failure(boolean retryable, String code, String message) {
        static Failure of(BitrixException e) {
            String code = e.errorCode() == null || e.errorCode().isEmpty() ? e.getClass().getSimpleName() : e.errorCode();
            return new Failure(e.retryable(), code, e.getMessage());
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

    private static String key(DealCommand c) {
        return c.getSiteId() + ":" + c.getOrderId();
    }
}
