package org.dealbridge.orderprojector;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.dealbridge.dealprojector.crm.CommandsPerOrder;
import org.dealbridge.dealprojector.crm.DealUpdatePlan;
import org.dealbridge.dealprojector.crm.FreshestLink;
import org.dealbridge.dealprojector.crm.LinkAfterWrite;
import org.dealbridge.dealprojector.topology.DealFields;
import org.dealbridge.dealprojector.topology.OrderToDeal;
import org.dealbridge.mapping.CompiledMapping;
import org.dealbridge.mapping.OrderFromDeal;
import org.dealbridge.mapping.Ownership;
import org.dealbridge.mapping.PairDecision;
import org.dealbridge.orderprojector.store.StatusUpdatePlan;
import org.dealbridge.orderprojector.topology.DealToOrder;
import org.dealbridge.schemas.BasketItem;
import org.dealbridge.schemas.Buyer;
import org.dealbridge.schemas.ChangeCause;
import org.dealbridge.schemas.ChangeSource;
import org.dealbridge.schemas.DealChanged;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.DealCommandKind;
import org.dealbridge.schemas.LinkOrigin;
import org.dealbridge.schemas.OrderChanged;
import org.dealbridge.schemas.OrderCommand;
import org.dealbridge.schemas.ProductRow;
import org.dealbridge.schemas.SyncLink;

/**
 * One order and its deal, with a shop, a manager and an admin acting on them, driven through the REAL decision code of
 * both directions: {@link OrderToDeal} (deal projector), {@link DealUpdatePlan} and the connector's freshest-link rule
 * (CRM connector), {@link DealToOrder} (order projector) and {@link StatusUpdatePlan} (store connector), all deciding
 * with {@code Ownership} and {@link PairDecision}. Modelled: the two portals (fields and modification times), Kafka
 * queues (FIFO), the links topic (which the projectors see late: a link arrives only when a step says so) and the CRM
 * connector's memory of its own links.
 */
final class OwnershipWorld {

    static final long DEAL_ID = 812;
    static final long ORDER_ID = 5001;
    static final String MANAGER = "7";
    static final String DEALBRIDGE = "1";

    /** Baskets the shop can put in the order: product, section, unit price, quantity. */
    record Basket(String name, long product, long section, String price, int quantity) {
        BasketItem item() {
            return BasketItem.newBuilder().setProductId(product).setName(name).setPrice(price).setQuantity(Integer.toString(quantity))
                    .setSectionPath(List.of(section)).build();
        }

        String total() {
            return DealFields.amount("total", new java.math.BigDecimal(price).multiply(java.math.BigDecimal.valueOf(quantity)).toPlainString());
        }
    }

    static final List<Basket> BASKETS = List.of(new Basket("Sofa", 101, 10, "1500.00", 1),
            new Basket("Phone X", 201, 20, "49990.00", 1), new Basket("Sofa", 101, 10, "1500.00", 2));

    final List<CompiledMapping> versions;
    final PairDecision rules = PairDecision.UNDER_MAPPING;
    final OrderToDeal orderToDeal = new OrderToDeal("dealbridge");
    final DealToOrder dealToOrder = new DealToOrder(OrderProjectorConfig.defaults(), PairDecision.UNDER_MAPPING);

    /** The true time (a tick is a second); each portal stamps its changes by its own clock, this plus its skew. */
    long clock = 1;
    long crmSkew;
    long storeSkew;
    CompiledMapping mapping;
    /** Mapping versions in force since the last basket change (or creation): the pipeline may follow any of them. */
    final List<CompiledMapping> inForceSinceBasket = new ArrayList<>();

