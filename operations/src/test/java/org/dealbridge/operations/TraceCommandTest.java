package org.dealbridge.operations;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.schemas.ChangeCause;
import org.dealbridge.schemas.ChangeSource;
import org.dealbridge.schemas.DealChanged;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.DealCommandKind;
import org.dealbridge.schemas.LinkOrigin;
import org.dealbridge.schemas.Outcome;
import org.dealbridge.schemas.OrderCommand;
import org.dealbridge.schemas.OrderCommandKind;
import org.dealbridge.schemas.SyncDirection;
import org.dealbridge.schemas.SyncLink;
import org.dealbridge.schemas.SyncOutcome;
import org.dealbridge.schemas.Topics;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class TraceCommandTest {
    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();
    static OperationsFixture fx;
    static final Instant T0 = Instant.parse("2026-11-05T09:00:00Z");

    @BeforeAll
    static void topics() {
        fx = new OperationsFixture(KAFKA);
        fx.createTopics();
    }

    static long at(int seconds) {
        return T0.plusSeconds(seconds).toEpochMilli();
    }

    static SyncOutcome outcome(String site, Long order, Long deal, SyncDirection dir, Outcome o, String reason, String commandId) {
        return SyncOutcome.newBuilder().setSiteId(site).setOrderId(order).setDealId(deal).setDirection(dir).setOutcome(o)
                .setReason(reason).setMappingVersion(3L).setCommandId(commandId).setAt(T0).build();
    }

    @Test
    void tellsTheStoryOfAnOrderAndItsDealInTimeOrder() {
        // written out of time order on purpose: the story must be sorted by time, not by topic
        fx.send(fx.topics.dealChanges(), "812", DealChanged.newBuilder().setDealId(812).setCategoryId(1).setStageId("C1:WON")
                .setDateModify(T0).setCause(ChangeCause.newBuilder().setSource(ChangeSource.CRM_HOOK).setActor("user 5").build()).build(), at(50));
        fx.send(fx.topics.orderCommands(), "812", OrderCommand.newBuilder().setCommandId("oc-1").setKind(OrderCommandKind.UPDATE_STATUS)
                .setSiteId("s1").setDealId(812).setOrderId(5001L).setStatusId("F").setExpectedStatusId("P").setMappingVersion(3)
                .setSourceTime(T0).build(), at(51));
        fx.send(fx.topics.orderChanges(), "s1:5001", DeadLetterCommandTest.order("s1", 5001, "N"), at(0));
        fx.send(fx.topics.dealCommands(), "s1:5001", DealCommand.newBuilder().setCommandId("dc-1").setKind(DealCommandKind.CREATE)
                .setSiteId("s1").setOrderId(5001).setOriginatorId("dealbridge:s1").setFields(Map.of("STAGE_ID", "C1:NEW", "CATEGORY_ID", "1"))
                .setMappingVersion(3).setSourceTime(T0).build(), at(1));
        fx.send(fx.topics.syncOutcomes(), "s1:5001", outcome("s1", 5001L, null, SyncDirection.ORDER_TO_DEAL, Outcome.CREATED,
                "new order s1:5001 in status N goes to pipeline 1 stage C1:NEW", "dc-1"), at(2));
        fx.send(fx.topics.syncOutcomes(), "s1:5001", outcome("s1", 5001L, 812L, SyncDirection.ORDER_TO_DEAL, Outcome.CREATED,
                "crm.deal.add made deal 812", "dc-1"), at(3));
        fx.send(fx.topics.dealLinks(), "s1:5001", SyncLink.newBuilder().setSiteId("s1").setOrderId(5001).setDealId(812).setCategoryId(1)
                .setStageId("C1:NEW").setStatusId("N").setOrigin(LinkOrigin.ORDER).setUpdatedAt(T0).build(), at(4));
        fx.send(fx.topics.syncOutcomes(), "deal:812", outcome("s1", null, 812L, SyncDirection.DEAL_TO_ORDER, Outcome.UPDATED,
                "stage C1:WON maps to status F", "oc-1"), at(52));
        // another order and another deal must not show up
        fx.send(fx.topics.orderChanges(), "s1:50011", DeadLetterCommandTest.order("s1", 50011, "ZZ"), at(5));
        fx.send(fx.topics.dealChanges(), "8120", DealChanged.newBuilder().setDealId(8120).setStageId("LOSE").setDateModify(T0)
                .setCause(ChangeCause.newBuilder().setSource(ChangeSource.CRM_POLL).build()).build(), at(6));

        OperationsFixture.Run run = fx.run(TraceCommand.class, "s1:5001");

        assertThat(run.exitCode()).as(run.err()).isZero();
        List<String> lines = run.out().lines().toList();
        assertThat(lines.get(0)).isEqualTo("Order s1:5001");
        assertThat(lines).hasSize(1 + 8 + 1);
        assertThat(lines.get(1)).contains("order-changes").contains("order event (STORE_HOOK): status N");
        assertThat(lines.get(2)).contains("deal-commands").contains("command CREATE dc-1").contains("STAGE_ID=C1:NEW");
        assertThat(lines.get(3)).contains("sync-outcomes").contains("CREATED: new order s1:5001 in status N goes to pipeline 1 stage C1:NEW");
        assertThat(lines.get(4)).contains("crm.deal.add made deal 812").contains("[command dc-1]");
        assertThat(lines.get(5)).contains("deal-links").contains("linked to deal 812");
        assertThat(lines.get(6)).contains("deal-changes").contains("deal 812 changed (CRM_HOOK by user 5): pipeline 1, stage C1:WON");
        assertThat(lines.get(7)).contains("order-commands").contains("UPDATE_STATUS oc-1").contains("status F (expected P)");
        assertThat(lines.get(8)).contains("DEAL_TO_ORDER UPDATED: stage C1:WON maps to status F");
        assertThat(lines.get(8)).contains(T0.plusSeconds(52).toString());
        assertThat(lines.get(9)).isEqualTo("Linked deal: 812");
        assertThat(run.out()).doesNotContain("ZZ").doesNotContain("LOSE");
    }

    @Test
    void anOrderWithoutDealShowsWhyAndItsDeadLetter() {
        fx.send(fx.topics.orderChanges(), "s2:77", DeadLetterCommandTest.order("s2", 77, "XX"), at(100));
        fx.send(fx.topics.syncOutcomes(), "s2:77", outcome("s2", 77L, null, SyncDirection.ORDER_TO_DEAL, Outcome.SKIPPED_UNMAPPED_STATUS,
                "status XX of order s2:77 has no stage in mapping v3 of site s2", null), at(101));
        fx.send(fx.topics.deadLetters(), "dl-t1", DeadLetterCommandTest.deadLetter("dl-t1", "s2", Topics.ORDER_CHANGES,
                "s2:77".getBytes(StandardCharsets.UTF_8), new byte[] {1}, "deal 0 not found", T0), at(102));

        OperationsFixture.Run run = fx.run(TraceCommand.class, "s2:77");

        assertThat(run.out()).contains("SKIPPED_UNMAPPED_STATUS: status XX of order s2:77 has no stage in mapping v3 of site s2")
                .contains("dead letter dl-t1 from deal-projector after 3 attempt(s): deal 0 not found [ERROR_CORE]")
                .contains("dlq replay dl-t1")
                .endsWith("No deal is linked; the entries above say why." + System.lineSeparator());
    }

    @Test
    void anUnknownOrderSaysItNeverArrivedAndABadKeyIsNamed() {
        OperationsFixture.Run unknown = fx.run(TraceCommand.class, "s9:1");
        assertThat(unknown.exitCode()).isEqualTo(1);
        assertThat(unknown.out()).contains("never reached DealBridge");

        OperationsFixture.Run bad = fx.run(TraceCommand.class, "5001");
        assertThat(bad.exitCode()).isNotZero();
        assertThat(bad.err()).contains("'5001'");
    }
}
