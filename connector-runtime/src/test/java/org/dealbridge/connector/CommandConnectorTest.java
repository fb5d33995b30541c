package org.dealbridge.connector;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.schemas.DeadLetter;
import org.dealbridge.schemas.OrderCommand;
import org.dealbridge.schemas.OrderCommandKind;
import org.dealbridge.schemas.Outcome;
import org.dealbridge.schemas.SyncDirection;
import org.dealbridge.schemas.SyncLink;
import org.dealbridge.schemas.SyncOutcome;
import org.dealbridge.schemas.Topics;
import org.dealbridge.schemas.registry.InMemorySchemaRegistry;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The runtime on a real broker, with a connector whose "other side" is a list in memory. Each test has a commands topic
 * of its own; outcomes and dead letters share the standard topics and are told apart by command id and source topic.
 */
class CommandConnectorTest {

    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();

    static final Topics topics = new Topics(new InMemorySchemaRegistry());
    static KafkaProducer<String, byte[]> producer;

    @BeforeAll
    static void start() throws Exception {
        for (Topics.Definition d : Topics.DEFINITIONS) {
            KAFKA.createTopics(1, d.configs(), d.name());
        }
        producer = new KafkaProducer<>(kafka(), new StringSerializer(), new ByteArraySerializer());
    }

    @Test
    void anUnreadableRecordIsDeadLetteredWithItsPlaceAndTheNextCommandRuns(TestInfo test) throws Exception {
        Topics.Topic<String, OrderCommand> commands = commandsTopic(test);
        long pill = producer.send(new ProducerRecord<>(commands.name(), "7", "not Avro".getBytes(StandardCharsets.UTF_8))).get().offset();
        send(commands, command("after-pill"));
        long failing = send(commands, command("fails-for-good"));
        TestConnector connector = new TestConnector(commands, Duration.ofMillis(100));
        connector.deadLettered.add("fails-for-good");
        try (Running ignored = connector.started()) {
            await("the command after the poison pill is executed", () -> outcomesOf("after-pill").size() == 1);
            await("the failed command is dead-lettered", () -> !deadLettersFrom(commands, failing).isEmpty());
        }

        assertThat(deadLettersFrom(commands, pill)).singleElement().satisfies(letter -> {
            assertThat(letter.getComponent()).isEqualTo(TestConnector.COMPONENT);
            assertThat(letter.getSourceTopic()).isEqualTo(commands.name());
            assertThat(letter.getSourcePartition()).isZero();
            assertThat(letter.getReason()).contains("cannot be read", commands.name(), "offset " + pill);
            assertThat(new String(letter.getValue().array(), StandardCharsets.UTF_8)).isEqualTo("not Avro");
            assertThat(new String(letter.getKey().array(), StandardCharsets.UTF_8)).isEqualTo("7");
        });
        assertThat(deadLettersFrom(commands, failing)).singleElement().satisfies(letter -> {
            assertThat(letter.getSiteId()).isEqualTo("s1");
            assertThat(letter.getReason()).isEqualTo("refused: fails-for-good");
            assertThat(topics.orderCommands().valueSerde().deserializer().deserialize(commands.name(), letter.getValue().array())
                    .getCommandId()).isEqualTo("fails-for-good");
        });
        assertThat(outcomesOf("fails-for-good")).singleElement().satisfies(o -> assertThat(o.getOutcome()).isEqualTo(Outcome.DEAD_LETTERED));
        assertThat(connector.restarts()).isZero();
    }

    @Test
    void aConnectorWhoseExecutorThrowsIsRestartedAndTheCommandRunsOnce(TestInfo test) throws Exception {
        Topics.Topic<String, OrderCommand> commands = commandsTopic(test);
        send(commands, command("crashes-once"));
        TestConnector connector = new TestConnector(commands, Duration.ofMillis(100));
        connector.crashesLeft.put("crashes-once", new AtomicInteger(2));
        try (Running ignored = connector.started()) {
            await("the command is executed after the restarts", () -> outcomesOf("crashes-once").size() == 1);
        }

        assertThat(connector.restarts()).isEqualTo(2.0);
        List<Instant> calls = connector.calls.get("crashes-once");
        assertThat(calls).hasSize(3);
        // the second restart waits about twice as long as the first (200 ms +-50% after 100 ms +-50%)
        assertThat(Duration.between(calls.get(0), calls.get(1))).isGreaterThanOrEqualTo(Duration.ofMillis(50));
        assertThat(Duration.between(calls.get(1), calls.get(2))).isGreaterThanOrEqualTo(Duration.ofMillis(100));
        assertThat(outcomesOf("crashes-once")).singleElement().satisfies(o -> assertThat(o.getOutcome()).isEqualTo(Outcome.UPDATED));
    }

