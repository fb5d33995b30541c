package org.dealbridge.benchmarks;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.dealbridge.schemas.Topics;

/**
 * Order events per second through the deal projector (Kafka Streams, on the in-process broker) over a raw
 * consume → produce copy of the same records on the same broker in the same run, with exactly-once on and off.
 * The same N distinct new orders are read from the start of order-changes by each run; each run's rate is taken from
 * the moment it has its partitions (Streams: RUNNING; the raw copy: its first assignment) to its last output record,
 * so start-up and group joins are left out of both sides alike. Beside the rates, the CPU time of the threads that do
 * the work (the raw copy's loop, the projector's stream threads) per event, which the load of a shared machine does
 * not distort, and the changelog writes of each projector store per event.
 *
 * <p>Two more passes measure what Kafka Streams itself costs on this broker, whatever the topology: the same records
 * copied by a Streams app with no logic ({@code stream().to()}, bytes), and by one that also puts each record into a
 * persistent, changelogged store, cached as the projector's pending store is (Kafka's floor for a topology that keeps
 * one store per event). The projector's target (÷ raw ≥ 0.5) is only reachable where these are well above it.
 */
final class ProjectorThroughputBenchmark {
    static final String PASS_THROUGH = "bench-pass-through";
    static final String STREAMS_COPY = "bench-streams-copy";
    private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

    /**
     * @param rounds every round runs all four passes again; the figures are the last round's, so the first can warm
     *               up the JIT (in a cold JVM whichever pass runs first pays for it)
     */
    static BenchResult run(int orders, Duration window, int rounds) throws InterruptedException {
        BenchResult result = new BenchResult("projector-throughput");
        result.put("orders", orders).put("coalesceWindowMs", window.toMillis()).put("rounds", rounds);
        try (BenchRig rig = new BenchRig(4)) {
            try (Admin admin = Admin.create(rig.clientProperties())) {
                admin.createTopics(java.util.List.of(new NewTopic(PASS_THROUGH, 4, (short) 1),
                        new NewTopic(STREAMS_COPY, 4, (short) 1))).all().get();
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IllegalStateException("cannot create " + PASS_THROUGH, e);
            }
            rig.publishMapping();
            for (long id = 1; id <= orders; id++) {
                rig.send(BenchRig.order(id, "N", id % 2 == 0 ? 12 : 99, "1500"));
            }
            rig.producer.flush();
            for (int round = 1; round <= rounds; round++) {
                for (boolean exactlyOnce : new boolean[] {false, true}) {
                    String mode = exactlyOnce ? "Eos" : "AtLeastOnce";
                    long[] rawCpuNanos = new long[1];
                    double raw = passThrough(rig, orders, exactlyOnce, round, rawCpuNanos);
                    String appId = "bench-throughput-" + (exactlyOnce ? "eos" : "alo") + "-" + round;
                    long[] projectorCpuNanos = new long[1];
                    double projector = projector(rig, orders, window, exactlyOnce, appId, projectorCpuNanos);
                    long[] copyCpuNanos = new long[1];
                    double streamsCopy = streamsCopy(rig, orders, exactlyOnce, false, round, copyCpuNanos);
                    long[] storeCpuNanos = new long[1];
                    double streamsStore = streamsCopy(rig, orders, exactlyOnce, true, round, storeCpuNanos);
                    if (round == rounds) {
                        result.put("rawPerSecond" + mode, raw, "records/s consume → produce");
                        result.put("projectorPerSecond" + mode, projector, "order events/s → deal commands");
                        result.put("ratio" + mode, projector / raw, "projector ÷ raw (target ≥ 0.5)");
                        // CPU time is what a shared machine's load does not distort: the rates above are wall clock
                        double rawCpu = rawCpuNanos[0] / 1000.0 / orders;
                        double projectorCpu = projectorCpuNanos[0] / 1000.0 / orders;
                        result.put("rawCpuMicrosPerEvent" + mode, rawCpu, "CPU of the thread that consumes and sends, per record");
                        result.put("projectorCpuMicrosPerEvent" + mode, projectorCpu, "CPU of the stream threads, per order event");
                        result.put("cpuRatio" + mode, rawCpu / projectorCpu, "projector ÷ raw in events per CPU second");
                        result.put("streamsCopyRatio" + mode, streamsCopy / raw, "Kafka Streams stream().to() of the bytes ÷ raw");
                        result.put("streamsStoreRatio" + mode, streamsStore / raw,
                                "Kafka Streams copy putting each record in a cached, changelogged store ÷ raw");
                        result.put("streamsCopyCpuMicrosPerEvent" + mode, copyCpuNanos[0] / 1000.0 / orders,
                                "CPU of its stream threads, per record");
                        result.put("streamsStoreCpuMicrosPerEvent" + mode, storeCpuNanos[0] / 1000.0 / orders,
                                "CPU of its stream threads, per record");
                        changelogWrites(rig, appId).forEach((store, offsets) -> result.put("changelogPerEvent" + mode + "." + store,
                                offsets / (double) orders, "changelog offsets per order event (writes; with EOS also markers)"));
                    }
                }
            }
        }
        return result;
    }