    // the store
    String status = "N";
    int basket = 0;
    long orderUpdated;
    String xmlId;
    // the CRM
    boolean dealExists;
    boolean dealDeleted;
    long pipeline;
    String stage;
    String title;
    String amount;
    String responsible;
    List<ProductRow> rows = List.of();
    long dealModified;
    /** MOVED_BY_ID is DealBridge's user: the deal's stage and pipeline were last set by DealBridge. */
    boolean movedByDealBridge;
    /** MOVED_TIME: when the deal's stage (or pipeline) last changed, by the CRM's clock. */
    long dealMoved;
    /** The pipeline DealBridge last wrote on the deal, whether or not a link of that write was committed. */
    Long dealBridgesPipeline;
    // Kafka
    final Deque<OrderChanged> orderEvents = new ArrayDeque<>();
    final Deque<DealChanged> dealEvents = new ArrayDeque<>();
    final Deque<DealCommand> dealCommands = new ArrayDeque<>();
    final Deque<OrderCommand> orderCommands = new ArrayDeque<>();
    SyncLink linksTopic;
    SyncLink seenByProjectors;
    SyncLink crmConnectorsOwn;
    /** The CRM connector dies after its CRM writes, before its Kafka transaction commits. */
    private boolean crashing;
    OrderChanged lastProjected;
    /** The order projector's change decided on what the link said, with nothing written (its store awaiting-link). */
    DealChanged awaitingLink;
    /** The link that change was decided on (null: none yet). */
    SyncLink awaitingDecidedOn;

    // what people did and what DealBridge wrote
    final Map<String, String> managerSet = new LinkedHashMap<>();
    Long managerPipeline;
    Long creationPipeline;
    int dealAdds;
    int pipelineMoves;
    int basketChanges;
    final List<String> fieldsWrittenAfterDeletion = new ArrayList<>();
    final List<String> ownFieldsWrittenOnHandMade = new ArrayList<>();
    final List<String> trace = new ArrayList<>();

    /** The CRM's and the store's clocks off by these many seconds (issue 13 item 3). */
    OwnershipWorld skewed(long crmSkew, long storeSkew) {
        this.crmSkew = crmSkew;
        this.storeSkew = storeSkew;
        this.dealModified += crmSkew;
        this.dealMoved += crmSkew;
        this.orderUpdated += storeSkew;
        return this;
    }

    OwnershipWorld(List<CompiledMapping> versions) {
        this.versions = versions;
        this.mapping = versions.get(0);
        inForceSinceBasket.add(mapping);
    }

    /** A world whose deal a manager made by hand, and whose order DealBridge made from it (link origin DEAL). */
    static OwnershipWorld handMade(List<CompiledMapping> versions) {
        OwnershipWorld w = new OwnershipWorld(versions);
        w.dealExists = true;
        w.pipeline = 2;
        w.stage = "C2:NEW";
        w.title = "Phone X for a walk-in buyer";
        w.amount = "49990.00";
        w.responsible = "9";
        w.rows = List.of(ProductRow.newBuilder().setProductId(201L).setName("Phone X").setPrice("49990.00").setQuantity("1").build());
        w.basket = 1;
        w.xmlId = OrderFromDeal.xmlId(DEAL_ID);
        w.linksTopic = SyncLink.newBuilder().setSiteId("s1").setOrderId(ORDER_ID).setDealId(DEAL_ID).setCategoryId(2)
                .setStageId("C2:NEW").setStatusId("N").setOrigin(LinkOrigin.DEAL).setUpdatedAt(Instant.ofEpochSecond(w.clock)).build();
        w.seenByProjectors = w.linksTopic;
        w.creationPipeline = 2L;
        return w;
    }

    boolean handMadeWorld() {
        return xmlId != null;
    }

    // ---- people ----

    void shopSetsStatus(String value) {
        if (value.equals(status)) {
            return;
        }
        status = value;
        orderSaved("shop status -> " + value);
    }

    void shopSetsBasket(int value) {
        if (value == basket || handMadeWorld()) {
            return;  // a hand-made deal's order keeps the deal's products
        }
        basket = value;
        basketChanges++;
        inForceSinceBasket.clear();
        inForceSinceBasket.add(mapping);
        orderSaved("shop basket -> " + BASKETS.get(value));
    }

    private void orderSaved(String what) {
        orderUpdated = ++clock + storeSkew;
        trace.add(what);
        orderEvents.add(order());
    }