    @Test
    void recordsPublishedBeforeACallAreCommittedAtOnceAndStayWhenThePollIsExecutedAgain(TestInfo test) throws Exception {
        // the CRM connector's move intents: durable before the call, whatever becomes of the poll's own transaction
        Topics.Topic<String, OrderCommand> commands = commandsTopic(test);
        send(commands, command("publishes-then-crashes"));
        TestConnector connector = new TestConnector(commands, Duration.ofMillis(100));
        connector.publishesBeforeTheCall.add("publishes-then-crashes");
        connector.crashesLeft.put("publishes-then-crashes", new AtomicInteger(1));
        try (Running ignored = connector.started()) {
            await("the command is published after the restart", () -> outcomesOf("publishes-then-crashes").size() == 1);
        }

        assertThat(connector.committedBeforeTheCall).as("read_committed sees it inside execute, before the call, each time")
                .containsExactly(true, true);
        assertThat(readAll(topics.dealLinks()).stream().filter(l -> l.getOrderId() == 70 && "before-call".equals(l.getSiteId())))
                .as("one per execution: the crashed poll's stays").hasSize(2);
        assertThat(outcomesOf("publishes-then-crashes")).hasSize(1);
    }

    @Test
    void aFailedTransactionIsRewoundAndNothingIsLostOrPublishedTwice(TestInfo test) throws Exception {
        Topics.Topic<String, OrderCommand> commands = commandsTopic(test);
        send(commands, command("first-transaction-fails"));
        send(commands, command("same-poll"));
        TestConnector connector = new TestConnector(commands, Duration.ofMillis(100));
        connector.oversizedExtraLeft.set(1);
        try (Running ignored = connector.started()) {
            await("both commands are published", () -> outcomesOf("first-transaction-fails").size() == 1
                    && outcomesOf("same-poll").size() == 1);
            // a later poll commits after the rewind: the first outcomes are not followed by duplicates
            send(commands, command("later"));
            await("a later command is published", () -> outcomesOf("later").size() == 1);
        }

        assertThat(connector.calls.get("first-transaction-fails")).as("executed again after the abort").hasSize(2);
        assertThat(connector.calls.get("same-poll")).isNotEmpty();
        assertThat(outcomesOf("first-transaction-fails")).hasSize(1);
        assertThat(outcomesOf("same-poll")).hasSize(1);
        assertThat(connector.restarts()).as("an aborted transaction is rewound, not restarted").isZero();
    }

    /**
     * An instance killed in the middle of a transaction leaves it open; read_committed readers of what it wrote to
     * (sync-outcomes here) see nothing after it until it ends. The successor that is assigned the partition must end it
     * at once (its producer has the same transactional id), not after the dead one's transaction timeout (60 s here).
     */
    @Test
    void aKilledInstancesOpenTransactionIsAbortedByItsSuccessorAtOnce(TestInfo test) throws Exception {
        Topics.Topic<String, OrderCommand> commands = commandsTopic(test);
        TestConnector successor = new TestConnector(commands, Duration.ofMillis(100));
        Properties dead = kafka();
        dead.put("transactional.id", ConnectorLoop.transactionalId(successor.config, new org.apache.kafka.common.TopicPartition(commands.name(), 0)));
        dead.put("transaction.timeout.ms", "60000");
        KafkaProducer<String, byte[]> killed = new KafkaProducer<>(dead, new StringSerializer(), new ByteArraySerializer());
        try {
            killed.initTransactions();
            killed.beginTransaction();
            killed.send(new ProducerRecord<>(topics.syncOutcomes().name(), "s1:70", new byte[] {0})).get();  // never committed
            send(commands, command("after-the-kill"));
            long started = System.nanoTime();
            try (Running ignored = successor.started()) {
                await("the successor's outcome is readable", () -> outcomesOf("after-the-kill").size() == 1);
            }
            assertThat(Duration.ofNanos(System.nanoTime() - started)).as("not held until the dead transaction's timeout")
                    .isLessThan(Duration.ofSeconds(30));
            assertThat(org.assertj.core.api.Assertions.catchThrowable(killed::commitTransaction)).as("the dead instance's producer is fenced")
                    .isInstanceOf(org.apache.kafka.common.KafkaException.class);
        } finally {
            killed.close(Duration.ZERO);
        }
    }

