package org.dealbridge.orderprojector.store;

import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.dealbridge.bitrix.BitrixException;
import com.fasterxml.jackson.databind.JsonNode;
import org.dealbridge.bitrix.crm.Contact;
import org.dealbridge.bitrix.crm.CrmApi;
import org.dealbridge.bitrix.crm.Deal;
import org.dealbridge.bitrix.store.BasketItem;
import org.dealbridge.bitrix.store.OrderDetails;
import org.dealbridge.bitrix.store.PaySystem;
import org.dealbridge.bitrix.store.SaleOrder;
import org.dealbridge.bitrix.store.StoreApi;
import org.dealbridge.mapping.CompiledMapping;
import org.dealbridge.mapping.DealValues;
import org.dealbridge.mapping.LinkRevision;
import org.dealbridge.mapping.OrderFromDeal;
import org.dealbridge.mapping.Ownership;
import org.dealbridge.orderprojector.OrderProjectorConfig;
import org.dealbridge.mapping.PairDecision;
import org.dealbridge.retry.RetryPolicy;
import org.dealbridge.schemas.LinkOrigin;
import org.dealbridge.schemas.OrderCommand;
import org.dealbridge.schemas.OrderCommandKind;
import org.dealbridge.schemas.Outcome;
import org.dealbridge.schemas.ProductRow;
import org.dealbridge.schemas.SyncLink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Executes one order command against the store, reading both sides first.
 *
 * <ul>
 *   <li>{@code UPDATE_STATUS} (and {@code RECONCILE}, which the CRM connector sends when a deal's later stage change
 *       stands against its order): reads the deal ({@code crm.deal.get}) and the order ({@code sale.order.get}) and decides
 *       the pair again on that fresh state ({@link StatusUpdatePlan}) and writes the loser on that state: usually the
 *       order ({@code sale.order.update}); the deal's stage ({@code crm.deal.update}) when the order changed later.
 *       A command decided against a status the order no longer has is never applied blindly.</li>
 *   <li>{@code CREATE}: looks the order up by {@code xmlId = dealbridge-deal:{dealId}} first — on every attempt, so
 *       a retry after a failure that may have been applied finds the order instead of adding a second one — then
 *       {@code sale.order.add}, one {@code sale.basketitem.add} per deal row (its catalog product, or a custom line
 *       without one, at the deal's price, so the order's total is the deal's) and {@code sale.payment.add}. A found
 *       order gets only what it lacks: the rows its basket has no line for (same product, quantity and price; name
 *       for a custom line — lines added by hand are left alone) and a payment when it has none. The pay system is the
 *       deal's value ({@code paySystemValue}) when it names an active pay system of the store
 *       ({@code sale.paysystem.list}, cached), else {@code payment.default} ({@code paySystemId}); the outcome's
 *       reason says which and why.</li>
 * </ul>
 * Transient failures (5xx, timeouts) are retried from the command's look-ups by one {@link RetryPolicy}: at most
 * {@code store.max-attempts} attempts, waiting at most {@code store.max-backoff} between two; below it the clients
 * retry only what the portal surely did not run (rate refusals, requests never sent). Out of attempts the result is
 * {@link OrderWrite#unreachable()}: the connector waits and runs the command again; anything else is a dead letter.
 */
public final class OrderWriter {

    /** Prefix of the xmlId of orders made from deals; the deal projector recognises the same one. */
    public static final String XML_ID_PREFIX = OrderFromDeal.XML_ID_PREFIX;

    private static final Logger log = LoggerFactory.getLogger(OrderWriter.class);

    private final OrderProjectorConfig config;
    /** The command layer's retries: store.max-attempts attempts, waits of store.initial-backoff doubling to store.max-backoff. */
    private final RetryPolicy retry;
    private final RetryPolicy.Sleeper sleeper;
    private final StoreApi store;
    private final CrmApi crm;
    /** The webhook's user: a stage DealBridge wrote carries this id in {@code MOVED_BY_ID}. */
    private final String webhookUser;
    private final PairDecision rules;
    private final Clock clock;
    /** The store's pay systems rarely change: the list is kept, and re-read when older than this or on a miss. */
    static final Duration PAY_SYSTEMS_MAX_AGE = Duration.ofMinutes(10);
    private volatile Map<Long, PaySystem> paySystemCache = Map.of();
    private volatile Instant paySystemsReadAt;

    public OrderWriter(OrderProjectorConfig config, StoreApi store, CrmApi crm, PairDecision rules, Clock clock) {
        this(config, store, crm, rules, clock, RetryPolicy.Sleeper.THREAD);
    }

    /** @param sleeper how to wait between attempts (tests record the waits instead) */
    public OrderWriter(OrderProjectorConfig config, StoreApi store, CrmApi crm, PairDecision rules, Clock clock,
                       RetryPolicy.Sleeper sleeper) {
        this.config = config;
        this.retry = new RetryPolicy(config.maxAttempts(), config.initialBackoff(), config.maxBackoff());
        this.sleeper = sleeper;
        // an attempt starts again from its look-ups, so the clients retry only what surely did not run
        this.store = new StoreApi(store.client().leavingFailuresToCaller());
        this.crm = new CrmApi(crm.client().leavingFailuresToCaller());
        this.webhookUser = crm.client().config().webhook().userId();
        this.rules = rules;
        this.clock = clock;
    }

    public static String xmlId(long dealId) {
        return OrderFromDeal.xmlId(dealId);
    }

    /**
     * @param mapping the mapping of the command's site in force now, or null when none is
     * @param link    the pair's link as the links topic holds it now, or null
     */
    public OrderWrite write(OrderCommand command, CompiledMapping mapping, SyncLink link) throws InterruptedException {
        int attempt = 0;
        boolean[] paySystemsReread = {false};
        while (true) {
            attempt++;
            try {
                return command.getKind() == OrderCommandKind.CREATE
                        ? create(command, mapping, link, attempt, paySystemsReread)
                        : updateStatus(command, mapping, link, attempt);
            } catch (IllegalArgumentException e) {
                return new OrderWrite(command, Outcome.DEAD_LETTERED, "Order command " + command.getCommandId() + " for deal "
                        + command.getDealId() + " cannot be executed: " + e.getMessage(), null, false,
                        IllegalArgumentException.class.getSimpleName(), attempt);
            } catch (BitrixException e) {
                String code = e.errorCode().isEmpty() ? e.getClass().getSimpleName() : e.errorCode();
                if (!e.retryable()) {
                    return new OrderWrite(command, Outcome.DEAD_LETTERED, "Order command " + command.getCommandId() + " for deal "
                            + command.getDealId() + " permanent failure: " + e.getMessage(), null, false, code, attempt);
                }
                if (!retry.mayRetryAfter(attempt)) {
                    // the side is unreachable, not the command wrong: the connector waits and runs it again
                    return new OrderWrite(command, Outcome.OTHER, "Order command " + command.getCommandId() + " for deal "
                            + command.getDealId() + " waits: unreachable after " + attempt + " attempts: " + e.getMessage(), null,
                            false, code, attempt, true);
                }
                Duration wait = retry.delayAfter(attempt);
                log.info("Order command for deal {} failed transiently (attempt {} of {}), retrying in {} ms: {}",
                        command.getDealId(), attempt, retry.maxAttempts(), wait.toMillis(), e.getMessage());
                sleeper.sleep(wait);
            }
        }
    }


    /**
     * How often a status command decides again when the deal's stage it wrote did not stick: the deal moved between the
     * read and the write (to another pipeline, whose stages {@code crm.deal.update} silently ignores, reference §5.6 and
     * §13 pitfall 2, or to another stage). Each round reads both sides afresh; past the last, nothing is recorded and the
     * next change of the moving deal decides again.
     */
    static final int STAGE_WRITE_ROUNDS = 3;

    private OrderWrite updateStatus(OrderCommand c, CompiledMapping mapping, SyncLink link, int attempt) {
        return updateStatus(c, mapping, link, attempt, 1);
    }

    private OrderWrite updateStatus(OrderCommand c, CompiledMapping mapping, SyncLink link, int attempt, int round) {
        if (mapping == null) {
            return skipped(c, Outcome.SKIPPED_NO_MAPPING, "No mapping is published for site " + c.getSiteId()
                    + " any more; order " + c.getOrderId() + " is not written.", attempt);
        }
        Optional<Deal> deal = crm.getDeal(c.getDealId());
        if (deal.isEmpty()) {
            return skipped(c, Outcome.OTHER, "Deal " + c.getDealId() + " no longer exists; order " + c.getOrderId() + " is left as it is.", attempt);
        }
        Optional<OrderDetails> details = store.order(c.getOrderId());
        Deal d = deal.get();
        if (details.isEmpty()) {
            return orderDeleted(c, mapping, link, d, attempt);
        }
        SaleOrder order = details.get().order();
        // a RECONCILE is a conflict the CRM connector could not age: without a link here (ours lags) nothing is taken as
        // agreed, so the later change decides, never the status the command happened to carry. A stage our own user set
        // that our link does not show yet is DealBridge's echo of an earlier status, never the deal's later change
        // (CrashLoopTest seed 37034695896898: the shop's F was reverted to the P DealBridge had just written)
        PairDecision.Agreed agreed = link != null
                ? Ownership.agreed(link, d.categoryId(), d.stageId(), d.stageSetBy(webhookUser), d.stageSetByAnotherThan(webhookUser), mapping)
                : c.getKind() == OrderCommandKind.RECONCILE ? null : new PairDecision.Agreed(null, text(c.getExpectedStatusId()));
        // both portals' times at one moment, each by its own clock: which change is later is told without comparing
        // the CRM's clock with the store's (PairDecision.laterChange)
        Instant crmNow = crm.client().portalNow().orElse(null);
        Instant storeNow = store.client().portalNow().orElse(null);
        StatusUpdatePlan.Plan plan = StatusUpdatePlan.plan(rules, mapping,
                new PairDecision.DealState(d.categoryId(), d.stageId(), instant(d.dateModify()), crmNow),
                new PairDecision.OrderState(order.statusId(), instant(order.dateUpdate()), storeNow),
                agreed, text(c.getExpectedStatusId()));
        String pair = "order " + c.getSiteId() + ":" + c.getOrderId() + " / deal " + c.getDealId() + ": ";
        if (!plan.writes()) {
            SyncLink agreedNow = plan.outcome() == Outcome.ECHO_SUPPRESSED ? link(c, link, d, order.statusId(), order.version()) : null;
            return new OrderWrite(c, plan.outcome(), pair + plan.reason(), agreedNow, false, null, attempt);
        }
        // the read-back above is the check of the expected value (no blind overwrite)
        if (plan.writesDeal()) {
            // a link recording a stage the CRM ignored made DealBridge's own move read as the deal's later change
            // (CrashLoopBenchmark seed 70843509061136, order 212)
            Deal moved = writeStage(c.getDealId(), plan.value()).orElse(null);
            if (moved == null || !plan.value().equals(moved.stageId())) {
                String now = moved == null ? "is gone" : "is at stage " + moved.stageId() + " of pipeline " + moved.categoryId();
                if (round < STAGE_WRITE_ROUNDS) {
                    log.info("{}stage {} did not stick (the deal {} after the write); deciding again", pair, plan.value(), now);
                    return updateStatus(c, mapping, link, attempt, round + 1);
                }
                return new OrderWrite(c, Outcome.OTHER, pair + "the deal moved while being written " + STAGE_WRITE_ROUNDS
                        + " times (stage " + plan.value() + " did not stick; the deal " + now
                        + "); nothing is recorded, and the deal's next change decides again.", null, true, null, attempt);
            }
            SyncLink written = link(c, link, moved, order.statusId(), order.version());
            written.setDealFields(Ownership.afterWriting(link, Map.of(Ownership.STAGE, plan.value())));  // see Ownership.agreed
            return new OrderWrite(c, plan.outcome(), pair + plan.reason(), written, true, null, attempt);
        }
        SaleOrder updated = store.updateOrder(c.getOrderId(), Map.of("statusId", plan.value()));
        // the save of this write (sale.order.update answers the order): a deal command of it or an older save carries a
        // status this write replaced (Ownership.orderSaveSeen)
        Long saved = updated.version() != null ? updated.version() : order.version();
        return new OrderWrite(c, plan.outcome(), pair + plan.reason(), link(c, link, d, plan.value(), saved), true, null, attempt);
    }

    /**
     * The order was deleted in the store: recorded on the link, never a dead letter. The deal is left alone unless the
     * mapping names a cancelled stage for its pipeline ({@code cancelled}), where it then goes.
     */
    private OrderWrite orderDeleted(OrderCommand c, CompiledMapping mapping, SyncLink link, Deal deal, int attempt) {
        String pair = "Order " + c.getSiteId() + ":" + c.getOrderId() + " no longer exists in the store";
        Deal now = deal;
        String moved = null;
        boolean written = false;
        // the cancelled stage of the pipeline the deal is in; one it has just left is ignored (writeStage), so again
        for (int round = 1; round <= STAGE_WRITE_ROUNDS && moved == null; round++) {
            Optional<String> cancelled = PairDecision.stageForDeletedOrder(mapping::cancelledStage, now.categoryId(), now.stageId());
            if (cancelled.isEmpty()) {
                break;
            }
            written = true;
            Optional<Deal> after = writeStage(c.getDealId(), cancelled.get());
            if (after.isEmpty()) {
                return skipped(c, Outcome.OTHER, "Deal " + c.getDealId() + " no longer exists; order " + c.getOrderId()
                        + " was deleted in the store too.", attempt);
            }
            now = after.get();
            moved = cancelled.get().equals(now.stageId()) ? cancelled.get() : null;
        }
        SyncLink recorded = link == null ? null : SyncLink.newBuilder(link)
                .setOrderDeletedAt(clock.instant())
                .setCategoryId(now.categoryId())
                .setStageId(now.stageId())
                .setRevision(LinkRevision.after(link))
                .setUpdatedAt(clock.instant())
                .build();
        String what = moved != null ? "; deal " + c.getDealId() + " goes to the cancelled stage " + moved + " of pipeline "
                + now.categoryId() + " (mapping cancelled)."
                : written ? "; deal " + c.getDealId() + " kept moving while its cancelled stage was written, and is left at stage "
                + now.stageId() + " of pipeline " + now.categoryId() + "."
                : "; deal " + c.getDealId() + " is left as it is.";
        return new OrderWrite(c, Outcome.ORDER_DELETED, pair + what, recorded, written, null, attempt);
    }

    /**
     * Writes a deal's stage and reads the deal back, as the reference says to (§13 pitfall 2): {@code crm.deal.update}
     * answers {@code true} to a stage of a pipeline the deal has just left and changes nothing. Every stage the store
     * connector writes goes through here, and what it records is the deal as read after. Empty when the deal is gone.
     */
    private Optional<Deal> writeStage(long dealId, String stage) {
        crm.updateDeal(dealId, Map.of("STAGE_ID", stage));
        return crm.getDeal(dealId);
    }

    private OrderWrite create(OrderCommand c, CompiledMapping mapping, SyncLink link, int attempt, boolean[] paySystemsReread) {
        if (link != null) {
            if (mapping != null && !c.getStatusId().toString().equals(text(link.getStatusId()))) {
                // decided on a later stage of the deal before the link was known (a manager moved the deal while its
                // order was being made): that stage must reach the order, so the pair is decided again as a RECONCILE
                return updateStatus(reconcile(c, link.getOrderId()), mapping, link, attempt);
            }
            return skipped(c, Outcome.UNCHANGED, "Deal " + c.getDealId() + " is already linked to order " + link.getSiteId() + ":"
                    + link.getOrderId() + "; no order is added.", attempt);
        }
        BigDecimal total = total(c.getItems());  // every row is checked before anything is written
        String currency = c.getCurrency() == null ? "RUB" : c.getCurrency();
        String xmlId = xmlId(c.getDealId());
        List<SaleOrder> found = store.findOrdersByXmlId(xmlId);
        SaleOrder order;
        boolean added = false;
        PayChoice pay = null;
        if (!found.isEmpty()) {
            order = found.get(0);
        } else {
            Optional<Deal> deal = crm.getDeal(c.getDealId());
            if (deal.isEmpty()) {
                return skipped(c, Outcome.OTHER, "Deal " + c.getDealId() + " no longer exists; no order is added.", attempt);
            }
            // before the add, so bad input leaves no half-made order: a product or payment.default the store lacks
            requireCatalogProducts(c.getDealId(), c.getItems());
            pay = paySystem(c, paySystemsReread);
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("lid", c.getSiteId());
            fields.put("personTypeId", config.personTypeId());
            fields.put("currency", currency);
            fields.put("statusId", c.getStatusId());
            fields.put("xmlId", xmlId);
            // the basket lines below make the price; the rows' total up front keeps the order's first save (and its
            // ONSALEORDERSAVED) from showing a price of 0
            fields.put("price", total.toPlainString());
            fields.put("comments", "Made by DealBridge from CRM deal " + c.getDealId());
            order = store.addOrder(fields);
            added = true;
            writeBuyer(order.id(), deal.get());
        }
        // A retry (after a failure between the add and its lines, or a redelivery after a crash) adds only the rows the
        // basket lacks: never a line twice, never an order left without its lines.
        List<ProductRow> missing = added ? c.getItems() : missingLines(c.getItems(), store.basketItems(order.id()));
        if (!added) {
            requireCatalogProducts(c.getDealId(), missing);
        }
        for (ProductRow row : missing) {
            store.addBasketItem(basketLine(order.id(), currency, row));
        }
        String payment;
        List<org.dealbridge.bitrix.store.Payment> payments = added ? List.of() : store.payments(order.id());
        if (!payments.isEmpty()) {
            payment = "pay system " + payments.get(0).paySystemId() + " (its payment)";
        } else {
            if (pay == null) {
                pay = paySystem(c, paySystemsReread);
            }
            if (pay.id() != null) {
                Map<String, Object> fields = new LinkedHashMap<>();
                fields.put("orderId", order.id());
                fields.put("paySystemId", pay.id());
                fields.put("sum", total.toPlainString());
                store.addPayment(fields);
            }
            payment = pay.reason();
        }
        Deal deal = crm.getDeal(c.getDealId()).orElse(null);
        String status = order.statusId() == null ? c.getStatusId().toString() : order.statusId();
        // The pair agreed on the stage the order's status was made from. A stage the deal has now that does not match is
        // a later change (a manager moved the deal while its order was being made): recorded as agreed, it would read as
        // unchanged, and the order's newer dateUpdate would then move the deal back (found by the launcher crash loop).
        boolean movedSince = deal != null && mapping != null && !mapping.isConsistent(deal.categoryId(), deal.stageId(), status)
                && mapping.stageFor(deal.categoryId(), status).isPresent();
        SyncLink created = SyncLink.newBuilder()
                .setSiteId(c.getSiteId())
                .setOrderId(order.id())
                .setDealId(c.getDealId())
                .setCategoryId(deal == null ? 0 : deal.categoryId())
                .setStageId(deal == null ? "" : movedSince ? mapping.stageFor(deal.categoryId(), status).get() : deal.stageId())
                .setStatusId(status)
                .setOrigin(LinkOrigin.DEAL)
                .setOrderVersion(order.version())
                .setDealFields(handMadeValues(deal))
                .setDealRowsDigest(DealValues.productRowsDigest(c.getItems()))
                .setRevision(LinkRevision.after(null))
                .setUpdatedAt(clock.instant())
                .build();
        boolean completed = !added && (!missing.isEmpty() || payments.isEmpty() && pay != null && pay.id() != null);
        String lines = added ? c.getItems().size() + " basket line(s) totalling " + total.toPlainString() + " " + currency
                : missing.isEmpty() ? "all " + c.getItems().size() + " basket line(s) already there"
                : "added the " + missing.size() + " of " + c.getItems().size() + " basket line(s) it lacked";
        String made = (added ? "Order " : "Order already there: ") + c.getSiteId() + ":" + order.id() + " made from deal "
                + c.getDealId() + " with status " + created.getStatusId() + ", " + lines + ", " + payment + ".";
        Outcome outcome = added ? Outcome.CREATED : completed ? Outcome.UPDATED : Outcome.UNCHANGED;
        if (movedSince) {
            // the deal's later stage is decided against the pair as made, in the same pass
            OrderWrite then = updateStatus(reconcile(c, order.id()), mapping, created, attempt);
            return new OrderWrite(c, outcome, made + " Then: " + then.reason(), then.link() != null ? then.link() : created,
                    added || completed || then.written(), null, attempt);
        }
        return new OrderWrite(c, outcome, made, created, added || completed, null, attempt);
    }

    /** The CREATE of a deal whose order exists, as the RECONCILE that reads both sides and writes the one that lost. */
    private static OrderCommand reconcile(OrderCommand create, long orderId) {
        return OrderCommand.newBuilder(create).setKind(OrderCommandKind.RECONCILE).setOrderId(orderId).setExpectedStatusId(null).build();
    }

    /**
     * Every catalog product of the rows is a product or variation of the store ({@code catalog.product.get}, then
     * {@code catalog.product.offer.get}: the reference does not say whether the former answers for a variation).
     * A deal row's product the store does not have is bad input named in the dead letter, found before anything is
     * written; it is not turned into a custom line, which would lose the row's product on the way back to the deal.
     */
    private void requireCatalogProducts(long dealId, List<ProductRow> rows) {
        java.util.Set<Long> checked = new java.util.HashSet<>();
        for (ProductRow row : rows) {
            Long productId = row.getProductId();
            if (productId == null || productId == 0 || !checked.add(productId)) {
                continue;
            }
            if (store.product(productId).isEmpty() && store.offer(productId).isEmpty()) {
                throw new IllegalArgumentException("deal " + dealId + " has a product row with PRODUCT_ID " + productId + " ("
                        + row.getName() + "), which is no product of the store's catalog");
            }
        }
    }

    /** The pay system chosen for an order made from a deal, and the words saying which and why. */
    record PayChoice(Long id, String reason) {
    }

    /**
     * The deal's pay system ({@code paySystemValue} of {@code paySystemField}) when it is a positive number naming an
     * active pay system of the store, else {@code paySystemId} ({@code payment.default}) — never a dead letter for a
     * manager's value. A {@code payment.default} the store does not have is one (nothing is written before).
     */
    PayChoice paySystem(OrderCommand c, boolean[] reread) {
        Long fallback = c.getPaySystemId();
        String field = c.getPaySystemField() == null ? "the deal's pay-system field" : c.getPaySystemField();
        String value = c.getPaySystemValue();
        String why;
        if (value == null || value.isBlank()) {
            why = c.getPaySystemField() == null ? "no deal field is mapped from paySystemId" : field + " is empty";
        } else {
            long id = positiveId(value.trim());
            if (id <= 0) {
                why = field + " = \"" + value + "\" is not a pay system id (a positive number)";
            } else {
                PaySystem named = knownPaySystem(id, reread);
                if (named != null && named.active()) {
                    return new PayChoice(id, "pay system " + id + " from " + field);
                }
                why = field + " = \"" + value + "\" " + (named == null ? "names no pay system of the store"
                        : "names pay system " + id + " (" + named.name() + "), which is not active");
            }
        }
        if (fallback == null) {
            return new PayChoice(null, "no payment (no payment.default in the command): " + why);
        }
        PaySystem fallbackSystem = knownPaySystem(fallback, reread);
        if (fallbackSystem == null) {
            throw new IllegalArgumentException("payment.default = " + fallback + " names no pay system of the store (it has "
                    + paySystemCache.keySet() + "), and " + why);
        }
        return new PayChoice(fallback, "pay system " + fallback + " (payment.default): " + why);
    }

    private static long positiveId(String value) {
        if (!value.matches("\\d{1,18}")) {
            return -1;
        }
        return Long.parseLong(value);
    }

    /**
     * A pay system of the store from the cache ({@code sale.paysystem.list}, re-read when older than
     * {@link #PAY_SYSTEMS_MAX_AGE}); a miss re-reads the list at most once per command ({@code reread}).
     */
    private PaySystem knownPaySystem(long id, boolean[] reread) {
        Instant now = clock.instant();
        boolean stale = paySystemsReadAt == null || now.isAfter(paySystemsReadAt.plus(PAY_SYSTEMS_MAX_AGE));
        if (stale || !paySystemCache.containsKey(id) && !reread[0]) {
            reread[0] = true;  // a list read for this command is as fresh as it gets: no second read for it
            Map<Long, PaySystem> fresh = new LinkedHashMap<>();
            store.paySystems().forEach(ps -> fresh.put(ps.id(), ps));
            paySystemCache = fresh;
            paySystemsReadAt = now;
        }
        return paySystemCache.get(id);
    }

    /** The rows the basket has no line for, matched one to one: same product (0 for none), quantity and price, and name without a product. */
    static List<ProductRow> missingLines(List<ProductRow> rows, List<BasketItem> basket) {
        List<BasketItem> unmatched = new ArrayList<>(basket);
        List<ProductRow> missing = new ArrayList<>();
        for (ProductRow row : rows) {
            long productId = row.getProductId() == null ? 0 : row.getProductId();
            BigDecimal price = new BigDecimal(row.getPrice());
            BigDecimal quantity = new BigDecimal(row.getQuantity());
            BasketItem match = null;
            for (BasketItem line : unmatched) {
                if (line.productId() == productId && line.price() != null && line.price().compareTo(price) == 0
                        && line.quantity() != null && line.quantity().compareTo(quantity) == 0
                        && (productId != 0 || row.getName().equals(line.name()))) {
                    match = line;
                    break;
                }
            }
            if (match == null) {
                missing.add(row);
            } else {
                unmatched.remove(match);
            }
        }
        return missing;
    }

    /**
     * One basket line from a deal row: its catalog product (or none: productId 0, a custom line), its quantity, and
     * the deal's price as a custom price ({@code customPrice: "Y"}, no discount), so the order's total is the deal's.
     */
    private static Map<String, Object> basketLine(long orderId, String currency, ProductRow row) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("orderId", orderId);
        line.put("productId", row.getProductId() == null ? 0 : row.getProductId());
        line.put("name", row.getName());
        line.put("quantity", row.getQuantity());
        line.put("currency", currency);
        line.put("customPrice", "Y");
        line.put("price", row.getPrice());
        line.put("basePrice", row.getPrice());
        line.put("discountPrice", "0");
        return line;
    }

    /**
     * The deal's own values when its order is made, kept on the link: the deal, made by a person, is the source of its
     * title, amount, currency, pipeline and products (their digest is the link's {@code dealRowsDigest}; Ownership:
     * only its stage is DealBridge's to write).
     */
    private static Map<String, String> handMadeValues(Deal deal) {
        Map<String, String> values = new LinkedHashMap<>();
        if (deal != null) {
            values.put("TITLE", deal.title() == null ? "" : deal.title());
            values.put("OPPORTUNITY", deal.opportunity() == null ? "" : DealValues.amount("deal amount", deal.opportunity().toPlainString()));
            values.put("CURRENCY_ID", deal.currency() == null ? "" : deal.currency());
            values.put(Ownership.PIPELINE, Long.toString(deal.categoryId()));
        }
        return values;
    }

    /**
     * The buyer of an order made from a deal, from the deal's contact: name, first e-mail and first phone go to the
     * order properties flagged payer / e-mail / phone for the payer type ({@code sale.propertyvalue.modify} replaces
     * the whole set, which on a new order is empty).
     */
    private void writeBuyer(long orderId, Deal deal) {
        if (deal.contactId() == null) {
            return;
        }
        Optional<Contact> contact = crm.contact(deal.contactId());
        if (contact.isEmpty()) {
            return;
        }
        Contact person = contact.get();
        String name = String.join(" ", java.util.stream.Stream.of(person.name(), person.lastName())
                .filter(part -> part != null && !part.isBlank()).toList());
        Map<String, String> byRole = new LinkedHashMap<>();
        byRole.put("isPayer", name.isBlank() ? null : name);
        byRole.put("isEmail", person.emails().isEmpty() ? null : person.emails().get(0));
        byRole.put("isPhone", person.phones().isEmpty() ? null : person.phones().get(0));
        List<Map<String, Object>> values = new java.util.ArrayList<>();
        for (JsonNode property : store.client().listAll("sale.property.list",
                Map.of("filter", Map.of("personTypeId", config.personTypeId())), "properties")) {
            byRole.forEach((role, value) -> {
                if (value != null && "Y".equals(property.path(role).asText())) {
                    values.add(Map.of("orderPropsId", property.path("id").asLong(), "value", value));
                }
            });
        }
        if (!values.isEmpty()) {
            store.client().call("sale.propertyvalue.modify", Map.of("fields", Map.of("order", Map.of("id", orderId,
                    "propertyValues", values))), org.dealbridge.bitrix.Idempotence.IDEMPOTENT);
        }
    }

    /** @param orderVersion the store's version of the order as read for this decision (Ownership.orderSaveSeen) */
    private SyncLink link(OrderCommand c, SyncLink previous, Deal deal, String status, Long orderVersion) {
        SyncLink.Builder b = previous == null ? SyncLink.newBuilder().setOrigin(LinkOrigin.DEAL) : SyncLink.newBuilder(previous);
        return b.setSiteId(c.getSiteId())
                .setOrderId(c.getOrderId())
                .setDealId(c.getDealId())
                .setCategoryId(deal.categoryId())
                .setStageId(deal.stageId())
                .setStatusId(status)
                .setOrderVersion(Ownership.laterOrderSave(previous, orderVersion))
                .setRevision(LinkRevision.after(previous))
                .setUpdatedAt(clock.instant())
                .build();
    }

    private static OrderWrite skipped(OrderCommand c, Outcome outcome, String reason, int attempt) {
        return new OrderWrite(c, outcome, reason, null, false, null, attempt);
    }

    /** The rows' total; a row whose price is not a decimal number or whose quantity is not positive is bad input. */
    static BigDecimal total(List<ProductRow> rows) {
        BigDecimal total = BigDecimal.ZERO;
        for (ProductRow row : rows) {
            BigDecimal quantity;
            try {
                quantity = new BigDecimal(row.getQuantity());
                total = total.add(new BigDecimal(row.getPrice()).multiply(quantity));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("product row " + row.getProductId() + " has price \"" + row.getPrice()
                        + "\" and quantity \"" + row.getQuantity() + "\"; both must be decimal numbers", e);
            }
            if (quantity.signum() <= 0) {
                throw new IllegalArgumentException("product row " + row.getProductId() + " (" + row.getName() + ") has quantity \""
                        + row.getQuantity() + "\"; a basket line needs a positive quantity");
            }
        }
        return total;
    }

    private static String text(CharSequence value) {
        return value == null ? null : value.toString();
    }

    private static Instant instant(java.time.OffsetDateTime time) {
        return time == null ? null : time.toInstant();
    }
}
