package org.dealbridge.orderprojector.store;

import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.dealbridge.bitrix.BitrixException;
import com.fasterxml.jackson.databind.JsonNode;
import org.dealbridge.bitrix.crm.Contact;
import org.dealbridge.bitrix.crm.CrmApi;
import org.dealbridge.bitrix.crm.Deal;
import org.dealbridge.bitrix.store.OrderDetails;
import org.dealbridge.bitrix.store.SaleOrder;
import org.dealbridge.bitrix.store.StoreApi;
import org.dealbridge.mapping.CompiledMapping;
import org.dealbridge.mapping.OrderFromDeal;
import org.dealbridge.orderprojector.OrderProjectorConfig;
import org.dealbridge.mapping.PairDecision;
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
 *   <li>{@code UPDATE_STATUS}: reads the deal ({@code crm.deal.get}) and the order ({@code sale.order.get}) and decides
 *       the pair again on that fresh state ({@link StatusUpdatePlan}) and writes the loser on that state: usually the
 *       order ({@code sale.order.update}); the deal's stage ({@code crm.deal.update}) when the order changed later.
 *       A command decided against a status the order no longer has is never applied blindly.</li>
 *   <li>{@code CREATE}: looks the order up by {@code xmlId = dealbridge-deal:{dealId}} first — on every attempt, so
 *       a retry after a failure that may have been applied finds the order instead of adding a second one — then
 *       {@code sale.order.add} and {@code sale.payment.add} with the command's pay system (a found order without
 *       a payment gets one).</li>
 * </ul>
 * Transient failures (5xx, timeouts, rate refusals) are retried up to {@code store.max-attempts} times with
 * exponential backoff and ±50% jitter; anything else, or running out of attempts, is a dead letter.
 */
public final class OrderWriter {

    /** Prefix of the xmlId of orders made from deals; the deal projector recognises the same one. */
    public static final String XML_ID_PREFIX = OrderFromDeal.XML_ID_PREFIX;

    private static final Logger log = LoggerFactory.getLogger(OrderWriter.class);

    private final OrderProjectorConfig config;
    private final StoreApi store;
    private final CrmApi crm;
    private final PairDecision rules;
    private final Clock clock;

    public OrderWriter(OrderProjectorConfig config, StoreApi store, CrmApi crm, PairDecision rules, Clock clock) {
        this.config = config;
        this.store = store;
        this.crm = crm;
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
        while (true) {
            attempt++;
            try {
                return command.getKind() == OrderCommandKind.CREATE
                        ? create(command, mapping, link, attempt)
                        : updateStatus(command, mapping, link, attempt);
            } catch (IllegalArgumentException e) {
                return new OrderWrite(command, Outcome.DEAD_LETTERED, "Order command " + command.getCommandId() + " for deal "
                        + command.getDealId() + " cannot be executed: " + e.getMessage(), null, false,
                        IllegalArgumentException.class.getSimpleName(), attempt);
            } catch (BitrixException e) {
                if (!e.retryable() || attempt >= config.maxAttempts()) {
                    String why = e.retryable() ? "gave up after " + attempt + " attempts: " : "permanent failure: ";
                    return new OrderWrite(command, Outcome.DEAD_LETTERED, "Order command " + command.getCommandId() + " for deal "
                            + command.getDealId() + " " + why + e.getMessage(), null, false,
                            e.errorCode().isEmpty() ? e.getClass().getSimpleName() : e.errorCode(), attempt);
                }
                Duration wait = backoff(attempt);
                log.info("Order command for deal {} failed transiently (attempt {} of {}), retrying in {} ms: {}",
                        command.getDealId(), attempt, config.maxAttempts(), wait.toMillis(), e.getMessage());
                Thread.sleep(wait.toMillis());
            }
        }
    }

    Duration backoff(int attempt) {
        long base = Math.min(config.maxBackoff().toMillis(), config.initialBackoff().toMillis() << Math.min(attempt - 1, 20));
        long jittered = (long) (base * (0.5 + ThreadLocalRandom.current().nextDouble()));
        return Duration.ofMillis(Math.max(1, Math.min(jittered, config.maxBackoff().toMillis())));
    }

    private OrderWrite updateStatus(OrderCommand c, CompiledMapping mapping, SyncLink link, int attempt) {
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
        PairDecision.Agreed agreed = link != null
                ? new PairDecision.Agreed(link.getStageId().toString(), link.getStatusId().toString())
                : new PairDecision.Agreed(null, text(c.getExpectedStatusId()));
        StatusUpdatePlan.Plan plan = StatusUpdatePlan.plan(rules, mapping,
                new PairDecision.DealState(d.categoryId(), d.stageId(), instant(d.dateModify())),
                new PairDecision.OrderState(order.statusId(), instant(order.dateUpdate())),
                agreed, text(c.getExpectedStatusId()));
        String pair = "order " + c.getSiteId() + ":" + c.getOrderId() + " / deal " + c.getDealId() + ": ";
        if (!plan.writes()) {
            SyncLink agreedNow = plan.outcome() == Outcome.ECHO_SUPPRESSED ? link(c, link, d, order.statusId()) : null;
            return new OrderWrite(c, plan.outcome(), pair + plan.reason(), agreedNow, false, null, attempt);
        }
        // the read-back above is the check of the expected value (no blind overwrite)
        if (plan.writesDeal()) {
            crm.updateDeal(c.getDealId(), Map.of("STAGE_ID", plan.value()));
            Deal moved = new Deal(d.id(), d.title(), d.categoryId(), plan.value(), d.assignedById(), d.contactId(), d.opportunity(),
                    d.currency(), d.originatorId(), d.originId(), d.userFields(), d.dateModify());
            return new OrderWrite(c, plan.outcome(), pair + plan.reason(), link(c, link, moved, order.statusId()), true, null, attempt);
        }
        store.updateOrder(c.getOrderId(), Map.of("statusId", plan.value()));
        return new OrderWrite(c, plan.outcome(), pair + plan.reason(), link(c, link, d, plan.value()), true, null, attempt);
    }