    void managerSetsStage(int index) {
        if (!dealExists || dealDeleted) {
            return;
        }
        String value = stagesOf(pipeline).get(index % stagesOf(pipeline).size());
        if (value.equals(stage)) {
            return;
        }
        stage = value;
        movedByDealBridge = false;
        dealSaved("manager stage -> " + value);
        dealMoved = dealModified;
    }

    void managerMovesPipeline(long value) {
        if (!dealExists || dealDeleted || value == pipeline) {
            return;
        }
        pipeline = value;
        stage = stagesOf(value).get(0);
        movedByDealBridge = false;
        // moving a deal back to the pipeline DealBridge last wrote hands it back; to any other it is the manager's, also
        // when the link of DealBridge's last move was lost in a crash (its intent, committed before the move, tells)
        managerPipeline = Long.valueOf(value).equals(dealBridgesPipeline) ? null : value;
        dealSaved("manager pipeline -> " + value);
        dealMoved = dealModified;
    }

    void managerSets(String field, String value) {
        if (!dealExists || dealDeleted) {
            return;
        }
        switch (field) {
            case DealFields.TITLE -> title = value;
            case DealFields.OPPORTUNITY -> amount = value;
            case DealFields.ASSIGNED_BY_ID -> responsible = value;
            default -> throw new IllegalArgumentException(field);
        }
        managerSet.put(field, value);
        dealSaved("manager " + field + " -> " + value);
    }

    void managerDeletes() {
        if (!dealExists || dealDeleted) {
            return;
        }
        dealDeleted = true;
        trace.add("manager deletes the deal");
        dealEvents.add(DealChanged.newBuilder(dealChanged()).setDeleted(true).build());
    }

    void adminPublishesNextMapping() {
        int next = versions.indexOf(mapping) + 1;
        if (next < versions.size()) {
            mapping = versions.get(next);
            inForceSinceBasket.add(mapping);
            trace.add("admin publishes mapping version " + mapping.version());
        }
    }

    private void dealSaved(String what) {
        dealModified = ++clock + crmSkew;
        trace.add(what);
        dealEvents.add(dealChanged());
    }

    // ---- Kafka: links arrive late ----

    void linkArrives() {
        seenByProjectors = linksTopic;
        SyncLink now = seenByProjectors != null && seenByProjectors.getDealId() == DEAL_ID ? seenByProjectors : null;
        if (awaitingLink != null && now != awaitingDecidedOn) {
            // a newer link: the order projector decides the waiting change again, before anything queued after it
            dealEvents.addFirst(awaitingLink);
            awaitingLink = null;
        }
    }

    // ---- deal projector and CRM connector ----

    void projectOrder() {
        OrderChanged order = orderEvents.poll();
        if (order == null) {
            return;
        }
        OrderToDeal.Decision decision = orderToDeal.decide(order, mapping, seenByProjectors, lastProjected, Instant.ofEpochSecond(clock));
        lastProjected = order;
        decision.command().ifPresent(dealCommands::add);
        decision.outcome().ifPresent(o -> trace.add("deal projector: " + o.getOutcome() + " " + o.getReason()));
    }

    /** The CRM connector on the next command, or on every queued one as one poll takes them (folded, in waves). */
    void crmConnector(boolean wholePoll) {
        if (dealCommands.isEmpty()) {
            return;
        }
        if (!wholePoll) {
            crmConnectorWrites(dealCommands.poll());
            return;
        }
        CommandsPerOrder poll = new CommandsPerOrder();
        while (!dealCommands.isEmpty()) {
            poll.add("s1:" + ORDER_ID, dealCommands.poll(), crmConnectorsOwn);  // folded as executed: on the own link
        }
        for (List<CommandsPerOrder.Pending> wave : poll.waves()) {
            crmConnectorWrites(wave.get(0).command());
        }
    }