    private static double projector(BenchRig rig, int orders, Duration window, boolean exactlyOnce, String appId,
                                    long[] cpuNanos) throws InterruptedException {
        try (OutputCounter out = new OutputCounter(rig.clientProperties(), Topics.DEAL_COMMANDS)) {
            rig.startProjector(BenchRig.projectorConfig(window, appId + "-crm"), appId, exactlyOnce, rig.dir.resolve(appId));
            BenchRig.await("the projector emitted " + orders + " deal commands", Duration.ofSeconds(120 + orders / 50),
                    () -> out.count() >= orders);
            cpuNanos[0] = streamThreadsCpuNanos(appId);
            rig.stopProjector();
            return out.ratePerSecondSince(rig.projectorRunningSince);
        }
    }

    /**
     * The same records through a Kafka Streams app of no logic of ours: copied as bytes, and with {@code withStore} each
     * also put into a persistent key-value store (RocksDB, changelogged, cached) before it is forwarded. Same commit
     * interval and guarantee as the projector; the rate is taken from RUNNING to the last output record.
     */
    private static double streamsCopy(BenchRig rig, int orders, boolean exactlyOnce, boolean withStore, int round, long[] cpuNanos)
            throws InterruptedException {
        String appId = "bench-streams-" + (withStore ? "store" : "copy") + "-" + (exactlyOnce ? "eos" : "alo") + "-" + round;
        org.apache.kafka.common.serialization.Serde<byte[]> bytes = org.apache.kafka.common.serialization.Serdes.ByteArray();
        org.apache.kafka.streams.StreamsBuilder builder = new org.apache.kafka.streams.StreamsBuilder();
        org.apache.kafka.streams.kstream.KStream<byte[], byte[]> in = builder.stream(Topics.ORDER_CHANGES,
                org.apache.kafka.streams.kstream.Consumed.with(bytes, bytes));
        if (withStore) {
            builder.addStateStore(org.apache.kafka.streams.state.Stores.keyValueStoreBuilder(
                    org.apache.kafka.streams.state.Stores.persistentKeyValueStore("copies"), bytes, bytes).withCachingEnabled());
            in = in.process(() -> new org.apache.kafka.streams.processor.api.Processor<byte[], byte[], byte[], byte[]>() {
                private org.apache.kafka.streams.processor.api.ProcessorContext<byte[], byte[]> context;
                private org.apache.kafka.streams.state.KeyValueStore<byte[], byte[]> store;

                @Override
                public void init(org.apache.kafka.streams.processor.api.ProcessorContext<byte[], byte[]> context) {
                    this.context = context;
                    this.store = context.getStateStore("copies");
                }

                @Override
                public void process(org.apache.kafka.streams.processor.api.Record<byte[], byte[]> record) {
                    store.put(record.key(), record.value());
                    context.forward(record);
                }
            }, "copies");
        }
        in.to(STREAMS_COPY, org.apache.kafka.streams.kstream.Produced.with(bytes, bytes));
        Properties props = rig.streamsProperties(appId, exactlyOnce, rig.dir.resolve(appId));
        long[] runningSince = new long[1];
        try (OutputCounter out = new OutputCounter(rig.clientProperties(), STREAMS_COPY);
             org.apache.kafka.streams.KafkaStreams streams = new org.apache.kafka.streams.KafkaStreams(builder.build(), props)) {
            streams.setStateListener((now, before) -> {
                if (now == org.apache.kafka.streams.KafkaStreams.State.RUNNING && runningSince[0] == 0) {
                    runningSince[0] = System.nanoTime();
                }
            });
            streams.start();
            BenchRig.await(appId + " copied " + orders + " records", Duration.ofSeconds(120 + orders / 50), () -> out.count() >= orders);
            cpuNanos[0] = streamThreadsCpuNanos(appId);
            return out.ratePerSecondSince(runningSince[0]);
        }
    }

