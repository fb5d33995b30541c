package org.dealbridge.dealprojector.crm;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.core.instrument.Timer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
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
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.dealbridge.dealprojector.DealProjectorConfig;
import org.dealbridge.schemas.DeadLetter;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.OrderCommand;
import org.dealbridge.schemas.OrderCommandKind;
import org.dealbridge.schemas.Outcome;
import org.dealbridge.schemas.SyncDirection;
import org.dealbridge.schemas.SyncLink;
import org.dealbridge.schemas.SyncOutcome;
import org.dealbridge.schemas.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CRM connector: consumes {@code deal-commands} (read_committed), writes deals through {@link DealWriter}, and
 * publishes the links ({@code deal-links}), outcomes ({@code sync-outcomes}) and dead letters together with the
 * consumed offsets in one Kafka transaction, so links and offsets move together.
 *
 * <p>The CRM is outside the transaction: if the process dies after a CRM write and before the commit, the command
 * is consumed again and the writer's look-up by ORIGINATOR_ID+ORIGIN_ID (and the expected-value check of updates)
 * makes the repeat harmless. Per poll, commands are folded per order ({@link CommandsPerOrder}); records of one
 * partition are never reordered, and a poll's commands are all finished (written, conflict or dead letter) before
 * the next poll, which bounds how long one order holds its partition to {@code crm.max-attempts} rounds.
 *
 * <p>Metrics: {@code dealbridge.sync.outcomes{direction,outcome}}, {@code dealbridge.commands{topology=crm-connector}}
 * and {@code dealbridge.sync.latency} (from the order change's source time to the CRM write).
 */
public final class CrmConnector implements Runnable, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(CrmConnector.class);
    private static final String COMPONENT = "crm-connector";

    private final DealProjectorConfig config;
    private final Topics topics;
    private final Properties kafka;
    private final DealWriter writer;
    private final MeterRegistry meters;
    private final Clock clock;
    private final Timer latency;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<KafkaClientMetrics> clientMetrics = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** The links of this connector's latest writes and reads, by order key: fresher than the projector's view. */
    private final Map<String, SyncLink> ownLinks = new java.util.concurrent.ConcurrentHashMap<>();
    private static final java.time.Duration METRICS_REFRESH = java.time.Duration.ofSeconds(10);

    private static java.util.concurrent.ScheduledExecutorService metricsRefresh() {
        return java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "connector-metrics");
            t.setDaemon(true);
            return t;
        });
    }
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile KafkaConsumer<String, DealCommand> consumer;

    /**
     * @param kafka client properties shared by the consumer and the producer (at least {@code bootstrap.servers});
     *              group, isolation, transactions and serializers are set here
     */
    public CrmConnector(DealProjectorConfig config, Topics topics, Properties kafka, DealWriter writer, MeterRegistry meters,
                        Clock clock) {
        this.config = config;
        this.topics = topics;
        this.kafka = kafka;
        this.writer = writer;
        this.meters = meters;
        this.clock = clock;
        this.latency = Timer.builder("dealbridge.sync.latency")
                .description("From the order change in the store to the deal write in the CRM")
                .tag("direction", SyncDirection.ORDER_TO_DEAL.name())
                .publishPercentileHistogram()
                .register(meters);
    }

    @Override
    public void run() {
        Properties consumerProps = new Properties();
        consumerProps.putAll(kafka);
        consumerProps.put(ConsumerConfig.GROUP_ID_CONFIG, config.connectorGroupId());
        consumerProps.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        consumerProps.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        consumerProps.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        consumerProps.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "500");
        Properties producerProps = new Properties();
        producerProps.putAll(kafka);
        producerProps.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, config.connectorGroupId() + "-" + UUID.randomUUID());
        producerProps.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        producerProps.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaConsumer<String, DealCommand> consumer = new KafkaConsumer<>(consumerProps, new StringDeserializer(),
                topics.dealCommands().valueSerde().deserializer());
             KafkaProducer<String, byte[]> producer = new KafkaProducer<>(producerProps, Serdes.String().serializer(),
                     new ByteArraySerializer())) {
            this.consumer = consumer;
            // consumer lag of the commands topic and the producer's metrics, next to the Streams apps' own; new Kafka
            // metrics (per-partition lag) are looked for every 10 s rather than Micrometer's default 60 s
            KafkaClientMetrics consumerMetrics = new KafkaClientMetrics(consumer, List.of(), metricsRefresh(), METRICS_REFRESH);
            consumerMetrics.bindTo(meters);
            clientMetrics.add(consumerMetrics);
            KafkaClientMetrics producerMetrics = new KafkaClientMetrics(producer, List.of(), metricsRefresh(), METRICS_REFRESH);
            producerMetrics.bindTo(meters);
            clientMetrics.add(producerMetrics);
            producer.initTransactions();
            consumer.subscribe(List.of(topics.dealCommands().name()));
            while (running.get()) {
                ConsumerRecords<String, DealCommand> records;
                try {
                    records = consumer.poll(config.pollTimeout());
                } catch (RecordDeserializationException e) {
                    skipUnreadable(e, consumer, producer);
                    continue;
                }
                if (records.isEmpty()) {
                    continue;
                }
                process(records, consumer, producer);
            }
        } catch (WakeupException e) {
            if (running.get()) {
                throw e;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.error("CRM connector failed and stops; uncommitted commands are consumed again on restart", e);
            throw e;
        } finally {
            clientMetrics.forEach(KafkaClientMetrics::close);
            clientMetrics.clear();
            stopped.countDown();
            log.info("CRM connector stopped");
        }
    }

    private void process(ConsumerRecords<String, DealCommand> records, KafkaConsumer<String, DealCommand> consumer,
                         KafkaProducer<String, byte[]> producer) throws InterruptedException {
        CommandsPerOrder perOrder = new CommandsPerOrder();
        Map<String, ConsumerRecord<String, DealCommand>> lastRecord = new HashMap<>();
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (ConsumerRecord<String, DealCommand> record : records) {
            offsets.put(new TopicPartition(record.topic(), record.partition()), new OffsetAndMetadata(record.offset() + 1));
            if (record.value() == null) {
                continue;
            }
            String key = Keys.order(record.value().getSiteId(), record.value().getOrderId());
            counter("dealbridge.commands", "topology", COMPONENT, "kind", record.value().getKind().name()).increment();
            perOrder.add(key, record.value());
            lastRecord.put(key, record);
        }
        List<DealCommand> commands = perOrder.commands().stream()
                .map(c -> FreshestLink.apply(c, ownLinks.get(Keys.order(c.getSiteId(), c.getOrderId())))).toList();
        List<DealWrite> results = writer.write(commands);
        // what the CRM now has, whether or not the Kafka transaction below commits: if it aborts, the commands are
        // consumed again, and our own writes must then read as the agreed state, not as a manager's change
        for (DealWrite result : results) {
            if (result.link() != null) {
                ownLinks.put(Keys.order(result.command().getSiteId(), result.command().getOrderId()), result.link());
            }
        }
        try {
            producer.beginTransaction();
            for (DealWrite result : results) {
                publish(producer, result, lastRecord.get(Keys.order(result.command().getSiteId(), result.command().getOrderId())));
            }
            producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
            producer.commitTransaction();
        } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException e) {
            throw e;  // another instance took over, or a fatal producer error: stop (the CRM writes are idempotent)
        } catch (KafkaException e) {
            log.warn("Transaction of {} deal write(s) failed, re-reading them from the last commit: {}", results.size(), e.toString());
            producer.abortTransaction();
            rewind(consumer, offsets.keySet());
        }
    }

    private void publish(KafkaProducer<String, byte[]> producer, DealWrite result, ConsumerRecord<String, DealCommand> source) {
        DealCommand c = result.command();
        String orderKey = Keys.order(c.getSiteId(), c.getOrderId());
        Instant now = clock.instant();
        if (result.link() != null) {
            producer.send(new ProducerRecord<>(topics.dealLinks().name(), orderKey,
                    topics.dealLinks().valueSerde().serializer().serialize(topics.dealLinks().name(), result.link())));
        }
        if (result.written()) {
            latency.record(Duration.between(c.getSourceTime(), now).abs());
        }
        if (result.reconcile() && result.link() != null && result.link().getDealId() > 0) {
            // the deal's later change stands against the order: the store side brings the order to it, deciding again
            // on both sides as they are (the order projector may have judged the pair on a link too old to see it)
            OrderCommand reconcile = OrderCommand.newBuilder()
                    .setCommandId(UUID.randomUUID().toString())
                    .setKind(OrderCommandKind.RECONCILE)
                    .setSiteId(c.getSiteId())
                    .setDealId(result.link().getDealId())
                    .setOrderId(c.getOrderId())
                    .setStatusId(c.getOrderStatusId() == null ? "" : c.getOrderStatusId())
                    .setExpectedStatusId(c.getOrderStatusId())
                    .setMappingVersion(c.getMappingVersion())
                    .setSourceTime(c.getSourceTime())
                    .build();
            producer.send(new ProducerRecord<>(topics.orderCommands().name(), Keys.deal(result.link().getDealId()),
                    topics.orderCommands().valueSerde().serializer().serialize(topics.orderCommands().name(), reconcile)));
        }
        SyncOutcome outcome = SyncOutcome.newBuilder()
                .setSiteId(c.getSiteId())
                .setOrderId(c.getOrderId())
                .setDealId(result.link() != null && result.link().getDealId() > 0 ? Long.valueOf(result.link().getDealId()) : c.getDealId())
                .setDirection(SyncDirection.ORDER_TO_DEAL)
                .setOutcome(result.outcome())
                .setReason(result.reason())
                .setMappingVersion(c.getMappingVersion())
                .setCommandId(c.getCommandId())
                .setAt(now)
                .build();
        producer.send(new ProducerRecord<>(topics.syncOutcomes().name(), orderKey,
                topics.syncOutcomes().valueSerde().serializer().serialize(topics.syncOutcomes().name(), outcome)));
        counter("dealbridge.sync.outcomes", "direction", SyncDirection.ORDER_TO_DEAL.name(), "outcome", result.outcome().name())
                .increment();
        if (result.outcome() == Outcome.DEAD_LETTERED) {
            log.error("Dead-lettering the deal command of order {}: {}", orderKey, result.reason());
            DeadLetter letter = DeadLetter.newBuilder()
                    .setId(UUID.randomUUID().toString())
                    .setComponent(COMPONENT)
                    .setSiteId(c.getSiteId())
                    .setSourceTopic(source == null ? null : source.topic())
                    .setSourcePartition(source == null ? null : source.partition())
                    .setSourceOffset(source == null ? null : source.offset())
                    .setKey(ByteBuffer.wrap(orderKey.getBytes(StandardCharsets.UTF_8)))
                    .setValue(ByteBuffer.wrap(topics.dealCommands().valueSerde().serializer().serialize(topics.dealCommands().name(), c)))
                    .setReason(result.reason())
                    .setErrorCode(result.errorCode())
                    .setAttempts(result.attempts())
                    .setFailedAt(now)
                    .build();
            producer.send(new ProducerRecord<>(topics.deadLetters().name(), letter.getId(),
                    topics.deadLetters().valueSerde().serializer().serialize(topics.deadLetters().name(), letter)));
        }
    }

    /** An unreadable command goes to the dead-letter topic as it was, and the partition moves past it. */
    private void skipUnreadable(RecordDeserializationException e, KafkaConsumer<String, DealCommand> consumer,
                                KafkaProducer<String, byte[]> producer) {
        TopicPartition partition = e.topicPartition();
        log.error("Unreadable deal command at {} offset {}; dead-lettering it: {}", partition, e.offset(), e.getMessage());
        DeadLetter letter = DeadLetter.newBuilder()
                .setId(UUID.randomUUID().toString())
                .setComponent(COMPONENT)
                .setSourceTopic(partition.topic())
                .setSourcePartition(partition.partition())
                .setSourceOffset(e.offset())
                .setKey(copy(e.keyBuffer()))
                .setValue(copy(e.valueBuffer()))
                .setReason("deal command at " + partition + " offset " + e.offset() + " cannot be read: " + e.getMessage())
                .setErrorCode(e.getCause() == null ? e.getClass().getSimpleName() : e.getCause().getClass().getSimpleName())
                .setAttempts(1)
                .setFailedAt(clock.instant())
                .build();
        producer.beginTransaction();
        producer.send(new ProducerRecord<>(topics.deadLetters().name(), letter.getId(),
                topics.deadLetters().valueSerde().serializer().serialize(topics.deadLetters().name(), letter)));
        producer.sendOffsetsToTransaction(Map.of(partition, new OffsetAndMetadata(e.offset() + 1)), consumer.groupMetadata());
        producer.commitTransaction();
        consumer.seek(partition, e.offset() + 1);
        counter("dealbridge.sync.outcomes", "direction", SyncDirection.ORDER_TO_DEAL.name(), "outcome", Outcome.DEAD_LETTERED.name())
                .increment();
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

    private void rewind(KafkaConsumer<String, DealCommand> consumer, Set<TopicPartition> partitions) {
        Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(partitions);
        for (TopicPartition partition : partitions) {
            OffsetAndMetadata offset = committed.get(partition);
            if (offset == null) {
                consumer.seekToBeginning(List.of(partition));
            } else {
                consumer.seek(partition, offset.offset());
            }
        }
    }

    private Counter counter(String name, String... tags) {
        return Counter.builder(name).tags(tags).register(meters);
    }

    /** Stops after the poll in progress is finished (its writes published and committed). */
    @Override
    public void close() throws InterruptedException {
        running.set(false);
        KafkaConsumer<String, DealCommand> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        stopped.await(java.util.concurrent.TimeUnit.SECONDS.toMillis(60), java.util.concurrent.TimeUnit.MILLISECONDS);
    }
}