    private void crmConnectorWrites(DealCommand command) {
        DealCommand c = FreshestLink.apply(command, crmConnectorsOwn);
        if (c.getKind() == DealCommandKind.CREATE) {
            if (dealExists && !dealDeleted) {
                throw new AssertionError("a CREATE for an order whose deal this connector made: " + c);
            }
            dealExists = true;
            dealDeleted = false;
            dealAdds++;
            pipeline = Long.parseLong(DealUpdatePlan.pickedPipeline(c));
            creationPipeline = pipeline;
            dealBridgesPipeline = pipeline;
            stage = DealUpdatePlan.newDealStage(c);
            movedByDealBridge = true;
            title = c.getOrderValues().get(DealFields.TITLE);
            amount = c.getOrderValues().get(DealFields.OPPORTUNITY);
            responsible = c.getFields().get(DealFields.ASSIGNED_BY_ID);
            rows = c.getProductRows();
            managerSet.clear();
            managerPipeline = null;
            Map<String, String> written = new LinkedHashMap<>();
            c.getOrderValues().forEach((field, value) -> written.put(field, value));
            SyncLink created = SyncLink.newBuilder(LinkAfterWrite.created(c, written, c.getOrderRowsDigest(), Instant.ofEpochSecond(++clock)))
                    .setDealId(DEAL_ID).build();
            dealWritten("crm connector creates the deal in pipeline " + pipeline + " at " + stage);
            dealMoved = dealModified;
            published(created);
            return;
        }
        if (!dealExists || dealDeleted) {
            SyncLink was = c.getDecidedOn();
            if (was != null && was.getDealDeletedAt() == null) {
                published(SyncLink.newBuilder(was).setDealDeletedAt(Instant.ofEpochSecond(clock)).build());
            }
            return;  // DEAL_DELETED: nothing written
        }
        Map<String, String> values = new LinkedHashMap<>();
        values.put(DealFields.TITLE, title);
        values.put(DealFields.OPPORTUNITY, amount);
        values.put(DealFields.CURRENCY_ID, "RUB");
        DealUpdatePlan.DealState state = new DealUpdatePlan.DealState(pipeline, stage, Instant.ofEpochSecond(dealModified),
                Long.toString(dealModified), values, true, c.getProductRows() == null ? null : rows, movedByDealBridge, !movedByDealBridge,
                Instant.ofEpochSecond(dealMoved));
        DealUpdatePlan.Plan plan = DealUpdatePlan.plan(c, c.getDecidedOn(), state, (field, a, b) -> Objects.equals(a, b));
        SyncLink intent = null;
        if (plan.moveTo() != null && c.getKind() == DealCommandKind.UPDATE && c.getDecidedOn() != null) {
            // committed on deal-links before the call, also in a round that crashes after it (DealWriter.MoveIntents)
            intent = LinkAfterWrite.moveIntent(c.getDecidedOn(), c.getCommandId(), pipeline, plan.moveTo(),
                    Instant.ofEpochSecond(clock + crmSkew), Instant.ofEpochSecond(++clock));
            linksTopic = intent;
            crmConnectorsOwn = intent;
        }
        List<String> wrote = new ArrayList<>();
        if (plan.moveTo() != null) {
            pipeline = plan.moveTo();
            dealBridgesPipeline = pipeline;
            if (!crashing) {
                pipelineMoves++;  // a crashed round's move is one decision with its replay's: counted once, there
            }
            movedByDealBridge = true;
            wrote.add(DealFields.CATEGORY_ID);
        }
        if (plan.stage() != null) {
            stage = plan.stage();
            movedByDealBridge = true;
            wrote.add(DealFields.STAGE_ID);
        }
        plan.fields().forEach((field, value) -> {
            switch (field) {
                case DealFields.TITLE -> title = value;
                case DealFields.OPPORTUNITY -> amount = value;
                default -> { }
            }
            wrote.add(field);
        });
        if (plan.rows() != null) {
            rows = plan.rows();
            wrote.add("rows");
        }
        SyncLink link = LinkAfterWrite.afterPlan(plan, c, c.getDecidedOn(), DEAL_ID, state, Instant.ofEpochSecond(++clock));
        if (intent != null) {
            link = LinkAfterWrite.after(link, intent);
        }
        trace.add("crm connector: " + wrote.size() + " writes, kept " + plan.kept() + " notes " + plan.notes());
        if (plan.dealWon() && !crashing) {
            orderCommands.add(OrderCommand.newBuilder().setCommandId("reconcile").setKind(org.dealbridge.schemas.OrderCommandKind.RECONCILE)
                    .setSiteId("s1").setDealId(DEAL_ID).setOrderId(ORDER_ID).setStatusId(c.getOrderStatusId())
                    .setExpectedStatusId(c.getOrderStatusId()).setMappingVersion(c.getMappingVersion())
                    .setSourceTime(c.getSourceTime()).build());
        }
        if (!wrote.isEmpty()) {
            if (handMadeWorld()) {
                wrote.stream().filter(f -> !f.equals(DealFields.STAGE_ID)).forEach(ownFieldsWrittenOnHandMade::add);
            }
            dealWritten("crm connector writes " + wrote + " -> pipeline " + pipeline + " " + stage + " " + title + " " + amount);
            if (plan.moveTo() != null || plan.stage() != null) {
                dealMoved = dealModified;
            }
        }
        published(link);
    }