    /** The CPU time the stream threads of a Kafka Streams app have used so far. */
    private static long streamThreadsCpuNanos(String appId) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.getName().startsWith(appId + "-") && thread.getName().contains("StreamThread"))
                .mapToLong(thread -> THREADS.getThreadCpuTime(thread.getId())).filter(nanos -> nanos > 0).sum();
    }

    /**
     * What the projector wrote to each store's changelog (store → end offsets summed over its partitions): the writes
     * that cost a record each besides the deal command. Under exactly-once each transaction adds a commit marker per
     * partition written.
     */
    private static Map<String, Long> changelogWrites(BenchRig rig, String appId) {
        String prefix = appId + "-";
        String suffix = "-changelog";
        try (Admin admin = Admin.create(rig.clientProperties())) {
            java.util.List<String> changelogs = admin.listTopics().names().get().stream()
                    .filter(topic -> topic.startsWith(prefix) && topic.endsWith(suffix)).sorted().toList();
            Map<TopicPartition, OffsetSpec> ends = new HashMap<>();
            admin.describeTopics(changelogs).allTopicNames().get().values().forEach(topic -> topic.partitions()
                    .forEach(p -> ends.put(new TopicPartition(topic.name(), p.partition()), OffsetSpec.latest())));
            Map<String, Long> writes = new java.util.TreeMap<>();
            admin.listOffsets(ends).all().get().forEach((partition, end) -> writes.merge(
                    partition.topic().substring(prefix.length(), partition.topic().length() - suffix.length()), end.offset(), Long::sum));
            return writes;
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("cannot read the changelogs of " + appId, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted reading the changelogs of " + appId, e);
        }
    }

    /** A plain consumer → producer copy of order-changes, transactional when exactlyOnce (as Streams' EOS v2 is). */
    private static double passThrough(BenchRig rig, int orders, boolean exactlyOnce, int round, long[] cpuNanos)
            throws InterruptedException {
        long cpuAtStart = THREADS.getCurrentThreadCpuTime();
        String group = "bench-raw-" + (exactlyOnce ? "eos" : "alo") + "-" + round;
        Properties consumerProps = rig.clientProperties();
        consumerProps.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        consumerProps.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        consumerProps.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        consumerProps.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        Properties producerProps = rig.clientProperties();
        producerProps.put(ProducerConfig.LINGER_MS_CONFIG, "5");  // what Streams sets by default for its producer
        if (exactlyOnce) {
            producerProps.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, group);
        }
        try (OutputCounter out = new OutputCounter(rig.clientProperties(), PASS_THROUGH);
             KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProps, new ByteArrayDeserializer(), new ByteArrayDeserializer());
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps, new ByteArraySerializer(), new ByteArraySerializer())) {
            if (exactlyOnce) {
                producer.initTransactions();
            }
            long[] assignedAt = new long[1];
            consumer.subscribe(java.util.List.of(Topics.ORDER_CHANGES), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(java.util.Collection<TopicPartition> partitions) {
                }

                @Override
                public void onPartitionsAssigned(java.util.Collection<TopicPartition> partitions) {
                    if (assignedAt[0] == 0) {
                        assignedAt[0] = System.nanoTime();
                    }
                }
            });
            long deadline = System.nanoTime() + Duration.ofSeconds(120 + orders / 50).toNanos();
            // commits every 100 ms, as the projector's Streams config does (commit.interval.ms): a transaction per poll
            // would make the raw side pay for ten times more commits than the projector
            long commitEvery = Duration.ofMillis(100).toNanos();
            long lastCommit = System.nanoTime();
            Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
            boolean inTransaction = false;
            while (out.count() < orders) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the pass-through copied only " + out.count() + " of " + orders);
                }
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(20));
                if (!records.isEmpty()) {
                    if (exactlyOnce && !inTransaction) {
                        producer.beginTransaction();
                        inTransaction = true;
                    }
                    for (ConsumerRecord<byte[], byte[]> record : records) {
                        producer.send(new ProducerRecord<>(PASS_THROUGH, record.key(), record.value()));
                        offsets.put(new TopicPartition(record.topic(), record.partition()), new OffsetAndMetadata(record.offset() + 1));
                    }
                }
                if (!offsets.isEmpty() && System.nanoTime() - lastCommit >= commitEvery) {
                    if (exactlyOnce) {
                        producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
                        producer.commitTransaction();
                        inTransaction = false;
                    } else {
                        consumer.commitAsync(new HashMap<>(offsets), null);
                    }
                    offsets.clear();
                    lastCommit = System.nanoTime();
                }
            }
            cpuNanos[0] = THREADS.getCurrentThreadCpuTime() - cpuAtStart;
            return out.ratePerSecondSince(assignedAt[0]);
        }
    }

    private ProjectorThroughputBenchmark() {
    }
}