    /**
     * The order was deleted in the store: recorded on the link, never a dead letter. The deal is left alone unless the
     * mapping names a cancelled stage for its pipeline ({@code cancelled}), where it then goes.
     */
    private OrderWrite orderDeleted(OrderCommand c, CompiledMapping mapping, SyncLink link, Deal deal, int attempt) {
        String pair = "Order " + c.getSiteId() + ":" + c.getOrderId() + " no longer exists in the store";
        Optional<String> cancelled = mapping.cancelledStage(deal.categoryId());
        boolean move = cancelled.isPresent() && !cancelled.get().equals(deal.stageId());
        if (move) {
            crm.updateDeal(c.getDealId(), Map.of("STAGE_ID", cancelled.get()));
        }
        SyncLink recorded = link == null ? null : SyncLink.newBuilder(link)
                .setOrderDeletedAt(clock.instant())
                .setStageId(move ? cancelled.get() : deal.stageId())
                .setUpdatedAt(clock.instant())
                .build();
        String what = move ? "; deal " + c.getDealId() + " goes to the cancelled stage " + cancelled.get() + " of pipeline "
                + deal.categoryId() + " (mapping cancelled)." : "; deal " + c.getDealId() + " is left as it is.";
        return new OrderWrite(c, Outcome.ORDER_DELETED, pair + what, recorded, move, null, attempt);
    }

    private OrderWrite create(OrderCommand c, CompiledMapping mapping, SyncLink link, int attempt) {
        if (link != null) {
            return skipped(c, Outcome.UNCHANGED, "Deal " + c.getDealId() + " is already linked to order " + link.getSiteId() + ":"
                    + link.getOrderId() + "; no order is added.", attempt);
        }
        String xmlId = xmlId(c.getDealId());
        List<SaleOrder> found = store.findOrdersByXmlId(xmlId);
        SaleOrder order;
        boolean added = false;
        if (!found.isEmpty()) {
            order = found.get(0);
        } else {
            Optional<Deal> deal = crm.getDeal(c.getDealId());
            if (deal.isEmpty()) {
                return skipped(c, Outcome.OTHER, "Deal " + c.getDealId() + " no longer exists; no order is added.", attempt);
            }
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("lid", c.getSiteId().toString());
            fields.put("personTypeId", config.personTypeId());
            fields.put("currency", c.getCurrency() == null ? "RUB" : c.getCurrency().toString());
            fields.put("statusId", c.getStatusId().toString());
            fields.put("xmlId", xmlId);
            fields.put("price", total(c.getItems()).toPlainString());
            fields.put("comments", "Made by DealBridge from CRM deal " + c.getDealId());
            // Basket lines go in with sale.basketitem.add, which the emulator does not implement yet: the order carries
            // the rows' total as its price until it does (see the module README).
            order = store.addOrder(fields);
            added = true;
            writeBuyer(order.id(), deal.get());
        }
        if (c.getPaySystemId() != null && store.payments(order.id()).isEmpty()) {
            Map<String, Object> payment = new LinkedHashMap<>();
            payment.put("orderId", order.id());
            payment.put("paySystemId", c.getPaySystemId());
            payment.put("sum", total(c.getItems()).toPlainString());
            store.addPayment(payment);
        }
        Deal deal = crm.getDeal(c.getDealId()).orElse(null);
        SyncLink created = SyncLink.newBuilder()
                .setSiteId(c.getSiteId())
                .setOrderId(order.id())
                .setDealId(c.getDealId())
                .setCategoryId(deal == null ? 0 : deal.categoryId())
                .setStageId(deal == null ? "" : deal.stageId())
                .setStatusId(order.statusId() == null ? c.getStatusId().toString() : order.statusId())
                .setOrigin(LinkOrigin.DEAL)
                .setUpdatedAt(clock.instant())
                .build();
        return new OrderWrite(c, added ? Outcome.CREATED : Outcome.UNCHANGED, (added ? "Order " : "Order already there: ")
                + c.getSiteId() + ":" + order.id() + " made from deal " + c.getDealId() + " with status " + created.getStatusId()
                + " and pay system " + c.getPaySystemId() + ".", created, added, null, attempt);
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

    private SyncLink link(OrderCommand c, SyncLink previous, Deal deal, String status) {
        SyncLink.Builder b = previous == null ? SyncLink.newBuilder().setOrigin(LinkOrigin.DEAL) : SyncLink.newBuilder(previous);
        return b.setSiteId(c.getSiteId())
                .setOrderId(c.getOrderId())
                .setDealId(c.getDealId())
                .setCategoryId(deal.categoryId())
                .setStageId(deal.stageId())
                .setStatusId(status)
                .setUpdatedAt(clock.instant())
                .build();
    }

    private static OrderWrite skipped(OrderCommand c, Outcome outcome, String reason, int attempt) {
        return new OrderWrite(c, outcome, reason, null, false, null, attempt);
    }

    static BigDecimal total(List<ProductRow> rows) {
        BigDecimal total = BigDecimal.ZERO;
        for (ProductRow row : rows) {
            try {
                total = total.add(new BigDecimal(row.getPrice().toString()).multiply(new BigDecimal(row.getQuantity().toString())));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("product row " + row.getProductId() + " has price \"" + row.getPrice()
                        + "\" and quantity \"" + row.getQuantity() + "\"; both must be decimal numbers", e);
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