    private void dealWritten(String what) {
        dealModified = ++clock + crmSkew;
        trace.add(what);
        dealEvents.add(dealChanged());  // the echo of our own write
    }

    private void published(SyncLink link) {
        crmConnectorsOwn = link;  // in the connector's memory at once
        if (!crashing) {
            linksTopic = link;  // else it was to be committed with the offsets: the process died first
        }
    }

    /**
     * The CRM connector writes the next command (or a whole poll's, folded) to the CRM and dies before its Kafka
     * transaction commits: no link, no RECONCILE, no offsets. The restarted connector consumes the same commands again
     * and knows the links committed on deal-links only. (A CREATE is not crashed here: its replay finds the deal by
     * ORIGIN_ID, which {@code DealWriterTest} and the crash loop cover.)
     */
    void crmConnectorCrashes(boolean wholePoll) {
        DealCommand next = dealCommands.peek();
        if (next == null || !dealExists || dealDeleted
                || FreshestLink.apply(next, crmConnectorsOwn).getKind() == DealCommandKind.CREATE) {
            crmConnector(wholePoll);
            return;
        }
        List<DealCommand> queued = new ArrayList<>(dealCommands);
        crashing = true;
        try {
            crmConnector(wholePoll);
        } finally {
            crashing = false;
        }
        dealCommands.clear();
        dealCommands.addAll(queued);
        crmConnectorsOwn = linksTopic;
        trace.add("crm connector dies before its commit");
    }

    // ---- order projector and store connector ----

    void projectDeal() {
        DealChanged deal = dealEvents.poll();
        if (deal == null) {
            return;
        }
        SyncLink link = seenByProjectors != null && seenByProjectors.getDealId() == DEAL_ID ? seenByProjectors : null;
        DealToOrder.Decision decision = dealToOrder.decide(deal, link, link == null ? null : mapping, mapping, Instant.ofEpochSecond(clock));
        awaitingLink = decision.recheckWithNewerLink() ? deal : null;
        awaitingDecidedOn = link;
        decision.command().ifPresent(orderCommands::add);
        decision.command().ifPresent(c -> trace.add("order projector: status " + c.getStatusId() + " expecting " + c.getExpectedStatusId()));
        decision.outcome().ifPresent(o -> trace.add("order projector: " + o.getOutcome()));
        decision.link().ifPresent(unlinked -> linksTopic = unlinked);
    }