    @Test
    void closeStopsAConnectorWaitingInPoll(TestInfo test) throws Exception {
        Topics.Topic<String, OrderCommand> commands = commandsTopic(test);
        send(commands, command("before-close"));
        TestConnector connector = new TestConnector(commands, Duration.ofSeconds(60));
        Thread thread = new Thread(connector, "test-connector");
        thread.start();
        await("the connector runs", () -> outcomesOf("before-close").size() == 1);

        long started = System.nanoTime();
        connector.close();
        thread.join(10_000);

        assertThat(thread.isAlive()).isFalse();
        assertThat(Duration.ofNanos(System.nanoTime() - started)).as("woken up, not waiting out the 60 s poll")
                .isLessThan(Duration.ofSeconds(10));
        assertThat(connector.restarts()).isZero();
    }

    /**
     * The side stays unreachable for longer than the connector's rounds and its longest poll interval: the command waits
     * (nothing dead-lettered, nothing after it in its partition committed or published), the consumer keeps polling its
     * paused partitions so it stays in its group (max.poll.interval.ms is shorter than every wait here), and once the
     * side is back the command and those after it are published once each, in order.
     */
    @Test
    void aCommandWhoseSideIsUnreachableWaitsPausedAndRunsOnceTheSideIsBack(TestInfo test) throws Exception {
        Topics.Topic<String, OrderCommand> commands = commandsTopic(test);
        send(commands, command("before-outage"));
        long waiting = send(commands, command("side-down"));
        send(commands, command("after-in-partition"));
        Properties kafka = kafka();
        kafka.put("max.poll.interval.ms", "1000");
        // every wait is 1.25..2.5 s: longer than max.poll.interval.ms, so a loop that stopped polling would leave its group
        TestConnector connector = new TestConnector(commands, Duration.ofMillis(100),
                Map.of("test.initial-backoff", "2500", "test.max-backoff", "2500", "test.unreachable-backoff-max", "2500"), kafka);
        connector.unreachable.add("side-down");
        try (Running ignored = connector.started(); Admin admin = Admin.create(kafka())) {
            await("the side-down command is tried three times", () -> connector.calls.getOrDefault("side-down", List.of()).size() >= 3);
            assertThat(outcomesOf("before-outage")).as("the command before the waiting one is published").hasSize(1);
            assertThat(outcomesOf("side-down")).isEmpty();
            assertThat(outcomesOf("after-in-partition")).as("executed but not published while the command before it waits").isEmpty();
            assertThat(connector.calls.get("after-in-partition")).hasSizeGreaterThanOrEqualTo(2);
            assertThat(committedOffset(admin, commands)).as("committed up to the waiting command, never past it").isEqualTo(waiting);
            assertThat(connector.unreachableSince()).isPresent();
            assertThat(connector.unreachableSeconds()).isGreaterThan(0);
            List<Instant> tries = connector.calls.get("side-down");
            for (int i = 1; i < tries.size(); i++) {
                assertThat(Duration.between(tries.get(i - 1), tries.get(i))).as("a wait between two tries").isGreaterThanOrEqualTo(Duration.ofMillis(1200));
            }

            connector.unreachable.remove("side-down");
            await("the waiting command and the one after it are published", () -> outcomesOf("side-down").size() == 1
                    && outcomesOf("after-in-partition").size() == 1);
            await("the offsets are committed past them", () -> committedOffset(admin, commands) == waiting + 2);
        }

        assertThat(deadLettersFrom(commands, waiting)).as("an unreachable side never dead-letters").isEmpty();
        assertThat(outcomesOf("side-down")).singleElement().satisfies(o -> assertThat(o.getOutcome()).isEqualTo(Outcome.UPDATED));
        assertThat(outcomesOf("after-in-partition")).hasSize(1);
        List<String> order = readAll(topics.syncOutcomes()).stream().map(o -> String.valueOf(o.getCommandId()))
                .filter(id -> id.equals("side-down") || id.equals("after-in-partition")).toList();
        assertThat(order).containsExactly("side-down", "after-in-partition");
        assertThat(connector.restarts()).as("the consumer stayed in its group while it waited").isZero();
        assertThat(connector.unreachableSince()).isEmpty();
        assertThat(connector.unreachableSeconds()).isZero();
    }

