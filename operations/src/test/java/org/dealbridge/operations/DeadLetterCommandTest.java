package org.dealbridge.operations;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.schemas.Buyer;
import org.dealbridge.schemas.ChangeCause;
import org.dealbridge.schemas.ChangeSource;
import org.dealbridge.schemas.DeadLetter;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.DealCommandKind;
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
        assertThat(fx.run(DeadLetterCommand.class, "list", "--site", "rs", "--gone").out()).contains("dl-r1").contains("replayed");

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

    static DealCommand command(String site, long orderId, String price) {
        return DealCommand.newBuilder().setCommandId("c-" + orderId + "-" + price).setKind(DealCommandKind.CREATE).setSiteId(site)
                .setOrderId(orderId).setOriginatorId("dealbridge:" + site).setFields(java.util.Map.of("OPPORTUNITY", price))
                .setMappingVersion(1).setSourceTime(Instant.parse("2026-11-01T10:00:00Z")).build();
    }

    @Test
    void replayOfARefusedCommandNeverSendsTheCommandButPublishesThePairsLatestEventOnceSoItIsDecidedAgain() {
        Instant t = Instant.parse("2026-11-05T08:00:00Z");
        String key = "rc:9";
        byte[] older = fx.topics.orderChanges().valueSerde().serializer().serialize(Topics.ORDER_CHANGES, order("rc", 9, "N"));
        byte[] latest = fx.topics.orderChanges().valueSerde().serializer().serialize(Topics.ORDER_CHANGES, order("rc", 9, "P"));
        fx.sendBytes(Topics.ORDER_CHANGES, key, older, t.toEpochMilli());
        fx.sendBytes(Topics.ORDER_CHANGES, key, latest, t.toEpochMilli() + 1);
        for (String id : List.of("dl-c1", "dl-c2")) {
            byte[] stale = fx.topics.dealCommands().valueSerde().serializer().serialize(Topics.DEAL_COMMANDS, command("rc", 9, "100.00"));
            DeadLetter letter = DeadLetter.newBuilder(deadLetter(id, "rc", Topics.DEAL_COMMANDS, key.getBytes(StandardCharsets.UTF_8), stale,
                    "crm.item.update failed (invalid): Pipeline 4 not found", t)).setComponent("crm-connector").build();
            fx.send(fx.topics.deadLetters(), id, letter, t.toEpochMilli());
        }
        byte[] orphan = fx.topics.dealCommands().valueSerde().serializer().serialize(Topics.DEAL_COMMANDS, command("rc", 10, "5.00"));
        fx.send(fx.topics.deadLetters(), "dl-c3", deadLetter("dl-c3", "rc", Topics.DEAL_COMMANDS, "rc:10".getBytes(StandardCharsets.UTF_8),
                orphan, "refused", t), t.toEpochMilli());
        byte[] unreadable = "not avro".getBytes(StandardCharsets.UTF_8);
        fx.send(fx.topics.deadLetters(), "dl-c4", deadLetter("dl-c4", "rc", Topics.DEAL_COMMANDS, "rc:11".getBytes(StandardCharsets.UTF_8),
                unreadable, "cannot be read as a command", t), t.toEpochMilli());

        OperationsFixture.Run run = fx.run(DeadLetterCommand.class, "replay", "--all", "--site", "rc");

        assertThat(run.out()).contains("replayed dl-c1 to order-changes (the latest event of rc:9, decided again)")
                .contains("replayed dl-c2 to order-changes (rc:9 is decided again by another dead letter of this replay)")
                .contains("replayed dl-c4 to deal-commands").contains("3 replayed, 1 not replayed");
        assertThat(run.err()).contains("dl-c3: the command on deal-commands is not sent again").contains("no order-changes event of rc:10");
        List<ConsumerRecord<String, byte[]>> events = orderChangesWithKey(key);
        assertThat(events).as("the latest event once more, not one per dead letter").hasSize(3);
        assertThat(events.get(2).value()).as("the latest state, never the stale command's").isEqualTo(latest);
        assertThat(new String(events.get(2).headers().lastHeader(DeadLetterQueue.REPLAY_HEADER).value(), StandardCharsets.UTF_8))
                .isEqualTo("dl-c1");
        List<ConsumerRecord<String, byte[]>> commands = new TopicScan(KAFKA.clientProperties()).read(Topics.DEAL_COMMANDS, k -> k.startsWith("rc:"));
        assertThat(commands).as("no command is sent again; only the unreadable record goes back as it was").hasSize(1);
        assertThat(commands.get(0).value()).isEqualTo(unreadable);
        assertThat(new DeadLetterQueue(KAFKA.clientProperties(), fx.topics).current("rc")).extracting(DeadLetter::getId).containsExactly("dl-c3");
    }

    @Test
    void aNewerEventArrivingWhileItsPairIsReplayedIsPublishedAgainAfterTheReplaySoTheNewestStateIsDecidedLast() {
        Instant t = Instant.parse("2026-11-07T08:00:00Z");
        String key = "rw:3";
        byte[] old = fx.topics.orderChanges().valueSerde().serializer().serialize(Topics.ORDER_CHANGES, order("rw", 3, "N"));
        byte[] newer = fx.topics.orderChanges().valueSerde().serializer().serialize(Topics.ORDER_CHANGES, order("rw", 3, "F"));
        fx.sendBytes(Topics.ORDER_CHANGES, key, old, t.toEpochMilli());
        byte[] stale = fx.topics.dealCommands().valueSerde().serializer().serialize(Topics.DEAL_COMMANDS, command("rw", 3, "100.00"));
        fx.send(fx.topics.deadLetters(), "dl-w1", deadLetter("dl-w1", "rw", Topics.DEAL_COMMANDS, key.getBytes(StandardCharsets.UTF_8), stale,
                "refused", t), t.toEpochMilli());
        // the store saves the order again right after the replay read its latest event, before the replay publishes it
        DeadLetterQueue queue = new DeadLetterQueue(KAFKA.clientProperties(), fx.topics, Map.of(),
                () -> fx.sendBytes(Topics.ORDER_CHANGES, key, newer, t.toEpochMilli() + 1));

        assertThat(queue.replay(queue.current("rw")).replayed()).extracting(DeadLetter::getId).containsExactly("dl-w1");

        List<ConsumerRecord<String, byte[]>> events = orderChangesWithKey(key);
        assertThat(events).extracting(ConsumerRecord::value).as("the old event, the newer one, the replayed old one, the newer one again")
                .containsExactly(old, newer, old, newer);
    }

    @Test
    void retireFromTheCommandLineNeedsANoteSaysWhatItRetiredAndRefusesAnUnknownId() {
        Instant t = Instant.parse("2026-11-06T08:00:00Z");
        fx.send(fx.topics.deadLetters(), "dl-x1", deadLetter("dl-x1", "rx", Topics.ORDER_CHANGES, null, null, "a test order", t), t.toEpochMilli());

        assertThat(fx.run(DeadLetterCommand.class, "retire", "dl-x1").exitCode()).as("--note is required").isEqualTo(2);
        OperationsFixture.Run unknown = fx.run(DeadLetterCommand.class, "retire", "dl-nope", "--note", "why");
        assertThat(unknown.exitCode()).isEqualTo(1);
        assertThat(unknown.err()).contains("no current dead letter has id 'dl-nope'");

        OperationsFixture.Run retired = fx.run(DeadLetterCommand.class, "retire", "dl-x1", "--note", "fixed by hand in the CRM");
        assertThat(retired.exitCode()).as(retired.err()).isZero();
        assertThat(retired.out()).contains("retired dl-x1 without replay (deal-projector: a test order [ERROR_CORE]): fixed by hand in the CRM");
        assertThat(fx.run(DeadLetterCommand.class, "list", "--site", "rx").out()).contains("0 dead letter(s)");
        assertThat(fx.run(DeadLetterCommand.class, "list", "--site", "rx", "--gone").out())
                .contains("dl-x1").contains("retired by cli:").contains(": fixed by hand in the CRM").contains("1 replayed or retired for site rx");
    }

    @Test
    void replayNeedsAnIdOrAll() {
        assertThat(fx.run(DeadLetterCommand.class, "replay").exitCode()).isEqualTo(2);
    }
}