    void storeConnector() {
        OrderCommand command = orderCommands.poll();
        if (command == null || !dealExists || dealDeleted) {
            return;
        }
        SyncLink link = linksTopic;
        PairDecision.Agreed agreed = link != null
                ? Ownership.agreed(link, pipeline, stage, movedByDealBridge, !movedByDealBridge, mapping)
                : new PairDecision.Agreed(null, command.getExpectedStatusId());
        StatusUpdatePlan.Plan plan = StatusUpdatePlan.plan(rules, mapping,
                new PairDecision.DealState(pipeline, stage, Instant.ofEpochSecond(dealModified), Instant.ofEpochSecond(clock + crmSkew)),
                new PairDecision.OrderState(status, Instant.ofEpochSecond(orderUpdated), Instant.ofEpochSecond(clock + storeSkew)),
                agreed, command.getExpectedStatusId());
        trace.add("store connector: " + plan.outcome() + " " + plan.reason());
        if (plan.writesDeal()) {
            stage = plan.value();
            movedByDealBridge = true;
            dealWritten("store connector writes deal stage " + stage);
            dealMoved = dealModified;
        } else if (plan.writesOrder()) {
            status = plan.value();
            orderSaved("store connector writes order status " + status);
        }
        if (plan.writes() || plan.outcome() == org.dealbridge.schemas.Outcome.ECHO_SUPPRESSED) {
            SyncLink.Builder next = SyncLink.newBuilder(link).setCategoryId(pipeline).setStageId(stage).setStatusId(status)
                    .setUpdatedAt(Instant.ofEpochSecond(++clock));
            if (plan.writesDeal()) {
                next.setDealFields(Ownership.afterWriting(link, Map.of(Ownership.STAGE, stage)));  // as OrderWriter
            }
            linksTopic = next.build();
        }
    }

    /** After the people stop: links arrive and every queue drains; the rounds it took, or -1 when it did not settle. */
    int settle(int maxRounds) {
        for (int round = 1; round <= maxRounds; round++) {
            linkArrives();
            boolean busy = !orderEvents.isEmpty() || !dealEvents.isEmpty() || !dealCommands.isEmpty() || !orderCommands.isEmpty();
            while (!orderEvents.isEmpty()) {
                projectOrder();
            }
            crmConnector(round % 2 == 0);
            while (!dealCommands.isEmpty()) {
                crmConnector(false);
            }
            linkArrives();
            while (!dealEvents.isEmpty()) {
                projectDeal();
            }
            while (!orderCommands.isEmpty()) {
                storeConnector();
            }
            if (!busy) {
                return round;
            }
        }
        return -1;
    }

    // ---- the two sides as events ----

    OrderChanged order() {
        Basket b = BASKETS.get(basket);
        return OrderChanged.newBuilder().setSiteId("s1").setOrderId(ORDER_ID).setAccountNumber(Long.toString(ORDER_ID))
                .setStatusId(status).setCurrency("RUB").setPrice(b.total()).setBuyer(Buyer.newBuilder().build())
                .setItems(List.of(b.item())).setXmlId(xmlId).setDateUpdate(Instant.ofEpochSecond(orderUpdated))
                .setCause(ChangeCause.newBuilder().setSource(ChangeSource.STORE_HOOK).build()).build();
    }

    private DealChanged dealChanged() {
        return DealChanged.newBuilder().setDealId(DEAL_ID).setCategoryId(pipeline).setStageId(stage == null ? "" : stage)
                .setTitle(title).setOpportunity(amount).setCurrency("RUB").setProductRows(rows)
                .setOriginatorId(handMadeWorld() ? null : "dealbridge:s1").setOriginId(handMadeWorld() ? null : Long.toString(ORDER_ID))
                .setDateModify(Instant.ofEpochSecond(dealModified))
                .setCause(ChangeCause.newBuilder().setSource(ChangeSource.CRM_HOOK).build()).build();
    }

    static List<String> stagesOf(long pipeline) {
        return pipeline == 1 ? List.of("C1:NEW", "C1:PREPARATION", "C1:WON") : List.of("C2:NEW", "C2:EXECUTING", "C2:WON");
    }

    @Override
    public String toString() {
        return "order " + status + " basket " + basket + " | deal " + (dealDeleted ? "deleted " : "") + pipeline + " " + stage + " \""
                + title + "\" " + amount + " resp " + responsible + " | link " + (linksTopic == null ? "none"
                : linksTopic.getCategoryId() + "/" + linksTopic.getStageId() + "/" + linksTopic.getStatusId()) + " | trace " + trace;
    }
}