    /**
     * A second instance joins while the first waits for the side: the partitions are split between them, each starts
     * from the committed offsets, and once the side is back every command is published exactly once.
     */
    @Test
    void aRebalanceWhileWaitingLosesAndDuplicatesNothing(TestInfo test) throws Exception {
        Topics.Topic<String, OrderCommand> commands = commandsTopic(test, 2);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            OrderCommand c = OrderCommand.newBuilder(command("rebalance-" + i)).setDealId(100 + i).build();
            send(commands, c);
            ids.add("rebalance-" + i);
        }
        Map<String, String> settings = Map.of("test.initial-backoff", "300", "test.unreachable-backoff-max", "600");
        TestConnector first = new TestConnector(commands, Duration.ofMillis(100), settings, kafka());
        TestConnector second = new TestConnector(commands, Duration.ofMillis(100), settings, kafka());
        // every command waits, so whichever partition the second instance is given, it has commands to run
        first.unreachable.addAll(ids);
        second.unreachable.addAll(ids);
        try (Running a = first.started()) {
            await("the first instance waits", () -> first.unreachableSince().isPresent());
            try (Running b = second.started()) {
                await("the second instance owns a partition", () -> !second.calls.isEmpty());
                first.unreachable.clear();
                second.unreachable.clear();
                await("every command is published", () -> ids.stream().allMatch(id -> !outcomesOf(id).isEmpty()));
            }
        }

