package org.dealbridge.operations;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.schemas.Buyer;
import org.dealbridge.schemas.ChangeCause;
import org.dealbridge.schemas.ChangeSource;
import org.dealbridge.schemas.DeadLetter;
import org.dealbridge.schemas.OrderChanged;
import org.dealbridge.schemas.Topics;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class DeadLetterCommandTest {
    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();
    static OperationsFixture fx;

    @BeforeAll
    static void topics() {
        fx = new OperationsFixture(KAFKA);
        fx.createTopics();
    }

    static OrderChanged order(String site, long id, String status) {
        return OrderChanged.newBuilder().setSiteId(site).setOrderId(id).setStatusId(status).setCurrency("RUB").setPrice("100.00")
                .setBuyer(Buyer.newBuilder().build()).setDateUpdate(Instant.parse("2026-11-01T10:00:00Z"))
                .setCause(ChangeCause.newBuilder().setSource(ChangeSource.STORE_HOOK).build()).build();
    }

    static DeadLetter deadLetter(String id, String site, String sourceTopic, byte[] key, byte[] value, String reason, Instant at) {
        return DeadLetter.newBuilder().setId(id).setComponent("deal-projector").setSiteId(site).setSourceTopic(sourceTopic)
                .setSourcePartition(0).setSourceOffset(7L).setKey(key == null ? null : ByteBuffer.wrap(key))
                .setValue(value == null ? null : ByteBuffer.wrap(value)).setReason(reason).setErrorCode("ERROR_CORE").setAttempts(3)
                .setFailedAt(at).build();
    }

    /** Committed records on order-changes with this key (read with the same scan the commands use, up to the high watermark). */
    private static List<ConsumerRecord<String, byte[]>> orderChangesWithKey(String key) {
        return new TopicScan(KAFKA.clientProperties()).read(Topics.ORDER_CHANGES, key::equals);
    }

    @Test
    void listShowsTheCurrentDeadLettersOfASiteWithTheirReasonAndLeavesReplayedOnesOut() {
        Instant t = Instant.parse("2026-11-02T08:00:00Z");
        fx.send(fx.topics.deadLetters(), "dl-a1", deadLetter("dl-a1", "la", Topics.ORDER_CHANGES, null, null,
                "status 'XX' of order la:1 has no stage in mapping v3", t), t.toEpochMilli());
        fx.send(fx.topics.deadLetters(), "dl-a2", deadLetter("dl-a2", "la", Topics.ORDER_CHANGES, null, null, "retired", t.plusSeconds(1)),
                t.toEpochMilli());
        fx.send(fx.topics.deadLetters(), "dl-a2", null, t.toEpochMilli() + 1);
        fx.send(fx.topics.deadLetters(), "dl-b1", deadLetter("dl-b1", "lb", Topics.ORDER_CHANGES, null, null, "other site", t), t.toEpochMilli());

        OperationsFixture.Run run = fx.run(DeadLetterCommand.class, "list", "--site", "la");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("dl-a1").contains("deal-projector").contains("2026-11-02T08:00:00Z")
                .contains("status 'XX' of order la:1 has no stage in mapping v3 [ERROR_CORE]")
                .contains("1 dead letter(s) for site la")
                .doesNotContain("dl-a2").doesNotContain("dl-b1");
        assertThat(run.out().lines().filter(l -> l.startsWith("dl-a1")).findFirst().orElseThrow()).contains(" 3 ");
    }

    @Test
    void aRecordOnTheDeadLetterTopicThatIsNotADeadLetterIsPassedOverAndTheOthersAreListed() {
        Instant t = Instant.parse("2026-11-03T08:00:00Z");
        fx.sendBytes(fx.topics.deadLetters().name(), "dl-pill", "not avro".getBytes(StandardCharsets.UTF_8), t.toEpochMilli());
        fx.send(fx.topics.deadLetters(), "dl-p1", deadLetter("dl-p1", "lp", Topics.ORDER_CHANGES, null, null, "after the pill", t),
                t.toEpochMilli());

        OperationsFixture.Run run = fx.run(DeadLetterCommand.class, "list", "--site", "lp");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("dl-p1").contains("1 dead letter(s) for site lp");
    }

    @Test
    void retiringWithANoteRemovesTheDeadLetterWithoutAReplayAndTraceTellsTheNote() {
        Instant t = Instant.parse("2026-11-04T08:00:00Z");
        byte[] key = "rt:7001".getBytes(StandardCharsets.UTF_8);
        byte[] value = fx.topics.orderChanges().valueSerde().serializer().serialize(Topics.ORDER_CHANGES, order("rt", 7001, "N"));
        fx.send(fx.topics.deadLetters(), "dl-t1", deadLetter("dl-t1", "rt", Topics.ORDER_CHANGES, key, value, "a test order", t), t.toEpochMilli());
        DeadLetterQueue queue = new DeadLetterQueue(KAFKA.clientProperties(), fx.topics);

        assertThatThrownBy(() -> queue.retire("dl-t1", "  ", "olga")).isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("note:");
        assertThatThrownBy(() -> queue.retire("dl-nope", "why", "olga")).hasMessageContaining("no current dead letter has id 'dl-nope'");
        assertThat(queue.retire("dl-t1", "a test order, nothing to send", "olga").getId()).isEqualTo("dl-t1");

        assertThat(queue.current("rt")).isEmpty();
        assertThat(orderChangesWithKey("rt:7001")).as("retired, not replayed").isEmpty();
        assertThat(fx.run(TraceCommand.class, "rt:7001").out())
                .contains("dead letter dl-t1 retired without replay by olga: a test order, nothing to send");
        assertThatThrownBy(() -> queue.retire("dl-t1", "again", "olga")).as("retired once").hasMessageContaining("dl-t1");
    }

    @Test
    void replayRepublishesTheOriginalBytesOnceAndASecondReplayFindsNothing() {
        Instant t = Instant.parse("2026-11-03T08:00:00Z");
        byte[] key = "rs:5001".getBytes(StandardCharsets.UTF_8);
        byte[] value = fx.topics.orderChanges().valueSerde().serializer().serialize(Topics.ORDER_CHANGES, order("rs", 5001, "P"));
        fx.send(fx.topics.deadLetters(), "dl-r1", deadLetter("dl-r1", "rs", Topics.ORDER_CHANGES, key, value, "mapping for rs missing", t),
                t.toEpochMilli());
        fx.send(fx.topics.deadLetters(), "dl-r2", deadLetter("dl-r2", "rs", null, null, null, "poll failed: no record", t.plusSeconds(1)),
                t.toEpochMilli());

        OperationsFixture.Run first = fx.run(DeadLetterCommand.class, "replay", "--all", "--site", "rs");

        assertThat(first.out()).contains("replayed dl-r1 to order-changes").contains("1 replayed, 1 not replayed");
        assertThat(first.err()).contains("dl-r2: no source record was kept");
        assertThat(first.exitCode()).as("a dead letter that could not be replayed is an error").isEqualTo(1);
        List<ConsumerRecord<String, byte[]>> replayed = orderChangesWithKey("rs:5001");
        assertThat(replayed).hasSize(1);
        assertThat(replayed.get(0).value()).isEqualTo(value);
        assertThat(new String(replayed.get(0).headers().lastHeader(DeadLetterQueue.REPLAY_HEADER).value(), StandardCharsets.UTF_8))
                .isEqualTo("dl-r1");

        assertThat(fx.run(TraceCommand.class, "rs:5001").out()).as("trace tells a replay apart")
                .contains("order event (STORE_HOOK): status P").contains("(replay of dead letter dl-r1)")
                .contains("dead letter dl-r1 from deal-projector").contains("dead letter dl-r1 replayed and retired");

        OperationsFixture.Run list = fx.run(DeadLetterCommand.class, "list", "--site", "rs");
        assertThat(list.out()).doesNotContain("dl-r1").contains("dl-r2");

        OperationsFixture.Run second = fx.run(DeadLetterCommand.class, "replay", "--all", "--site", "rs");
        assertThat(second.out()).contains("0 replayed, 1 not replayed").doesNotContain("replayed dl-r1");
        assertThat(orderChangesWithKey("rs:5001")).as("nothing sent twice").hasSize(1);
    }

    @Test
    void replayOfOneIdTouchesOnlyThatOneAndAnUnknownIdIsAnErrorNamingIt() {
        Instant t = Instant.parse("2026-11-04T08:00:00Z");
        for (String id : List.of("dl-o1", "dl-o2")) {
            byte[] value = fx.topics.orderChanges().valueSerde().serializer().serialize(Topics.ORDER_CHANGES, order("os", 7, "N"));
            fx.send(fx.topics.deadLetters(), id, deadLetter(id, "os", Topics.ORDER_CHANGES, "os:7".getBytes(StandardCharsets.UTF_8), value,
                    "boom", t), t.toEpochMilli());
        }

        OperationsFixture.Run one = fx.run(DeadLetterCommand.class, "replay", "dl-o2");
        assertThat(one.exitCode()).as(one.err()).isZero();
        assertThat(one.out()).contains("replayed dl-o2").contains("1 replayed, 0 not replayed");
        assertThat(fx.run(DeadLetterCommand.class, "list", "--site", "os").out()).contains("dl-o1").doesNotContain("dl-o2");

        OperationsFixture.Run again = fx.run(DeadLetterCommand.class, "replay", "dl-o2");
        assertThat(again.exitCode()).isEqualTo(1);
        assertThat(again.err()).contains("no current dead letter has id 'dl-o2'");
        assertThat(orderChangesWithKey("os:7")).hasSize(1);
    }

    @Test
    void replayNeedsAnIdOrAll() {
        assertThat(fx.run(DeadLetterCommand.class, "replay").exitCode()).isEqualTo(2);
    }
}
