package org.dealbridge.connector;

import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import org.dealbridge.schemas.KafkaClients;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.dealbridge.schemas.DeadLetter;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.Outcome;
import org.dealbridge.schemas.SyncMetrics;
import org.dealbridge.schemas.SyncLink;
import org.dealbridge.schemas.SyncOutcome;
import org.dealbridge.schemas.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run of a {@link CommandConnector}: its consumer and one transactional producer per assigned partition, from the
 * last commit until it is stopped or dies. A restart is a new run (new clients), so nothing of a broken producer or a
 * half-read poll survives into it.
 */
final class ConnectorLoop<C extends SpecificRecord, R extends CommandResult<C>> {

    private static final Logger log = LoggerFactory.getLogger(ConnectorLoop.class);
    /** New Kafka metrics (per-partition lag) are looked for every 10 s rather than Micrometer's default 60 s. */
    private static final Duration METRICS_REFRESH = Duration.ofSeconds(10);
    private static final int SESSION_TIMEOUT_MS = 10_000;
    /** How long a run may take to read a followed topic to its end; the run restarts when it cannot. */
    private static final Duration VIEW_TIMEOUT = Duration.ofSeconds(30);

    private final CommandConnector<C, R> connector;
    private final Topics topics;
    private volatile KafkaConsumer<String, C> consumer;
    /** One per assigned partition, created (and its predecessor fenced) when the partition is assigned. */
    private final Map<TopicPartition, PartitionProducer> producers = new HashMap<>();
    private boolean committedAPoll;
    /** True while the loop waits for an unreachable side: partitions assigned meanwhile are paused too. */
    private boolean paused;
    /** Waits for the side in a row, for the growing backoff; a poll executed without one starts it again. */
    private int waitsInARow;
    /**
     * The commands about to be executed, gathered ({@link #gather}) but not yet handed to the connector; and those
     * polled after them, read ahead for a connector that {@link CommandConnector#looksAhead() looks ahead}, which are
     * executed next. Neither is committed: a partition revoked, or read again from an earlier offset, leaves both.
     */
    private final List<ConsumerRecord<String, C>> current = new ArrayList<>();
    private final List<ConsumerRecord<String, C>> ahead = new ArrayList<>();

    private record PartitionProducer(KafkaProducer<String, byte[]> producer, KafkaClientMetrics metrics) {
    }

    ConnectorLoop(CommandConnector<C, R> connector) {
        this.connector = connector;
        this.topics = connector.topics;
    }

    /**
     * The transactional id of the producer of one partition, chosen here only: the group id plus the partition, the same
     * on every instance and every run (the pre-KIP-447 model Kafka Streams used as {@code exactly_once}). Why not one
     * producer per run with a random id (KIP-447): a SIGKILLed instance's open transaction would then stay open until
     * {@code transaction.timeout.ms}, holding every read_committed reader of {@code deal-links} and
     * {@code sync-outcomes} behind it and keeping its successor from reading the committed offsets (pending offsets are
     * unstable). With the partition in the id, the successor's {@code initTransactions()} at the assignment aborts that
     * transaction at once and fences the dead instance's producer. The cost: one transaction per partition a poll
     * touched instead of one per poll, which on one instance is a commit round-trip per partition, not a read of the
     * other side more.
     */
    static String transactionalId(ConnectorConfig config, TopicPartition partition) {
        return config.connectorGroupId() + "-" + partition.topic() + "-" + partition.partition();
    }

    /** True once this run has committed a poll: a failure after that starts the restart backoff afresh. */
    boolean committedAPoll() {
        return committedAPoll;
    }

    void wakeup() {
        KafkaConsumer<String, C> c = consumer;
        if (c != null) {
            c.wakeup();
        }
    }