        for (String id : ids) {
            assertThat(outcomesOf(id)).as(id).hasSize(1);
        }
        assertThat(readAll(topics.deadLetters()).stream().filter(d -> commands.name().equals(d.getSourceTopic()))).isEmpty();
    }

    /**
     * The side's rate budget holds the next call while more commands arrive: they are executed, and committed, with the
     * command already polled, in one execution (the old loop executed the first alone and left the others to a later
     * call). The budget opens only once the consumer has returned every command sent, so the test does not race it.
     */
    @Test
    void commandsArrivingWhileTheSidesBudgetHoldsTheNextCallAreExecutedWithTheCommandAlreadyPolled(TestInfo test) throws Exception {
        Topics.Topic<String, OrderCommand> commands = commandsTopic(test);
        List<String> ids = List.of("polled-first", "meanwhile-1", "meanwhile-2", "meanwhile-3", "meanwhile-4");
        TestConnector connector = new TestConnector(commands, Duration.ofMillis(100));
        connector.mostCommandsGathered = 1000;
        connector.budgetOpensAfterConsuming = ids.size();
        send(commands, command(ids.get(0)));
        try (Running ignored = connector.started()) {
            await("the connector holds the first command and waits for its budget", () -> connector.budgetAsked.get() > 0);
            for (String id : ids.subList(1, ids.size())) {
                send(commands, command(id));
            }
            await("every command is published", () -> ids.stream().allMatch(id -> outcomesOf(id).size() == 1));
        }

        assertThat(connector.executions).as("one execution carried every command, in order").containsExactly(ids);
        assertThat(connector.restarts()).isZero();
    }

    /**
     * Commands already waiting in the topic are executed together, several polls' worth, up to the connector's bound
     * (two polls here), rather than one poll at a time; the rest follow in order.
     */
    @Test
    void commandsAlreadyPendingAreExecutedTogetherUpToTheConnectorsBound(TestInfo test) throws Exception {
        Topics.Topic<String, OrderCommand> commands = commandsTopic(test);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 250; i++) {
            ids.add("pending-" + i);
            producer.send(new ProducerRecord<>(commands.name(), "7", commands.valueSerde().serializer()
                    .serialize(commands.name(), command("pending-" + i))));
        }
        producer.flush();
        TestConnector connector = new TestConnector(commands, Duration.ofMillis(100));
        connector.mostCommandsGathered = 200;
        try (Running ignored = connector.started()) {
            await("every command is executed", () -> connector.executions.stream().mapToInt(List::size).sum() == 250);
        }

        assertThat(connector.executions.get(0)).as("two polls of 100 in one execution").isEqualTo(ids.subList(0, 200));
        assertThat(connector.executions.stream().flatMap(List::stream).toList()).isEqualTo(ids);
    }

    /**
     * A second instance joins while the first gathers commands of both partitions, its budget holding the call: the
     * first gives up what it gathered of the partitions taken from it (even one given back to it, which it reads again
     * from the last commit), so every command is published once and the first instance never commits for a
     * partition it no longer owns (it would die: no producer for it).
     */
    @Test
    void aRebalanceWhileGatheringLosesAndDuplicatesNothing(TestInfo test) throws Exception {
        Topics.Topic<String, OrderCommand> commands = commandsTopic(test, 2);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            send(commands, OrderCommand.newBuilder(command("gathered-" + i)).setDealId(200 + i).build());
            ids.add("gathered-" + i);
        }
        TestConnector first = new TestConnector(commands, Duration.ofMillis(100));
        first.mostCommandsGathered = 1000;
        first.budgetOpensAfterConsuming = Integer.MAX_VALUE;
        TestConnector second = new TestConnector(commands, Duration.ofMillis(100));
        try (Running a = first.started()) {
            await("the first instance holds commands and waits for its budget", () -> first.budgetAsked.get() > 0);
            try (Running b = second.started()) {
                await("the second instance runs the commands of its partition", () -> !second.calls.isEmpty());
                first.budgetOpensAfterConsuming = 0;
                await("every command is published", () -> ids.stream().allMatch(id -> !outcomesOf(id).isEmpty()));
            }
        }

        for (String id : ids) {
            assertThat(outcomesOf(id)).as(id).hasSize(1);
        }
        assertThat(first.restarts()).as("never committed for a partition it had lost").isZero();
        assertThat(second.calls.keySet()).as("each instance ran a partition").isNotEmpty().isNotEqualTo(java.util.Set.copyOf(ids));
    }

    /**
     * A connector that looks ahead is handed, with the commands it executes, the ones polled after them while its call
     * waited for the budget; those are executed next, each once, in order.
     */
    @Test
    void aConnectorThatLooksAheadIsHandedTheNextCommandsAndExecutesThemNextEachOnce(TestInfo test) throws Exception {
        Topics.Topic<String, OrderCommand> commands = commandsTopic(test);
        TestConnector connector = lookingAhead(commands, 3);
        send(commands, command("executed-first"));
        try (Running ignored = connector.started()) {
            await("the connector holds the first command and gathers the next while its budget holds the call",
                    () -> connector.budgetAsked.get() > 0);
            send(commands, command("next-1"));
            send(commands, command("next-2"));
            await("every command is published", () -> List.of("executed-first", "next-1", "next-2").stream()
                    .allMatch(id -> outcomesOf(id).size() == 1));
        }

        assertThat(connector.executions).containsExactly(List.of("executed-first"), List.of("next-1", "next-2"));
        assertThat(connector.nexts).containsExactly(List.of("next-1", "next-2"), List.of());
        assertThat(connector.restarts()).isZero();
    }

    /**
     * The transaction of the executed commands fails: their partition is read again from its last commit, so the
     * commands read ahead of it are dropped and read again after them, not executed before them and then once more.
     */
    @Test
    void aFailedTransactionDropsTheCommandsReadAheadOfItsPartitionAndNothingRunsTwice(TestInfo test) throws Exception {
        Topics.Topic<String, OrderCommand> commands = commandsTopic(test);
        TestConnector connector = lookingAhead(commands, 2);
        connector.oversizedExtraLeft.set(1);
        send(commands, command("transaction-fails"));
        try (Running ignored = connector.started()) {
            await("the connector holds the first command", () -> connector.budgetAsked.get() > 0);
            send(commands, command("read-ahead"));
            await("both are published", () -> outcomesOf("transaction-fails").size() == 1 && outcomesOf("read-ahead").size() == 1);
            send(commands, command("later-than-the-read-ahead"));
            await("a later command is published", () -> outcomesOf("later-than-the-read-ahead").size() == 1);
        }

        assertThat(connector.nexts.get(0)).as("read ahead when the transaction failed").containsExactly("read-ahead");
        assertThat(connector.calls.get("transaction-fails")).as("executed again after the abort").hasSize(2);
        assertThat(connector.calls.get("read-ahead")).as("executed once, after the command before it").hasSize(1);
        assertThat(outcomesOf("transaction-fails")).hasSize(1);
        assertThat(outcomesOf("read-ahead")).hasSize(1);
        assertThat(connector.restarts()).isZero();
    }

    /** A connector that looks ahead, whose budget holds its first call until its consumer has returned that many records. */
    private static TestConnector lookingAhead(Topics.Topic<String, OrderCommand> commands, int budgetOpensAfterConsuming) {
        TestConnector connector = new TestConnector(commands, Duration.ofMillis(100));
        connector.looksAhead = true;
        connector.mostCommandsGathered = 1000;
        connector.budgetOpensAfterConsuming = budgetOpensAfterConsuming;
        return connector;
    }

    static long committedOffset(Admin admin, Topics.Topic<String, OrderCommand> commands) {
        try {
            var offsets = admin.listConsumerGroupOffsets("group-" + commands.name()).partitionsToOffsetAndMetadata().get();
            var offset = offsets.get(new org.apache.kafka.common.TopicPartition(commands.name(), 0));
            return offset == null ? -1 : offset.offset();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    // --- the connector under test -------------------------------------------------------------------------------

    record TestResult(OrderCommand command, Outcome outcome, String reason, SyncLink link, boolean written, String errorCode,
                      int attempts, boolean unreachable) implements CommandResult<OrderCommand> {
        TestResult(OrderCommand command, Outcome outcome, String reason, SyncLink link, boolean written, String errorCode, int attempts) {
            this(command, outcome, reason, link, written, errorCode, attempts, false);
        }
    }

    static final class TestConfig extends ConnectorConfig {
        static final ConfigDef DEFINITION = ConnectorConfig.define(new ConfigDef(), "test", "test connector", "test command", "key",
                "test-commands", "test-connector");

        TestConfig(Map<?, ?> values) {
            super(DEFINITION, values, "test");
        }
    }

    /** Executes a command by recording the call; may crash, refuse, or add an oversized record to the transaction. */
    static final class TestConnector extends CommandConnector<OrderCommand, TestResult> {
        static final String COMPONENT = "test-connector";
        final SimpleMeterRegistry meters;
        final Map<String, List<Instant>> calls = new ConcurrentHashMap<>();
        final Map<String, AtomicInteger> crashesLeft = new ConcurrentHashMap<>();
        final List<String> deadLettered = new CopyOnWriteArrayList<>();
        final AtomicInteger oversizedExtraLeft = new AtomicInteger();
        /** Commands that publish a link with {@link #publishBeforeCall} before their call. */
        final java.util.Set<String> publishesBeforeTheCall = ConcurrentHashMap.newKeySet();
        /** For each such call: whether a read_committed reader saw that link when the call was made. */
        final List<Boolean> committedBeforeTheCall = new CopyOnWriteArrayList<>();
        /** Commands whose side is unreachable for now: they end as {@link CommandResult#unreachable()}. */
        final java.util.Set<String> unreachable = ConcurrentHashMap.newKeySet();
        /** The command ids of each execution, in order. */
        final List<List<String>> executions = new CopyOnWriteArrayList<>();
        volatile int mostCommandsGathered = 100;
        /** Whether it asks the runtime for the next commands ({@link #looksAhead()}). */
        volatile boolean looksAhead;
        /** The command ids handed as the next ones with each execution, in order. */
        final List<List<String>> nexts = new CopyOnWriteArrayList<>();
        /** The side's budget holds every call until the consumer has returned this many records (0: never holds). */
        volatile int budgetOpensAfterConsuming;
        final AtomicInteger budgetAsked = new AtomicInteger();

        TestConnector(Topics.Topic<String, OrderCommand> commands, Duration pollTimeout) {
            this(commands, pollTimeout, Map.of(), CommandConnectorTest.kafka());
        }

        /** @param settings more connector settings ({@code test.*}); @param kafka the client properties */
        TestConnector(Topics.Topic<String, OrderCommand> commands, Duration pollTimeout, Map<String, String> settings, Properties kafka) {
            this(commands, pollTimeout, settings, kafka, new SimpleMeterRegistry());
        }

        private TestConnector(Topics.Topic<String, OrderCommand> commands, Duration pollTimeout, Map<String, String> settings,
                              Properties kafka, SimpleMeterRegistry meters) {
            super(COMPONENT, SyncDirection.DEAL_TO_ORDER, commands, 100, new TestConfig(config(commands, pollTimeout, settings)),
                    CommandConnectorTest.topics, kafka, meters, Clock.systemUTC(), new RestartBackoff(Duration.ofMillis(100), Duration.ofSeconds(2)));
            this.meters = meters;
        }

        private static Map<String, String> config(Topics.Topic<String, OrderCommand> commands, Duration pollTimeout, Map<String, String> settings) {
            Map<String, String> config = new java.util.HashMap<>(settings);
            config.put("test.poll-timeout", Long.toString(pollTimeout.toMillis()));
            config.put("test.connector.group-id", "group-" + commands.name());
            return config;
        }

        @Override
        protected boolean looksAhead() {
            return looksAhead;
        }

        @Override
        protected List<Executed<OrderCommand, TestResult>> execute(List<ConsumerRecord<String, OrderCommand>> records,
                                                                 List<ConsumerRecord<String, OrderCommand>> next) {
            nexts.add(next.stream().map(r -> r.value().getCommandId().toString()).toList());
            return execute(records);
        }

        @Override
        protected List<Executed<OrderCommand, TestResult>> execute(List<ConsumerRecord<String, OrderCommand>> records) {
            List<Executed<OrderCommand, TestResult>> executed = new ArrayList<>();
            executions.add(records.stream().map(r -> r.value().getCommandId().toString()).toList());
            for (ConsumerRecord<String, OrderCommand> record : records) {
                String id = record.value().getCommandId();
                calls.computeIfAbsent(id, k -> new CopyOnWriteArrayList<>()).add(Instant.now());
                if (publishesBeforeTheCall.contains(id)) {
                    publishBeforeTheCall(record);
                }
                AtomicInteger crashes = crashesLeft.get(id);
                if (crashes != null && crashes.getAndDecrement() > 0) {
                    throw new IllegalStateException("the executor crashes on " + id);
                }
                executed.add(new Executed<>(record, unreachable.contains(id)
                        ? new TestResult(record.value(), Outcome.OTHER, "unreachable: " + id, null, false, "ConnectException", 6, true)
                        : deadLettered.contains(id)
                        ? new TestResult(record.value(), Outcome.DEAD_LETTERED, "refused: " + id, null, false, "REFUSED", 1)
                        : new TestResult(record.value(), Outcome.UPDATED, "written: " + id, null, true, null, 1)));
            }
            return executed;
        }

        private void publishBeforeTheCall(ConsumerRecord<String, OrderCommand> record) {
            String marker = "published at " + System.nanoTime();
            SyncLink link = SyncLink.newBuilder().setSiteId("before-call").setOrderId(record.value().getOrderId()).setDealId(7)
                    .setCategoryId(0).setStageId(marker).setStatusId("P").setUpdatedAt(Instant.now()).build();
            Topics.Topic<String, SyncLink> links = CommandConnectorTest.topics.dealLinks();
            byte[] value = links.valueSerde().serializer().serialize(links.name(), link);
            publishBeforeCall(new org.apache.kafka.common.TopicPartition(record.topic(), record.partition()),
                    List.of(new ProducerRecord<>(links.name(), "before-call:" + record.value().getCommandId(), value)));
            // the connector's thread is here, inside execute, so no poll transaction can commit meanwhile: what a
            // read_committed reader sees now was committed by publishBeforeCall (its markers may trail its return by ms)
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            boolean seen;
            while (!(seen = readAll(links).stream().anyMatch(l -> marker.equals(l.getStageId()))) && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            committedBeforeTheCall.add(seen);
        }

        @Override
        protected Duration untilNextCall() {
            if (budgetOpensAfterConsuming == 0) {
                return Duration.ZERO;
            }
            budgetAsked.incrementAndGet();
            return recordsConsumed() < budgetOpensAfterConsuming ? Duration.ofHours(1) : Duration.ZERO;
        }

        @Override
        protected int mostCommandsGathered() {
            return mostCommandsGathered;
        }

        /** The records the connector's consumer has returned from its polls (its own Kafka metric, bound by the runtime). */
        private double recordsConsumed() {
            return meters.find("kafka.consumer.fetch.manager.records.consumed.total").functionCounters().stream()
                    .mapToDouble(io.micrometer.core.instrument.FunctionCounter::count).max().orElse(0);
        }

        /** More than max.request.size (1 MB): the send fails and with it the transaction. */
        @Override
        protected List<ProducerRecord<String, byte[]>> extraRecords(TestResult result) {
            if (oversizedExtraLeft.getAndDecrement() > 0) {
                return List.of(new ProducerRecord<>(commands().name(), "oversized", new byte[2 * 1024 * 1024]));
            }
            return List.of();
        }

        private Topics.Topic<String, OrderCommand> commands() {
            return commands;
        }

        double unreachableSeconds() {
            return meters.get("dealbridge.portal.unreachable.seconds").tag("portal", "test").gauge().value();
        }

        double restarts() {
            return meters.counter("dealbridge.connector.restarts", "connector", COMPONENT).count();
        }

        Running started() {
            start();
            return () -> {
                close();
                assertThat(state()).isEqualTo(State.STOPPED);
            };
        }
    }

    interface Running extends AutoCloseable {
        @Override
        void close() throws InterruptedException;
    }

    // --- helpers -------------------------------------------------------------------------------------------------

    static Properties kafka() {
        Properties kafka = new Properties();
        kafka.put("bootstrap.servers", KAFKA.bootstrapServers());
        return kafka;
    }

    static Topics.Topic<String, OrderCommand> commandsTopic(TestInfo test) throws Exception {
        return commandsTopic(test, 1);
    }

    static Topics.Topic<String, OrderCommand> commandsTopic(TestInfo test, int partitions) throws Exception {
        String name = "commands-" + test.getTestMethod().orElseThrow().getName();
        KAFKA.createTopics(partitions, Map.of(), name);
        return new Topics.Topic<>(name, topics.orderCommands().keySerde(), topics.orderCommands().valueSerde());
    }

    static OrderCommand command(String id) {
        return OrderCommand.newBuilder().setCommandId(id).setKind(OrderCommandKind.UPDATE_STATUS).setSiteId("s1").setDealId(7)
                .setOrderId(70L).setStatusId("P").setMappingVersion(1).setSourceTime(Instant.now()).build();
    }

    static long send(Topics.Topic<String, OrderCommand> topic, OrderCommand command) throws Exception {
        return producer.send(new ProducerRecord<>(topic.name(), Long.toString(command.getDealId()),
                topic.valueSerde().serializer().serialize(topic.name(), command))).get().offset();
    }

    static List<SyncOutcome> outcomesOf(String commandId) {
        return readAll(topics.syncOutcomes()).stream().filter(o -> commandId.equals(o.getCommandId())).toList();
    }

    static List<DeadLetter> deadLettersFrom(Topics.Topic<String, OrderCommand> topic, long offset) {
        return readAll(topics.deadLetters()).stream()
                .filter(d -> topic.name().equals(d.getSourceTopic()) && d.getSourceOffset() != null && d.getSourceOffset() == offset)
                .toList();
    }

    static <V> List<V> readAll(Topics.Topic<String, V> topic) {
        return KAFKA.readCommitted(topic.name(), topic.keySerde().deserializer(), topic.valueSerde().deserializer()).stream()
                .map(ConsumerRecord::value).toList();
    }

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(50);
        }
    }
}
