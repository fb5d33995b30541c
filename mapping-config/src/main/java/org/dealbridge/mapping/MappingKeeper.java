package org.dealbridge.mapping;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the last good mapping of every site the latest record on {@code mapping-config}.
 *
 * <p>The topic is compacted by site: once the log cleaner has run, only a site's latest record is left. When that
 * record is bad (written around the CLI, or not even Avro), the projectors' global store rejects it and keeps the
 * version in force — but only until the next restart, which would find nothing valid for the site. So when a record
 * is rejected ({@link MappingAdmission}, the store's own rule) while a good version is in force, the keeper writes
 * that version's record again, unchanged: the store sees the version in force again and does nothing, and compaction
 * now keeps the good record. Every instance may do this at once; the repeats are identical and harmless.
 *
 * <p>When DealBridge was not running at all while a bad record arrived and compaction removed every good one, nothing
 * is left to re-assert: the keeper says so at ERROR with the command that brings the last good version back
 * ({@code mapping rollback}), rather than guessing from {@code mapping-history} (a site withdrawn since must stay so).
 */
public final class MappingKeeper implements AutoCloseable {

    public static final String REASSERTED_METRIC = "dealbridge.mapping.reasserted";
    private static final Logger log = LoggerFactory.getLogger(MappingKeeper.class);

    private final MappingTopics topics;
    private final Properties client;
    private final MeterRegistry meters;
    private final Thread thread;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final CountDownLatch caughtUp = new CountDownLatch(1);
    private volatile boolean running = true;
    private volatile KafkaConsumer<String, byte[]> consumer;

    private MappingKeeper(Properties client, MappingTopics topics, MeterRegistry meters) {
        this.client = client;
        this.topics = topics;
        this.meters = meters;
        this.thread = new Thread(this::run, "mapping-keeper");
        this.thread.setDaemon(true);
    }

    /** Starts the keeper on its own thread. */
    public static MappingKeeper start(Properties client, MappingTopics topics, MeterRegistry meters) {
        MappingKeeper keeper = new MappingKeeper(client, topics, meters);
        keeper.thread.start();
        return keeper;
    }

    /** True once the keeper has read the topic to the end it had at start (for tests and health). */
    public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
        return caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void run() {
        Properties c = new Properties();
        c.putAll(client);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, "dealbridge-mapping-keeper");
        Properties p = new Properties();
        p.putAll(client);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "dealbridge-mapping-keeper");
        Map<String, byte[]> inForce = new HashMap<>();
        Set<String> latestRejected = new HashSet<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
             KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
            this.consumer = consumer;
            List<TopicPartition> partitions = consumer.partitionsFor(topics.current(), Duration.ofSeconds(30)).stream()
                    .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            boolean replaying = true;
            while (running) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    String site = record.key();
                    MappingAdmission.Verdict verdict = MappingAdmission.judge(topics, site, record.value(),
                            site == null ? null : inForce.get(site));
                    if (verdict instanceof MappingAdmission.Admit) {
                        inForce.put(site, record.value());
                        latestRejected.remove(site);
                    } else if (verdict instanceof MappingAdmission.Same) {
                        latestRejected.remove(site);
                    } else if (verdict instanceof MappingAdmission.Remove) {
                        inForce.remove(site);
                        latestRejected.remove(site);
                    } else if (site != null) {
                        latestRejected.add(site);
                    }
                }
                if (replaying && partitions.stream().allMatch(tp -> consumer.position(tp) >= end.get(tp))) {
                    replaying = false;
                    caughtUp.countDown();
                }
                if (!replaying && !latestRejected.isEmpty()) {
                    latestRejected.removeIf(site -> reassert(producer, site, inForce.get(site)));  // a failed write is tried again
                }
            }
        } catch (WakeupException e) {
            if (running) {
                log.error("mapping keeper stopped unexpectedly", e);
            }
        } catch (RuntimeException e) {
            log.error("mapping keeper stopped: a bad mapping record may outlive the last good one after compaction", e);
        } finally {
            stopped.countDown();
        }
    }

    /** @return false when the write failed and must be tried again */
    private boolean reassert(KafkaProducer<String, byte[]> producer, String site, byte[] good) {
        if (good == null) {
            log.error("The latest mapping record of site {} on {} is not valid and no valid version is left on the topic: "
                    + "after a restart site {} has no mapping. Bring the last good version back with "
                    + "'bin/dealbridge mapping history {}' and 'bin/dealbridge mapping rollback {} --to N'",
                    site, topics.current(), site, site, site);
            return true;
        }
        try {
            producer.send(new ProducerRecord<>(topics.current(), site, good)).get(30, TimeUnit.SECONDS);
            Counter.builder(REASSERTED_METRIC)
                    .description("Times the last good mapping was written again after a bad record, so compaction keeps it")
                    .tag("site", site).register(meters).increment();
            log.warn("Wrote the mapping of site {} version {} again after a rejected record, so that compaction keeps it",
                    site, MappingAdmission.decode(topics, good).getVersion());
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return true;
        } catch (Exception e) {
            log.error("could not write the last good mapping of site {} again (trying again): {}", site, e.toString());
            return false;
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        KafkaConsumer<String, byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        if (!stopped.await(30, TimeUnit.SECONDS)) {
            log.warn("mapping keeper did not stop within 30 s");
        }
    }
}
