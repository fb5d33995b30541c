package org.dealbridge.orderprojector;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.BooleanSupplier;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.NewOrder;
import org.dealbridge.emulator.Portal;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.schemas.Topics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.dealbridge.schemas.Outcome;
import org.dealbridge.schemas.SyncOutcome;

/**
 * Whose data is it, end to end (issue 12): the whole two-way sync over a real broker and the emulators over HTTP, and
 * a manager who edits deals between the shop's changes. Each scenario fails against a DealBridge that recomputes the
 * pipeline on every order change, compares fields with its copy of the deal, or dead-letters a deleted deal.
 */
class OwnershipEndToEndTest {

    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();
    static final String MAPPING = """
            site: s1
            pipelines:
              default: 1
              bySection:
                - { section: 20, pipeline: 2 }
            stages:
              "1":
                - { stage: "C1:NEW", status: N }
                - { stage: "C1:PREPARATION", status: P }
                - { stage: "C1:WON", status: F }
              "2":
                - { stage: "C2:NEW", status: N }
                - { stage: "C2:EXECUTING", status: P }
                - { stage: "C2:WON", status: F }
            responsible: { default: 1, byPipeline: { "2": 9 } }
            dealFields: { paySystemId: UF_CRM_PAY_SYSTEM }
            dealToOrder: { pipelines: [2] }
            payment: { default: 3 }
            """;

    @TempDir
    static Path stateDir;

    static TwoWayRig rig;
    static BitrixEmulator emu;
    static BitrixClient crmClient;
    static Topics topics;

    @BeforeAll
    static void start() throws Exception {
        rig = TwoWayRig.start(KAFKA, stateDir, "own", MAPPING, shop -> {
            shop.crm().addPipeline(2, "Electronics");
            shop.crm().addUser(7, "Egor", "Manager", "egor@example.com", true);
            shop.crm().addUser(9, "Electronics", "Manager", "el@example.com", true);
            shop.store().addSection(20, null, "Electronics");
            shop.store().addProduct(201, "Phone X", 20L, new BigDecimal("49990.00"));
        });
        emu = rig.emu;
        crmClient = rig.crmClient;
        topics = rig.topics;
    }

    @AfterAll
    static void stop() throws Exception {
        if (rig != null) {
            rig.close();
        }
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        TwoWayRig.await(what, timeout, condition);
    }

    private static Map<String, Object> dealOfOrder(long orderId) throws InterruptedException {
        await("order " + orderId + " has its deal", Duration.ofSeconds(30),
                () -> emu.crm().dealsByOrigin("dealbridge:s1", Long.toString(orderId)).size() == 1);
        return emu.crm().dealsByOrigin("dealbridge:s1", Long.toString(orderId)).get(0);
    }

    private static long id(Map<String, Object> deal) {
        return Long.parseLong(String.valueOf(deal.get("ID")));
    }

    private static Object field(long dealId, String field) {
        return emu.crm().deal(dealId).get(field);
    }

