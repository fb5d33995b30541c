package org.dealbridge.orderprojector.store;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.core.instrument.Timer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.dealbridge.mapping.CompiledMapping;
import org.dealbridge.mapping.MappingInvalidException;
import org.dealbridge.mapping.MappingProfiles;
import org.dealbridge.orderprojector.OrderProjectorConfig;
import org.dealbridge.schemas.DeadLetter;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.MappingProfile;
import org.dealbridge.schemas.OrderCommand;
import org.dealbridge.schemas.Outcome;
import org.dealbridge.schemas.SyncDirection;
import org.dealbridge.schemas.SyncLink;
import org.dealbridge.schemas.SyncOutcome;
import org.dealbridge.schemas.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store connector: consumes {@code order-commands} (read_committed), executes them with {@link OrderWriter}, and
 * publishes the links ({@code deal-links}, origin kept, DEAL for orders it made), outcomes and dead letters together
 * with the consumed offsets in one Kafka transaction.
 *
 * <p>Before each poll's commands it reads {@code deal-links} and {@code mapping-config} up to their ends, so every
 * decision uses the pair's latest agreed state (written by either connector) and the mapping in force. The store is
 * outside the transaction: after a crash between a store write and the commit, the command comes again and the
 * read-back (status) or the xmlId look-up (create) makes the repeat write nothing.
 *
 * <p>Metrics: {@code dealbridge.sync.outcomes{direction=DEAL_TO_ORDER,outcome}}, {@code dealbridge.commands{topology=store-connector}},
 * {@code dealbridge.sync.latency{direction=DEAL_TO_ORDER}} (from the deal change to the store write).
 */