    void run() throws InterruptedException {
        List<KafkaClientMetrics> clientMetrics = new ArrayList<>();
        try (KafkaConsumer<String, C> consumer = new KafkaConsumer<>(KafkaClients.consumer(consumerProperties()), new StringDeserializer(),
                connector.commands.valueSerde().deserializer())) {
            this.consumer = consumer;
            // the commands topic's consumer lag, next to the Streams apps' own (each partition's producer binds its own)
            KafkaClientMetrics consumerMetrics = new KafkaClientMetrics(consumer, List.of(), metricsRefresh(), METRICS_REFRESH);
            consumerMetrics.bindTo(connector.meters);
            clientMetrics.add(consumerMetrics);
            List<Map.Entry<CommandConnector.CatchUp, CompactedTopicView<?>>> views = connector.openViews();
            try {
                for (Map.Entry<CommandConnector.CatchUp, CompactedTopicView<?>> view : views) {
                    long started = System.nanoTime();
                    view.getValue().catchUp(VIEW_TIMEOUT);
                    log.info("{} read {} to its end in {} ms", connector.component, view.getValue().topic(),
                            (System.nanoTime() - started) / 1_000_000);
                }
                consumer.subscribe(List.of(connector.commands.name()), new ConsumerRebalanceListener() {
                    @Override
                    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                        if (!partitions.isEmpty()) {
                            log.info("{}: partitions revoked: {}", connector.component, partitions);
                        }
                        partitions.forEach(ConnectorLoop.this::closeProducer);
                        // what was gathered of them is its new owner's (or this run's again, from the last commit)
                        forget(partitions);
                        assignmentChanged();
                    }

                    @Override
                    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                        log.info("{}: partitions assigned: {}", connector.component, partitions);
                        partitions.forEach(ConnectorLoop.this::openProducer);
                        if (paused) {
                            consumer.pause(partitions);
                        }
                        assignmentChanged();
                    }
                });
                while (connector.isRunning()) {
                    if (ahead.isEmpty()) {
                        ConsumerRecords<String, C> records;
                        try {
                            records = consumer.poll(connector.config.pollTimeout());
                        } catch (RecordDeserializationException e) {
                            deadLetterUnreadable(e);
                            continue;
                        }
                        if (records.isEmpty()) {
                            continue;
                        }
                        records.forEach(current::add);
                        // a connector that looks ahead spends the wait for its call gathering the next commands instead
                        gather(current, !connector.looksAhead());
                    } else {
                        // read ahead while the last commands waited for their call: these are executed now
                        current.addAll(ahead);
                        ahead.clear();
                    }
                    if (connector.looksAhead()) {
                        // the next commands, polled while these wait for their call, so their reads travel in it
                        gather(ahead, true);
                    }
                    for (Map.Entry<CommandConnector.CatchUp, CompactedTopicView<?>> view : views) {
                        if (view.getKey() == CommandConnector.CatchUp.BEFORE_EACH_POLL) {
                            view.getValue().catchUp(VIEW_TIMEOUT);
                        }
                    }
                    List<ConsumerRecord<String, C>> executing = List.copyOf(current);
                    current.clear();
                    if (!executing.isEmpty()) {
                        process(executing, List.copyOf(ahead));
                    }
                }
            } finally {
                views.forEach(view -> view.getValue().close());
            }
        } catch (WakeupException e) {
            if (connector.isRunning()) {
                throw e;
            }
        } finally {
            // the consumer's close revoked its partitions; a run that died inside a callback may have left producers
            List.copyOf(producers.keySet()).forEach(this::closeProducer);
            connector.assignmentChanged(0, 0);
            clientMetrics.forEach(KafkaClientMetrics::close);
        }
    }

    /**
     * The producer of a partition just assigned: its {@code initTransactions()} fences whoever had the partition before
     * (a dead instance, a run that lost it) and aborts that one's open transaction, before this run reads the
     * partition's committed offset.
     */
    private void openProducer(TopicPartition partition) {
        if (producers.containsKey(partition)) {
            return;
        }
        KafkaProducer<String, byte[]> producer = new KafkaProducer<>(KafkaClients.producer(producerProperties(partition)), new StringSerializer(),
                new ByteArraySerializer());
        try {
            producer.initTransactions();
        } catch (RuntimeException e) {
            producer.close(Duration.ZERO);
            throw e;
        }
        KafkaClientMetrics metrics = new KafkaClientMetrics(producer, List.of(), metricsRefresh(), METRICS_REFRESH);
        metrics.bindTo(connector.meters);
        producers.put(partition, new PartitionProducer(producer, metrics));
    }

    private void closeProducer(TopicPartition partition) {
        PartitionProducer p = producers.remove(partition);
        if (p != null) {
            p.metrics().close();
            p.producer().close(Duration.ofSeconds(5));
        }
    }

    private void assignmentChanged() {
        int total = consumer.partitionsFor(connector.commands.name()).size();
        connector.assignmentChanged(producers.size(), total);
    }

    private Properties consumerProperties() {
        Properties props = new Properties();
        props.putAll(connector.kafka);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, connector.config.connectorGroupId());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Integer.toString(connector.maxPollRecords));
        // a SIGKILLed instance's partitions move after this long (Kafka's default is 45 s); heartbeats have their own thread
        props.putIfAbsent(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, Integer.toString(SESSION_TIMEOUT_MS));
        props.putIfAbsent(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, Integer.toString(SESSION_TIMEOUT_MS / 5));
        return props;
    }

    private Properties producerProperties(TopicPartition partition) {
        Properties props = new Properties();
        props.putAll(connector.kafka);
        props.remove(ProducerConfig.CLIENT_ID_CONFIG);
        props.put(ProducerConfig.CLIENT_ID_CONFIG, transactionalId(connector.config, partition));
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId(connector.config, partition));
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        // as Kafka Streams does for exactly-once: a transaction left open by a run that died is aborted by the broker
        // within 10 s instead of Kafka's default minute, in case no successor fences it first (kafka.producer.* wins)
        props.putIfAbsent(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "10000");
        return props;
    }

    private static ScheduledExecutorService metricsRefresh() {
        return Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "connector-metrics");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Adds to {@code gathered} (the commands to execute, or those to read ahead) what the consumer already holds and,
     * {@code whileTheCallWaits}, while the side would make the connector's next call wait for its rate budget
     * ({@link CommandConnector#untilNextCall()}), what further polls bring; up to
     * {@link CommandConnector#mostCommandsGathered()}. So each call carries everything pending: the wait for a rate
     * token is spent here instead of inside the call, and commands arriving meanwhile travel in that call rather than in
     * a later one.
     *
     * <p>Nothing gathered is committed or executed yet, so stopping early loses nothing: a record that cannot be read
     * ends the gathering (the next poll meets it again and dead-letters it), and so does {@link #wakeup()} (the
     * gathered commands are executed and committed before the loop stops). A partition revoked meanwhile gives up what
     * was gathered of it ({@link #forget}, in the rebalance callback, which runs inside the poll before its records are
     * fetched): its new owner, or this run if it is assigned again, reads it from the last commit.
     */
    private void gather(List<ConsumerRecord<String, C>> gathered, boolean whileTheCallWaits) {
        while (gathered.size() + connector.maxPollRecords <= connector.mostCommandsGathered() && connector.isRunning()) {
            Duration untilNextCall = whileTheCallWaits ? connector.untilNextCall() : Duration.ZERO;
            ConsumerRecords<String, C> more;
            try {
                // zero: only what the consumer already holds
                more = consumer.poll(untilNextCall.compareTo(connector.config.pollTimeout()) < 0
                        ? untilNextCall : connector.config.pollTimeout());
            } catch (RecordDeserializationException | WakeupException e) {
                break;
            }
            more.forEach(gathered::add);
            if (more.isEmpty() && untilNextCall.isZero()) {
                break;  // nothing more pending, and the call may go now
            }
        }
    }

    /** Drops what was gathered or read ahead of these partitions: they are read again from where they are committed. */
    private void forget(Collection<TopicPartition> partitions) {
        current.removeIf(record -> partitions.contains(partitionOf(record)));
        ahead.removeIf(record -> partitions.contains(partitionOf(record)));
    }

    /** Moves the consumer back in a partition; what was read ahead of it is read again from there. */
    private void seek(TopicPartition partition, long offset) {
        consumer.seek(partition, offset);
        forget(List.of(partition));
    }

    /**
     * Executes and commits the commands; {@code next} are those read ahead after them (executed next, unless a
     * partition of theirs is read again meanwhile), for a connector that reads the other side for them ahead.
     */
    private void process(List<ConsumerRecord<String, C>> records, List<ConsumerRecord<String, C>> next) throws InterruptedException {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        Map<TopicPartition, Long> firstInPoll = new HashMap<>();
        List<ConsumerRecord<String, C>> commands = new ArrayList<>();
        for (ConsumerRecord<String, C> record : records) {
            TopicPartition partition = new TopicPartition(record.topic(), record.partition());
            offsets.put(partition, new OffsetAndMetadata(record.offset() + 1));
            firstInPoll.putIfAbsent(partition, record.offset());
            if (record.value() != null) {  // a tombstone is nothing to execute
                commands.add(record);
            }
        }
        List<ConsumerRecord<String, C>> nextCommands = next.stream().filter(record -> record.value() != null).toList();
        List<Executed<C, R>> executed = commands.isEmpty() ? List.of() : connector.execute(commands, nextCommands);
        Instant now = connector.clock.instant();
        // a command whose side is unreachable waits in its partition: that partition is committed only up to it
        Map<TopicPartition, Long> waitFrom = waitFrom(executed);
        waitFrom.forEach((partition, offset) -> offsets.put(partition, new OffsetAndMetadata(offset)));
        // one transaction per partition, each with its own producer (see transactionalId); what a command published
        // (its link, outcome, dead letter, extra records) goes with its source record's partition and that offset
        Map<TopicPartition, List<Executed<C, R>>> byPartition = new HashMap<>();
        for (Executed<C, R> e : executed) {
            if (beforeWait(e.source(), waitFrom)) {
                byPartition.computeIfAbsent(partitionOf(e.source()), p -> new ArrayList<>()).add(e);
            }
        }
        Set<TopicPartition> committed = new java.util.HashSet<>();
        for (Map.Entry<TopicPartition, OffsetAndMetadata> offset : offsets.entrySet()) {
            TopicPartition partition = offset.getKey();
            if (offset.getValue().offset() <= firstInPoll.get(partition)) {
                seek(partition, offset.getValue().offset());  // the poll's first record waits: nothing to commit
                continue;
            }
            List<Executed<C, R>> ofPartition = byPartition.getOrDefault(partition, List.of());
            if (commit(partition, producer -> ofPartition.forEach(e -> publish(producer, e, now)), Map.of(partition, offset.getValue()))) {
                committed.add(partition);
                if (waitFrom.containsKey(partition)) {
                    seek(partition, offset.getValue().offset());
                }
            }
        }
        // counted once they are committed: an aborted partition is executed and counted again
        for (ConsumerRecord<String, C> command : commands) {
            if (committed.contains(partitionOf(command)) && beforeWait(command, waitFrom)) {
                SyncMetrics.commands(connector.meters, connector.component, CommandFacts.of(command.value()).kind()).increment();
            }
        }
        for (Executed<C, R> e : executed) {
            if (!committed.contains(partitionOf(e.source())) || !beforeWait(e.source(), waitFrom)) {
                continue;
            }
            SyncMetrics.outcomes(connector.meters, connector.direction, e.result().outcome()).increment();
            if (e.result().written()) {
                connector.latency.record(Duration.between(CommandFacts.of(e.result().command()).sourceTime(), now).abs());
            }
        }
        if (!waitFrom.isEmpty()) {
            String reason = executed.stream().filter(e -> e.result().unreachable()).findFirst().orElseThrow().result().reason();
            waitForTheSide(reason);
        } else if (!executed.isEmpty()) {
            waitsInARow = 0;
            connector.reachable();
        }
    }

    /**
     * Per partition, the offset to read again from: the first record of a command whose side is unreachable, and of
     * any command folded from records on both sides of it (its earlier records must not be committed without it).
     */
    private Map<TopicPartition, Long> waitFrom(List<Executed<C, R>> executed) {
        Map<TopicPartition, Long> from = new HashMap<>();
        for (Executed<C, R> e : executed) {
            if (e.result().unreachable()) {
                from.merge(partitionOf(e.source()), e.firstOffset(), Math::min);
            }
        }
        for (boolean moved = !from.isEmpty(); moved; ) {
            moved = false;
            for (Executed<C, R> e : executed) {
                Long cut = from.get(partitionOf(e.source()));
                if (cut != null && e.source().offset() >= cut && e.firstOffset() < cut) {
                    from.put(partitionOf(e.source()), e.firstOffset());
                    moved = true;
                }
            }
        }
        return from;
    }

    private static boolean beforeWait(ConsumerRecord<String, ?> record, Map<TopicPartition, Long> waitFrom) {
        Long cut = waitFrom.get(partitionOf(record));
        return cut == null || record.offset() < cut;
    }

    private static TopicPartition partitionOf(ConsumerRecord<String, ?> record) {
        return new TopicPartition(record.topic(), record.partition());
    }

    /**
     * The side is unreachable: every assigned partition is paused (a partition assigned meanwhile too) and the consumer
     * keeps polling, so it stays in its group and never exceeds {@code max.poll.interval.ms}, for a bounded, jittered
     * wait that grows while the side stays away; then the partitions resume and the waiting commands are read again
     * from their committed place. A rebalance meanwhile loses nothing: a revoked partition was committed only up to
     * its waiting command, and an assigned one starts from its committed offset.
     */
    private void waitForTheSide(String reason) {
        connector.unreachable(reason);
        Duration wait = connector.unreachableBackoff.delay(++waitsInARow);
        Duration since = Duration.between(connector.unreachableSince().orElseThrow(), connector.clock.instant());
        log.warn("{}: the {} side is unreachable (for {} s): {}; pausing {} partition(s) for {} ms, then retrying (nothing is "
                + "dead-lettered)", connector.component, connector.config.prefix(), since.toSeconds(), reason,
                consumer.assignment().size(), wait.toMillis());
        paused = true;
        consumer.pause(consumer.assignment());
        try {
            long deadline = System.nanoTime() + wait.toNanos();
            long left;
            while (connector.isRunning() && (left = deadline - System.nanoTime()) > 0) {
                ConsumerRecords<String, C> unexpected = consumer.poll(
                        Duration.ofNanos(Math.min(left, connector.config.pollTimeout().toNanos())));
                // paused partitions return nothing; should records come anyway, they are read again after the wait
                for (TopicPartition partition : unexpected.partitions()) {
                    seek(partition, unexpected.records(partition).get(0).offset());
                }
            }
        } finally {
            paused = false;
            consumer.resume(consumer.paused());
        }
    }

    private void publish(KafkaProducer<String, byte[]> producer, Executed<C, R> executed, Instant now) {
        R result = executed.result();
        CommandFacts facts = CommandFacts.of(result.command());
        SyncLink link = result.link();
        if (link != null) {
            send(producer, topics.dealLinks(), Keys.order(link.getSiteId(), link.getOrderId()), link);
        }
        connector.extraRecords(result).forEach(producer::send);
        Long orderId = link != null ? Long.valueOf(link.getOrderId()) : facts.orderId();
        Long dealId = link != null && link.getDealId() > 0 ? Long.valueOf(link.getDealId()) : facts.dealId();
        String key = orderId != null ? Keys.order(facts.siteId(), orderId) : "deal:" + dealId;
        send(producer, topics.syncOutcomes(), key, SyncOutcome.newBuilder()
                .setSiteId(facts.siteId())
                .setOrderId(orderId)
                .setDealId(dealId)
                .setDirection(connector.direction)
                .setOutcome(result.outcome())
                .setReason(result.reason())
                .setMappingVersion(facts.mappingVersion())
                .setCommandId(facts.commandId())
                .setAt(now)
                .build());
        if (result.outcome() == Outcome.DEAD_LETTERED) {
            log.error("{} dead-letters command {} ({}): {}", connector.component, facts.commandId(), key, result.reason());
            ConsumerRecord<String, C> source = executed.source();
            String sourceKey = source.key() != null ? source.key() : key;
            DeadLetter letter = deadLetter(facts.siteId(), new TopicPartition(source.topic(), source.partition()), source.offset(),
                    ByteBuffer.wrap(sourceKey.getBytes(StandardCharsets.UTF_8)),
                    ByteBuffer.wrap(connector.commands.valueSerde().serializer().serialize(connector.commands.name(), result.command())),
                    result.reason(), result.errorCode(), result.attempts(), now);
            send(producer, topics.deadLetters(), letter.getId(), letter);
        }
    }

    /** A record that cannot be read goes to the dead-letter topic as it was, and its partition moves past it. */
    private void deadLetterUnreadable(RecordDeserializationException e) {
        TopicPartition partition = e.topicPartition();
        Throwable cause = e.getCause() == null ? e : e.getCause();
        String reason = "The record at " + partition + " offset " + e.offset() + " cannot be read as a command of "
                + partition.topic() + ": " + cause.getMessage();
        log.error("{}: {}; dead-lettering it", connector.component, reason);
        DeadLetter letter = deadLetter(null, partition, e.offset(), copy(e.keyBuffer()), copy(e.valueBuffer()), reason,
                cause.getClass().getSimpleName(), 1, connector.clock.instant());
        if (commit(partition, producer -> send(producer, topics.deadLetters(), letter.getId(), letter),
                Map.of(partition, new OffsetAndMetadata(e.offset() + 1)))) {
            seek(partition, e.offset() + 1);
            SyncMetrics.outcomes(connector.meters, connector.direction, Outcome.DEAD_LETTERED)
                    .increment();
        }
    }

    private DeadLetter deadLetter(String siteId, TopicPartition source, long offset, ByteBuffer key, ByteBuffer value, String reason,
                                  String errorCode, int attempts, Instant at) {
        return DeadLetter.newBuilder()
                .setId(UUID.randomUUID().toString())
                .setComponent(connector.component)
                .setSiteId(siteId)
                .setSourceTopic(source.topic())
                .setSourcePartition(source.partition())
                .setSourceOffset(offset)
                .setKey(key)
                .setValue(value)
                .setReason(reason)
                .setErrorCode(errorCode)
                .setAttempts(attempts)
                .setFailedAt(at)
                .build();
    }

    /**
     * Publishes records in a transaction of their own, without offsets, and returns once it is committed
     * ({@link CommandConnector#publishBeforeCall}). Runs on the connector's thread inside {@code execute}, between two
     * poll transactions of the partition's producer, so it never meets one open. A failure is thrown: the caller must
     * not go on as if the records were durable.
     */
    void publishBeforeCall(TopicPartition partition, List<ProducerRecord<String, byte[]>> records) {
        try {
            inOneTransaction(partition, producer -> records.forEach(producer::send));
        } catch (AbortedTransaction e) {
            log.warn("{}: the records to publish before a call for {} failed; the run restarts from the last commit: {}",
                    connector.component, partition, e.getCause().toString());
            throw e.getCause();
        }
    }

    /**
     * Publishes the records and the offsets in one transaction. When it fails the transaction is aborted and the
     * consumer goes back to the last commit, so the poll is executed again: nothing is lost and nothing is published
     * twice. A producer that cannot go on (fenced, out of sequence, not authorized) ends the run instead.
     *
     * @return true when committed
     */
    private boolean commit(TopicPartition partition, Consumer<KafkaProducer<String, byte[]>> sends,
                           Map<TopicPartition, OffsetAndMetadata> offsets) {
        try {
            inOneTransaction(partition, producer -> {
                sends.accept(producer);
                producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
            });
            committedAPoll = true;
            return true;
        } catch (AbortedTransaction e) {
            log.warn("{}: the transaction for {} partition(s) failed; re-reading them from the last commit: {}", connector.component,
                    offsets.size(), e.getCause().toString());
            rewind(offsets.keySet());
            return false;
        }
    }

    /**
     * One transaction of the partition's producer, committed. A producer that cannot go on (fenced, out of sequence,
     * not authorized) is thrown as it is; any other failure aborts the transaction and is thrown as
     * {@link AbortedTransaction}.
     */
    private void inOneTransaction(TopicPartition partition, Consumer<KafkaProducer<String, byte[]>> sends) {
        PartitionProducer owner = producers.get(partition);
        if (owner == null) {
            throw new IllegalStateException(connector.component + " has no producer for " + partition + ", which it was not assigned");
        }
        KafkaProducer<String, byte[]> producer = owner.producer();
        try {
            producer.beginTransaction();
            sends.accept(producer);
            producer.commitTransaction();
        } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException | UnsupportedVersionException e) {
            throw e;
        } catch (KafkaException e) {
            producer.abortTransaction();
            throw new AbortedTransaction(e);
        }
    }

    /** A transaction that failed and was aborted; its cause says why. */
    private static final class AbortedTransaction extends RuntimeException {
        AbortedTransaction(KafkaException cause) {
            super(cause.getMessage(), cause, false, false);
        }

        @Override
        public synchronized KafkaException getCause() {
            return (KafkaException) super.getCause();
        }
    }

    private void rewind(Set<TopicPartition> partitions) {
        Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(partitions);
        for (TopicPartition partition : partitions) {
            OffsetAndMetadata offset = committed.get(partition);
            if (offset == null) {
                consumer.seekToBeginning(List.of(partition));
                forget(List.of(partition));
            } else {
                seek(partition, offset.offset());
            }
        }
    }

    private static <V> void send(KafkaProducer<String, byte[]> producer, Topics.Topic<String, V> topic, String key, V value) {
        producer.send(new ProducerRecord<>(topic.name(), key, topic.valueSerde().serializer().serialize(topic.name(), value)));
    }

    private static ByteBuffer copy(ByteBuffer buffer) {
        if (buffer == null) {
            return null;
        }
        ByteBuffer source = buffer.duplicate();
        byte[] bytes = new byte[source.remaining()];
        source.get(bytes);
        return ByteBuffer.wrap(bytes);
    }
}