    /** Waits until no write touches the pair for 3 s, so the next human edit is not raced by DealBridge's own echo. */
    private static void settle(long dealId, long orderId) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        int seen = writes(dealId, orderId);
        long quietSince = System.nanoTime();
        while (System.nanoTime() - quietSince < Duration.ofSeconds(3).toNanos() && System.nanoTime() < deadline) {
            Thread.sleep(200);
            int now = writes(dealId, orderId);
            if (now != seen) {
                seen = now;
                quietSince = System.nanoTime();
            }
        }
    }

    private static int writes(long dealId, long orderId) {
        java.util.function.Predicate<org.dealbridge.emulator.Call> deal = c -> Long.toString(dealId).equals(c.param("id"));
        return emu.calls().count(Portal.CRM, "crm.deal.update", deal) + emu.calls().count(Portal.CRM, "crm.item.update", deal)
                + emu.calls().count(Portal.CRM, "crm.deal.productrows.set", deal)
                + emu.calls().count(Portal.STORE, "sale.order.update", c -> Long.toString(orderId).equals(c.param("id")));
    }

    private static long sofaOrder() {
        return emu.store().addOrder(NewOrder.create().site("s1").status("N").item(101, "Sofa", "1500.00", 1));
    }

    @Test
    void aPipelineAManagerChoseStandsAndTheStatusIsMappedThroughIt() throws Exception {
        long orderId = sofaOrder();
        long dealId = id(dealOfOrder(orderId));
        assertThat(field(dealId, "CATEGORY_ID")).isEqualTo("1");
        settle(dealId, orderId);

        emu.crm().updateDealAsHuman(dealId, Map.of("CATEGORY_ID", 2, "STAGE_ID", "C2:NEW", "byUserId", 7));
        settle(dealId, orderId);
        emu.store().updateOrderAsHuman(orderId, Map.of("statusId", "P"));

        await("the deal follows the status in the manager's pipeline", Duration.ofSeconds(30),
                () -> "C2:EXECUTING".equals(field(dealId, "STAGE_ID")));
        settle(dealId, orderId);
        assertThat(field(dealId, "CATEGORY_ID")).as("the manager's pipeline").isEqualTo("2");
        assertThat(field(dealId, "STAGE_ID")).isEqualTo("C2:EXECUTING");
        assertThat(emu.store().order(orderId).get("statusId")).isEqualTo("P");
    }

    @Test
    void aManagersTitleAndAmountStandThroughTheShopsLaterChanges() throws Exception {
        long orderId = sofaOrder();
        long dealId = id(dealOfOrder(orderId));
        settle(dealId, orderId);

        emu.crm().updateDealAsHuman(dealId, Map.of("TITLE", "Call Olga before delivery", "OPPORTUNITY", "1400.00", "byUserId", 7));
        settle(dealId, orderId);
        emu.store().updateOrderAsHuman(orderId, Map.of("statusId", "P"));
        await("the first status change reaches the deal", Duration.ofSeconds(30),
                () -> "C1:PREPARATION".equals(field(dealId, "STAGE_ID")));
        settle(dealId, orderId);
        // the second change is where a copy of the deal refreshed after the first write used to overwrite the edit
        emu.store().updateOrderAsHuman(orderId, Map.of("statusId", "F", "basketItems",
                List.of(Map.of("productId", 101, "name", "Sofa", "price", "1500.00", "quantity", 2))));
        await("the second status change reaches the deal", Duration.ofSeconds(30), () -> "C1:WON".equals(field(dealId, "STAGE_ID")));
        settle(dealId, orderId);

        assertThat(field(dealId, "TITLE")).as("the manager's title").isEqualTo("Call Olga before delivery");
        assertThat(field(dealId, "OPPORTUNITY")).as("the manager's amount, though the order's price changed").isEqualTo("1400.00");
        assertThat(emu.crm().dealProductRows(dealId)).as("the rows follow the basket: DealBridge set them and nobody changed them")
                .singleElement().satisfies(row -> assertThat(new BigDecimal(String.valueOf(row.get("QUANTITY")))).isEqualByComparingTo("2"));
    }

    @Test
    void aBasketChangeThatPicksAnotherPipelineStillMovesTheDealWithItsAmount() throws Exception {
        long orderId = sofaOrder();
        long dealId = id(dealOfOrder(orderId));
        settle(dealId, orderId);

        emu.store().updateOrderAsHuman(orderId, Map.of("basketItems",
                List.of(Map.of("productId", 201, "name", "Phone X", "price", "49990.00", "quantity", 1))));

        await("the deal follows its products to pipeline 2", Duration.ofSeconds(30), () -> "2".equals(field(dealId, "CATEGORY_ID")));
        await("with the new amount", Duration.ofSeconds(30), () -> "49990.00".equals(field(dealId, "OPPORTUNITY")));
        assertThat(field(dealId, "STAGE_ID")).isEqualTo("C2:NEW");
        assertThat(emu.crm().dealsByOrigin("dealbridge:s1", Long.toString(orderId))).hasSize(1);
    }

    @Test
    void aDealDeletedInTheCrmUnlinksItsOrderWithoutDeadLettersOrANewDeal() throws Exception {
        long orderId = sofaOrder();
        long dealId = id(dealOfOrder(orderId));
        settle(dealId, orderId);
        int adds = emu.calls().count(Portal.CRM, "crm.deal.add");

        emu.crm().deleteDealAsHuman(dealId);
        Thread.sleep(1_000);  // the delete event goes its way; the next change must find the order unlinked either way
        emu.store().updateOrderAsHuman(orderId, Map.of("statusId", "P"));
        emu.store().updateOrderAsHuman(orderId, Map.of("statusId", "F"));

        List<SyncOutcome> outcomes = outcomesOf("s1:" + orderId, o -> o.getOutcome() == Outcome.DEAL_DELETED, 2);
        assertThat(outcomes).allSatisfy(o -> assertThat(o.getReason()).contains(Long.toString(dealId)));
        assertThat(emu.calls().count(Portal.CRM, "crm.deal.add")).as("no new deal under deals.onDeleted = unlink").isEqualTo(adds);
        assertThat(deadLettersFor("s1:" + orderId)).as("a deletion is not an error").isZero();
    }

    @Test
    void anOrderDeletedInTheStoreIsRecordedAndItsDealIsLeftAlone() throws Exception {
        long orderId = sofaOrder();
        long dealId = id(dealOfOrder(orderId));
        settle(dealId, orderId);

        emu.store().deleteOrderAsHuman(orderId);
        assertThat(outcomesOf("s1:" + orderId, o -> o.getOutcome() == Outcome.ORDER_DELETED, 1))
                .anySatisfy(o -> assertThat(o.getReason()).contains("deleted in the store", "left as it is"));
        emu.crm().updateDealAsHuman(dealId, Map.of("STAGE_ID", "C1:WON", "byUserId", 7));  // nothing left to follow
        assertThat(outcomesOf("s1:" + orderId, o -> o.getOutcome() == Outcome.ORDER_DELETED
                && o.getDirection() == org.dealbridge.schemas.SyncDirection.DEAL_TO_ORDER, 1)).isNotEmpty();

        assertThat(field(dealId, "STAGE_ID")).isEqualTo("C1:WON");
        assertThat(field(dealId, "CATEGORY_ID")).isEqualTo("1");
        assertThat(emu.calls().count(Portal.STORE, "sale.order.update", c -> Long.toString(orderId).equals(c.param("id")))).isZero();
        assertThat(deadLettersFor("s1:" + orderId)).isZero();
    }

    /** Waits for at least {@code atLeast} outcomes of an order that match, reading sync-outcomes from the start. */
    private static List<SyncOutcome> outcomesOf(String key, java.util.function.Predicate<SyncOutcome> match, int atLeast)
            throws InterruptedException {
        List<SyncOutcome> found = new java.util.ArrayList<>();
        Properties props = consumerProps();
        try (org.apache.kafka.clients.consumer.KafkaConsumer<String, byte[]> consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<>(
                props, new org.apache.kafka.common.serialization.StringDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topics.syncOutcomes().name()));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (found.size() < atLeast && System.nanoTime() < deadline) {
                for (var record : consumer.poll(Duration.ofMillis(200))) {
                    SyncOutcome outcome = topics.syncOutcomes().valueSerde().deserializer().deserialize(record.topic(), record.value());
                    if (key.equals(record.key()) && match.test(outcome)) {
                        found.add(outcome);
                    }
                }
            }
        }
        assertThat(found).as("outcomes of %s", key).hasSizeGreaterThanOrEqualTo(atLeast);
        return found;
    }

    /** Dead letters whose key or reason names the order, read from the start of the dead-letters topic. */
    private static long deadLettersFor(String orderKey) {
        Properties props = consumerProps();
        long count = 0;
        try (org.apache.kafka.clients.consumer.KafkaConsumer<String, byte[]> consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<>(
                props, new org.apache.kafka.common.serialization.StringDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            var partitions = consumer.partitionsFor(topics.deadLetters().name()).stream()
                    .map(p -> new org.apache.kafka.common.TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            var end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                for (var record : consumer.poll(Duration.ofMillis(200))) {
                    if (record.value() == null) {
                        continue;
                    }
                    var letter = topics.deadLetters().valueSerde().deserializer().deserialize(record.topic(), record.value());
                    if (letter.getReason().contains(orderKey)) {
                        count++;
                    }
                }
            }
        }
        return count;
    }

    private static Properties consumerProps() {
        Properties props = new Properties();
        props.put("bootstrap.servers", KAFKA.bootstrapServers());
        props.put("group.id", "ownership-e2e-" + java.util.UUID.randomUUID());
        props.put("auto.offset.reset", "earliest");
        props.put("isolation.level", "read_committed");
        return props;
    }
}