public final class StoreConnector implements Runnable, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(StoreConnector.class);
    private static final String COMPONENT = "store-connector";
    private static final Duration VIEW_TIMEOUT = Duration.ofSeconds(30);

    private final OrderProjectorConfig config;
    private final Topics topics;
    private final Properties kafka;
    private final OrderWriter writer;
    private final MeterRegistry meters;
    private final Clock clock;
    private final Timer latency;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<KafkaClientMetrics> clientMetrics = new java.util.concurrent.CopyOnWriteArrayList<>();
    private static final java.time.Duration METRICS_REFRESH = java.time.Duration.ofSeconds(10);

    private static java.util.concurrent.ScheduledExecutorService metricsRefresh() {
        return java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "connector-metrics");
            t.setDaemon(true);
            return t;
        });
    }
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Map<Long, SyncLink> linksByDeal = new ConcurrentHashMap<>();
    private final Map<String, Long> dealByOrder = new ConcurrentHashMap<>();
    private final Map<String, CompiledMapping> mappings = new ConcurrentHashMap<>();
    private volatile KafkaConsumer<String, OrderCommand> consumer;

    /**
     * @param kafka client properties shared by the consumers and the producer (at least {@code bootstrap.servers})
     */
    public StoreConnector(OrderProjectorConfig config, Topics topics, Properties kafka, OrderWriter writer, MeterRegistry meters,
                          Clock clock) {
        this.config = config;
        this.topics = topics;
        this.kafka = kafka;
        this.writer = writer;
        this.meters = meters;
        this.clock = clock;
        this.latency = Timer.builder("dealbridge.sync.latency")
                .description("From the deal change in the CRM to the order write in the store")
                .tag("direction", SyncDirection.DEAL_TO_ORDER.name())
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
        consumerProps.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "100");
        Properties producerProps = new Properties();
        producerProps.putAll(kafka);
        producerProps.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, config.connectorGroupId() + "-" + UUID.randomUUID());
        producerProps.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        producerProps.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaConsumer<String, OrderCommand> consumer = new KafkaConsumer<>(consumerProps, new StringDeserializer(),
                topics.orderCommands().valueSerde().deserializer());
             KafkaProducer<String, byte[]> producer = new KafkaProducer<>(producerProps, Serdes.String().serializer(),
                     new ByteArraySerializer());
             CompactedTopicView<SyncLink> links = new CompactedTopicView<>(kafka, topics.dealLinks().name(),
                     topics.dealLinks().valueSerde().deserializer(), this::applyLink);
             CompactedTopicView<MappingProfile> mappingView = new CompactedTopicView<>(kafka, topics.mappingConfig().name(),
                     topics.mappingConfig().valueSerde().deserializer(), this::applyMapping)) {
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
            consumer.subscribe(List.of(topics.orderCommands().name()));
            while (running.get()) {
                ConsumerRecords<String, OrderCommand> records = consumer.poll(config.pollTimeout());
                if (records.isEmpty()) {
                    continue;
                }
                links.catchUp(VIEW_TIMEOUT);
                mappingView.catchUp(VIEW_TIMEOUT);
                process(records, consumer, producer);
            }
        } catch (WakeupException e) {
            if (running.get()) {
                throw e;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.error("Store connector failed and stops; uncommitted commands are consumed again on restart", e);
            throw e;
        } finally {
            clientMetrics.forEach(KafkaClientMetrics::close);
            clientMetrics.clear();
            stopped.countDown();
            log.info("Store connector stopped");
        }
    }

    private void applyLink(String orderKey, SyncLink link) {
        if (link == null) {
            Long deal = dealByOrder.remove(orderKey);
            if (deal != null) {
                linksByDeal.remove(deal);
            }
            return;
        }
        Long previous = dealByOrder.put(orderKey, link.getDealId());
        if (previous != null && previous != link.getDealId()) {
            linksByDeal.remove(previous);  // the order was linked to another deal: one deal per order
        }
        linksByDeal.put(link.getDealId(), link);
    }

    /** Keeps the last valid, newer version per site, as the topology's mapping table does. */
    private void applyMapping(String site, MappingProfile profile) {
        if (profile == null) {
            mappings.remove(site);
            return;
        }
        try {
            CompiledMapping compiled = MappingProfiles.compile(site, profile);
            CompiledMapping current = mappings.get(site);
            if (current == null || compiled.version() > current.version()) {
                mappings.put(site, compiled);
            }
        } catch (MappingInvalidException e) {
            log.warn("Store connector ignores invalid mapping version {} of site {}: {}", profile.getVersion(), site, e.getMessage());
        }
    }

    private void process(ConsumerRecords<String, OrderCommand> records, KafkaConsumer<String, OrderCommand> consumer,
                         KafkaProducer<String, byte[]> producer) throws InterruptedException {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        List<ConsumerRecord<String, OrderCommand>> sources = new ArrayList<>();
        List<OrderWrite> results = new ArrayList<>();
        for (ConsumerRecord<String, OrderCommand> record : records) {
            offsets.put(new TopicPartition(record.topic(), record.partition()), new OffsetAndMetadata(record.offset() + 1));
            OrderCommand command = record.value();
            if (command == null) {
                continue;
            }
            Counter.builder("dealbridge.commands").tags("topology", COMPONENT, "kind", command.getKind().name())
                    .register(meters).increment();
            OrderWrite result = writer.write(command, mappings.get(command.getSiteId().toString()), linksByDeal.get(command.getDealId()));
            if (result.link() != null) {
                // the next command of this poll for the same deal must see the state just agreed
                applyLink(Keys.order(result.link().getSiteId().toString(), result.link().getOrderId()), result.link());
            }
            results.add(result);
            sources.add(record);
        }
        try {
            producer.beginTransaction();
            for (int i = 0; i < results.size(); i++) {
                publish(producer, results.get(i), sources.get(i));
            }
            producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
            producer.commitTransaction();
        } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException e) {
            throw e;
        } catch (KafkaException e) {
            log.warn("Transaction of {} order write(s) failed, re-reading them from the last commit: {}", results.size(), e.toString());
            producer.abortTransaction();
            Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(offsets.keySet());
            for (TopicPartition partition : offsets.keySet()) {
                OffsetAndMetadata offset = committed.get(partition);
                if (offset == null) {
                    consumer.seekToBeginning(List.of(partition));
                } else {
                    consumer.seek(partition, offset.offset());
                }
            }
        }
    }

    private void publish(KafkaProducer<String, byte[]> producer, OrderWrite result, ConsumerRecord<String, OrderCommand> source) {
        OrderCommand c = result.command();
        Instant now = clock.instant();
        Long orderId = result.link() != null ? Long.valueOf(result.link().getOrderId()) : c.getOrderId();
        String key = orderId == null ? "deal:" + c.getDealId() : Keys.order(c.getSiteId().toString(), orderId);
        if (result.link() != null) {
            producer.send(new ProducerRecord<>(topics.dealLinks().name(), key,
                    topics.dealLinks().valueSerde().serializer().serialize(topics.dealLinks().name(), result.link())));
        }
        if (result.written()) {
            latency.record(Duration.between(c.getSourceTime(), now).abs());
        }
        SyncOutcome outcome = SyncOutcome.newBuilder()
                .setSiteId(c.getSiteId())
                .setOrderId(orderId)
                .setDealId(c.getDealId())
                .setDirection(SyncDirection.DEAL_TO_ORDER)
                .setOutcome(result.outcome())
                .setReason(result.reason())
                .setMappingVersion(c.getMappingVersion())
                .setCommandId(c.getCommandId())
                .setAt(now)
                .build();
        producer.send(new ProducerRecord<>(topics.syncOutcomes().name(), key,
                topics.syncOutcomes().valueSerde().serializer().serialize(topics.syncOutcomes().name(), outcome)));
        Counter.builder("dealbridge.sync.outcomes").tags("direction", SyncDirection.DEAL_TO_ORDER.name(),
                "outcome", result.outcome().name()).register(meters).increment();
        if (result.outcome() == Outcome.DEAD_LETTERED) {
            log.error("Dead-lettering the order command of deal {}: {}", c.getDealId(), result.reason());
            DeadLetter letter = DeadLetter.newBuilder()
                    .setId(UUID.randomUUID().toString())
                    .setComponent(COMPONENT)
                    .setSiteId(c.getSiteId())
                    .setSourceTopic(source.topic())
                    .setSourcePartition(source.partition())
                    .setSourceOffset(source.offset())
                    .setKey(source.key() == null ? null : ByteBuffer.wrap(source.key().getBytes(StandardCharsets.UTF_8)))
                    .setValue(ByteBuffer.wrap(topics.orderCommands().valueSerde().serializer().serialize(topics.orderCommands().name(), c)))
                    .setReason(result.reason())
                    .setErrorCode(result.errorCode())
                    .setAttempts(result.attempts())
                    .setFailedAt(now)
                    .build();
            producer.send(new ProducerRecord<>(topics.deadLetters().name(), letter.getId().toString(),
                    topics.deadLetters().valueSerde().serializer().serialize(topics.deadLetters().name(), letter)));
        }
    }

    /** Stops after the poll in progress is finished (its writes published and committed). */
    @Override
    public void close() throws InterruptedException {
        running.set(false);
        KafkaConsumer<String, OrderCommand> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        if (!stopped.await(30, TimeUnit.SECONDS)) {
            log.warn("Store connector did not stop within 30 s");
        }
    }
}
