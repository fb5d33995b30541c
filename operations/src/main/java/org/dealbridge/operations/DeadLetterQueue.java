package org.dealbridge.operations;

import java.nio.ByteBuffer;
import org.dealbridge.schemas.KafkaClients;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.dealbridge.schemas.DeadLetter;
import org.dealbridge.schemas.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dead letters currently on the compacted {@code dead-letters} topic (the latest record per id, tombstones
 * removing), and their replay.
 *
 * <p>What a replay sends depends on what the letter holds:
 * <ul>
 *   <li>a <b>command</b> a connector gave up on ({@code deal-commands}, {@code order-commands}): the command was decided
 *       on the pair as it was then, and the order or the deal may have changed since, so it is never sent again.
 *       Instead the pair's latest change event ({@code order-changes} for a deal command, keyed alike by the order
 *       key; {@code deal-changes} for an order command, keyed alike by the deal id) is read from Kafka and published
 *       once more: the projector decides it again against the current link and mapping, and emits a fresh command
 *       only when the pair is still inconsistent. Several letters of one pair are decided again once;</li>
 *   <li>a record an <b>ingestion could not read</b> from its portal (a store order whose values were unreadable): no
 *       record was ever made, so the letter keeps only its source topic and key; the replay reads the record again now
 *       through the {@link PortalReread} given for that topic and publishes it as the ingestion would have;</li>
 *   <li>anything else (an unreadable record, an event a projector could not decide): nothing was decided yet, so the
 *       original key and value bytes go back to their source topic.</li>
 * </ul>
 * Either way the record and the dead letter's tombstone are written in one Kafka transaction: either both are
 * visible or neither, so a replayed dead letter is gone from the list and a second {@code replay --all} does not send
 * it again. Should a record still reach its topic twice (two admins replaying at once), nothing is duplicated
 * downstream: every write DealBridge makes is idempotent (deals are found by ORIGINATOR_ID+ORIGIN_ID, orders by
 * xmlId, the latest state alone decides).
 */
public final class DeadLetterQueue {
    /** Header on replayed records naming the dead letter they came from, so {@code trace} can tell a replay apart. */
    public static final String REPLAY_HEADER = "dealbridge-replay-of";
    /** Header on the tombstone of a dead letter retired without a replay: the admin's note on why. */
    public static final String RETIRED_NOTE_HEADER = "dealbridge-retired-note";
    /** Header on the tombstone of a retired dead letter: who retired it. */
    public static final String RETIRED_BY_HEADER = "dealbridge-retired-by";
    /** One transactional id for every replay, so two replays running at once fence each other instead of interleaving. */
    static final String TRANSACTIONAL_ID = "dealbridge-dlq-replay";
    /** Rounds of {@link #settle}: each needs yet another newer event of the pair to land while it runs. */
    private static final int SETTLE_ROUNDS = 5;
    private static final Logger log = LoggerFactory.getLogger(DeadLetterQueue.class);

    private final Properties clientProperties;
    private final Topics topics;
    /** Command topic → the topic of the events its commands are decided from; both keyed by the same key. */
    private final Map<String, Topics.Topic<String, ?>> decidedFrom;

    /** Runs between reading the pairs' latest events and publishing them (tests put a newer event there). */
    private final Runnable afterLatestEventsRead;
    /** Source topic → how to read again a record its ingestion could not read. */
    private final Map<String, PortalReread> rereads;

    public DeadLetterQueue(Properties clientProperties, Topics topics) {
        this(clientProperties, topics, Map.of());
    }

    /** @param rereads source topic → how to read again, from its portal, a record its ingestion could not read */
    public DeadLetterQueue(Properties clientProperties, Topics topics, Map<String, PortalReread> rereads) {
        this(clientProperties, topics, rereads, () -> { });
    }

    DeadLetterQueue(Properties clientProperties, Topics topics, Map<String, PortalReread> rereads, Runnable afterLatestEventsRead) {
        this.clientProperties = clientProperties;
        this.topics = topics;
        this.rereads = Map.copyOf(rereads);
        this.afterLatestEventsRead = afterLatestEventsRead;
        this.decidedFrom = Map.of(topics.dealCommands().name(), topics.orderChanges(),
                topics.orderCommands().name(), topics.dealChanges());
    }

    /** The current dead letters, oldest first; {@code siteId} null for all sites. */
    public List<DeadLetter> current(String siteId) {
        Map<String, DeadLetter> byId = new LinkedHashMap<>();
        scan((r, letter) -> {
            if (letter == null) {
                byId.remove(r.key());
            } else {
                byId.put(r.key(), letter);
            }
        });
        return byId.values().stream()
                .filter(d -> siteId == null || siteId.equals(d.getSiteId()))
                .sorted(Comparator.comparing(DeadLetter::getFailedAt).thenComparing(DeadLetter::getId))
                .toList();
    }

    /**
     * Every readable record of the dead-letter topic in order: the letter, or null for a tombstone. A record written
     * around DealBridge that is not a dead letter is skipped with its offset in the log: one such record must not hide
     * every dead letter from the operator.
     */
    private void scan(java.util.function.BiConsumer<ConsumerRecord<String, byte[]>, DeadLetter> each) {
        var deserializer = topics.deadLetters().valueSerde().deserializer();
        for (ConsumerRecord<String, byte[]> r : new TopicScan(clientProperties).read(topics.deadLetters().name(), key -> key != null)) {
            if (r.value() == null) {
                each.accept(r, null);
                continue;
            }
            DeadLetter letter;
            try {
                letter = deserializer.deserialize(r.topic(), r.value());
            } catch (org.apache.kafka.common.errors.SerializationException e) {
                log.warn("Skipping the unreadable record {} at {}-{} offset {}: {}", r.key(), r.topic(), r.partition(), r.offset(),
                        e.getMessage());
                continue;
            }
            each.accept(r, letter);
        }
    }

    /** A dead letter no longer current: replayed ({@code note} null), or retired with the admin's note. */
    public record Gone(DeadLetter letter, java.time.Instant at, String note, String by) {
        public boolean replayed() {
            return note == null;
        }
    }

    /**
     * The dead letters replayed or retired, oldest first, as long as the topic's compaction keeps their tombstones
     * ({@code delete.retention.ms}, a day by default); {@code siteId} null for all sites.
     */
    public List<Gone> gone(String siteId) {
        Map<String, DeadLetter> byId = new LinkedHashMap<>();
        List<Gone> gone = new ArrayList<>();
        scan((r, letter) -> {
            if (letter != null) {
                byId.put(r.key(), letter);
                return;
            }
            DeadLetter d = byId.remove(r.key());
            if (d != null && (siteId == null || siteId.equals(d.getSiteId()))) {
                org.apache.kafka.common.header.Header note = r.headers().lastHeader(RETIRED_NOTE_HEADER);
                org.apache.kafka.common.header.Header by = r.headers().lastHeader(RETIRED_BY_HEADER);
                gone.add(new Gone(d, java.time.Instant.ofEpochMilli(r.timestamp()),
                        note == null ? null : new String(note.value(), StandardCharsets.UTF_8),
                        by == null ? null : new String(by.value(), StandardCharsets.UTF_8)));
            }
        });
        return gone;
    }

    /**
     * Whether a replay can do anything with the letter: it kept its source record, or the key of what to decide or read
     * again (a command's pair; a record its ingestion could not read).
     */
    public boolean replayable(DeadLetter d) {
        return d.getSourceTopic() != null && (d.getValue() != null || isCommand(d) && d.getKey() != null || readableAgain(d));
    }

    /**
     * A letter of a record its ingestion could not read (source topic and key, no value) for a topic whose portal this
     * queue can read again.
     */
    private boolean readableAgain(DeadLetter d) {
        return d.getSourceTopic() != null && d.getValue() == null && d.getKey() != null && !isCommand(d)
                && rereads.containsKey(d.getSourceTopic());
    }

    /**
     * What a replay did: the letters replayed, each with where it went ({@code sentTo}: id → e.g.
     * {@code order-changes (the latest event of s1:5001, decided again)}), and the refusals with their reason.
     */
    public record ReplayResult(List<DeadLetter> replayed, List<String> refused, Map<String, String> sentTo) {
        public ReplayResult(List<DeadLetter> replayed, List<String> refused) {
            this(replayed, refused, Map.of());
        }
    }

    /** One replay: the record to send (null when the pair was already decided again in this replay), or why not. */
    private record Plan(ProducerRecord<byte[], byte[]> record, String sentTo, String refusal) {
    }

    /**
     * Replays the given dead letters, one transaction each, so one that cannot be replayed does not hold back the
     * others. A dead letter without a source record (e.g. a store order that could not be read), and a command whose
     * pair has no change event left on its topic (retention), are refused with the reason; they stay listed.
     */
    public ReplayResult replay(Collection<DeadLetter> deadLetters) {
        List<DeadLetter> replayed = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        Map<String, String> sentTo = new LinkedHashMap<>();
        if (deadLetters.isEmpty()) {
            return new ReplayResult(replayed, refused, sentTo);
        }
        Map<String, LatestEvents> latestEvents = latestEvents(deadLetters);
        afterLatestEventsRead.run();
        java.util.Set<String> decidedAgain = new java.util.HashSet<>();
        // event topic → pair key → where its latest event went again
        Map<String, Map<String, RecordMetadata>> republished = new LinkedHashMap<>();
        try (KafkaProducer<byte[], byte[]> producer = transactionalProducer()) {
            for (DeadLetter d : deadLetters) {
                Plan plan = plan(d, latestEvents, decidedAgain);
                if (plan.refusal() != null) {
                    refused.add(d.getId() + ": " + plan.refusal());
                    log.warn("dead letter {} not replayed: {}", d.getId(), plan.refusal());
                    continue;
                }
                producer.beginTransaction();
                try {
                    java.util.concurrent.Future<RecordMetadata> sent = null;
                    if (plan.record() != null) {
                        plan.record().headers().add(REPLAY_HEADER, d.getId().getBytes(StandardCharsets.UTF_8));
                        sent = producer.send(plan.record());
                    }
                    producer.send(new ProducerRecord<>(topics.deadLetters().name(), d.getId().getBytes(StandardCharsets.UTF_8), null));
                    producer.commitTransaction();
                    if (sent != null && isCommand(d)) {
                        republished.computeIfAbsent(plan.record().topic(), t -> new LinkedHashMap<>()).put(keyOf(d), sent.get());
                    }
                    replayed.add(d);
                    sentTo.put(d.getId(), plan.sentTo());
                    log.info("replayed dead letter {} of {} to {} and retired it", d.getId(), d.getComponent(), plan.sentTo());
                } catch (ProducerFencedException e) {
                    // fatal for this producer: no abort possible, stop here; what was committed stays done
                    throw new IllegalStateException("another dlq replay started and took over after " + replayed.size()
                            + " replayed; run dlq list to see what is left", e);
                } catch (KafkaException e) {
                    producer.abortTransaction();
                    decidedAgain.remove(pairOf(d));
                    refused.add(d.getId() + ": " + e.getMessage());
                    log.error("replay of dead letter {} failed and was rolled back: {}", d.getId(), e.toString());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted after replaying " + replayed.size() + " dead letter(s)", e);
                } catch (java.util.concurrent.ExecutionException e) {
                    // committed, so it was written; only its offset is unknown, which settle() needs
                    throw new IllegalStateException("replayed dead letter " + d.getId() + " but cannot tell where: " + e.getCause(), e);
                }
            }
            republished.forEach((topic, ours) -> settle(producer, topic, latestEvents.get(topic).ends(), ours));
        }
        return new ReplayResult(replayed, refused, sentTo);
    }

    /**
     * Closes the window between reading a pair's latest event and publishing it again: a newer event of the pair that
     * landed in between was decided before the replayed (older) one, which would leave the pair decided on the older
     * state. So when a pair's replayed event is not its last, nor followed by a newer one, the newest event before it is
     * published again after it; and so on from there, until each replayed pair's last event is its newest.
     */
    private void settle(KafkaProducer<byte[], byte[]> producer, String topic, Map<TopicPartition, Long> readUpTo,
                        Map<String, RecordMetadata> ours) {
        Map<TopicPartition, Long> from = readUpTo;
        Map<String, RecordMetadata> pending = new LinkedHashMap<>(ours);
        for (int round = 0; round < SETTLE_ROUNDS && !pending.isEmpty(); round++) {
            TopicScan.Scan since = new TopicScan(clientProperties).scan(topic, k -> k != null && pending.containsKey(k), from);
            Map<String, ConsumerRecord<String, byte[]>> newestBefore = new LinkedHashMap<>();
            java.util.Set<String> followed = new java.util.HashSet<>();
            for (ConsumerRecord<String, byte[]> r : since.records()) {
                RecordMetadata mine = pending.get(r.key());
                if (r.partition() != mine.partition() || r.offset() > mine.offset()) {
                    followed.add(r.key());  // a newer event comes after the replayed one: decided last, as it should be
                } else if (r.offset() < mine.offset() && r.value() != null) {
                    newestBefore.merge(r.key(), r, (a, b) -> b.offset() > a.offset() ? b : a);
                }
            }
            Map<String, RecordMetadata> again = new LinkedHashMap<>();
            for (Map.Entry<String, ConsumerRecord<String, byte[]>> e : newestBefore.entrySet()) {
                if (followed.contains(e.getKey())) {
                    continue;
                }
                ConsumerRecord<String, byte[]> newer = e.getValue();
                ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topic, newer.key().getBytes(StandardCharsets.UTF_8), newer.value());
                newer.headers().forEach(h -> record.headers().add(h));
                producer.beginTransaction();
                java.util.concurrent.Future<RecordMetadata> sent = producer.send(record);
                producer.commitTransaction();
                try {
                    again.put(e.getKey(), sent.get());
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while settling the replay of " + e.getKey(), ie);
                } catch (java.util.concurrent.ExecutionException ee) {
                    throw new IllegalStateException("cannot tell where the newer event of " + e.getKey() + " went: " + ee.getCause(), ee);
                }
                log.info("a newer {} event of {} arrived while it was replayed; published it again after the replay", topic, e.getKey());
            }
            pending.clear();
            pending.putAll(again);
            from = since.ends();
        }
    }

    private Plan plan(DeadLetter d, Map<String, LatestEvents> latestEvents, java.util.Set<String> decidedAgain) {
        if (readableAgain(d)) {
            return readAgain(d);
        }
        if (d.getSourceTopic() == null || d.getValue() == null && !(isCommand(d) && d.getKey() != null)) {
            return new Plan(null, null, "no source record was kept (component " + d.getComponent()
                    + "); fix the cause and let the source send it again, or dlq retire it"
                    + (d.getSourceTopic() != null && d.getKey() != null ? " (a record an ingestion could not read is read again"
                    + " from its portal by a replay that has the portal configured: store.webhook-url for the store's orders)" : ""));
        }
        if (!isCommand(d)) {
            return new Plan(new ProducerRecord<>(d.getSourceTopic(), bytes(d.getKey()), bytes(d.getValue())), d.getSourceTopic(), null);
        }
        String eventTopic = decidedFrom.get(d.getSourceTopic()).name();
        String key = keyOf(d);
        if (!decidedAgain.add(pairOf(d))) {
            return new Plan(null, eventTopic + " (" + key + " is decided again by another dead letter of this replay)", null);
        }
        LatestEvents events = latestEvents.get(eventTopic);
        ConsumerRecord<String, byte[]> latest = events == null ? null : events.byKey().get(key);
        if (latest == null) {
            decidedAgain.remove(pairOf(d));
            return new Plan(null, null, "the command on " + d.getSourceTopic() + " is not sent again (it may be stale), and no "
                    + eventTopic + " event of " + key + " is left to decide it again from (past the topic's retention); the pair's"
                    + " next change decides it again, or dlq retire it");
        }
        return new Plan(new ProducerRecord<>(eventTopic, latest.key().getBytes(StandardCharsets.UTF_8), latest.value()),
                eventTopic + " (the latest event of " + key + ", decided again)", null);
    }

    /** Reads the record of an ingestion's letter again from its portal; while the portal still cannot give it, the letter stays. */
    private Plan readAgain(DeadLetter d) {
        PortalReread reread = rereads.get(d.getSourceTopic());
        String key = keyOf(d);
        try {
            PortalReread.Reread record = reread.read(key);
            return new Plan(new ProducerRecord<>(d.getSourceTopic(), record.key().getBytes(StandardCharsets.UTF_8), record.value()),
                    d.getSourceTopic() + " (" + record.key() + " read again from its portal)", null);
        } catch (Exception e) {
            return new Plan(null, null, "record " + key + " of " + d.getSourceTopic() + " still cannot be read: " + e.getMessage());
        }
    }

    /** The latest committed event of each pair of one event topic, and the offsets the scan read up to. */
    private record LatestEvents(Map<String, ConsumerRecord<String, byte[]>> byKey, Map<TopicPartition, Long> ends) {
    }

    /** The latest committed event of every pair a command letter names, by event topic: one scan per topic. */
    private Map<String, LatestEvents> latestEvents(Collection<DeadLetter> deadLetters) {
        Map<String, java.util.Set<String>> wanted = new LinkedHashMap<>();
        for (DeadLetter d : deadLetters) {
            if (isCommand(d) && d.getKey() != null) {
                wanted.computeIfAbsent(decidedFrom.get(d.getSourceTopic()).name(), t -> new java.util.HashSet<>()).add(keyOf(d));
            }
        }
        Map<String, LatestEvents> latest = new LinkedHashMap<>();
        wanted.forEach((topic, keys) -> {
            Map<String, ConsumerRecord<String, byte[]>> byKey = new LinkedHashMap<>();
            TopicScan.Scan scan = new TopicScan(clientProperties).scan(topic, k -> k != null && keys.contains(k), Map.of());
            for (ConsumerRecord<String, byte[]> r : scan.records()) {
                if (r.value() != null) {
                    // one key lives in one partition, where the offset orders its events: the last one is the latest
                    byKey.merge(r.key(), r, (a, b) -> a.partition() == b.partition()
                            ? (b.offset() > a.offset() ? b : a) : (b.timestamp() >= a.timestamp() ? b : a));
                }
            }
            latest.put(topic, new LatestEvents(byKey, scan.ends()));
        });
        return latest;
    }

    /**
     * A command a connector gave up on: it is on a command topic and reads as a command of that topic. An unreadable
     * record of a command topic was never decided on, so it replays as it was.
     */
    private boolean isCommand(DeadLetter d) {
        Topics.Topic<String, ?> events = d.getSourceTopic() == null ? null : decidedFrom.get(d.getSourceTopic());
        if (events == null) {
            return false;
        }
        if (d.getValue() == null) {
            return true;
        }
        try {
            Topics.Topic<String, ?> commands = d.getSourceTopic().equals(topics.dealCommands().name()) ? topics.dealCommands() : topics.orderCommands();
            return commands.valueSerde().deserializer().deserialize(commands.name(), bytes(d.getValue())) != null;
        } catch (RuntimeException unreadable) {
            return false;
        }
    }

    private String pairOf(DeadLetter d) {
        return d.getSourceTopic() + "|" + keyOf(d);
    }

    private static String keyOf(DeadLetter d) {
        return d.getKey() == null ? null : StandardCharsets.UTF_8.decode(d.getKey().duplicate()).toString();
    }

    /**
     * Retires a dead letter without replaying it: the record is not wanted (the order was fixed by hand, or it was a
     * test), and the note says why. The note and who wrote it travel as headers of the tombstone, so the dead letter
     * leaves the list and {@code trace} still tells the story. Uses the replays' transactional id, so a retirement and
     * a replay of the same dead letter running at once cannot both happen unnoticed.
     *
     * @throws IllegalArgumentException when the note is blank or no current dead letter has that id
     */
    public DeadLetter retire(String id, String note, String retiredBy) {
        if (note == null || note.isBlank()) {
            throw new IllegalArgumentException("note: say why dead letter " + id + " is retired without a replay");
        }
        DeadLetter d = current(null).stream().filter(x -> x.getId().equals(id)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no current dead letter has id '" + id
                        + "' (already replayed or retired, or never existed)"));
        try (KafkaProducer<byte[], byte[]> producer = transactionalProducer()) {
            producer.beginTransaction();
            ProducerRecord<byte[], byte[]> tombstone = new ProducerRecord<>(topics.deadLetters().name(), id.getBytes(StandardCharsets.UTF_8), null);
            tombstone.headers().add(RETIRED_NOTE_HEADER, note.strip().getBytes(StandardCharsets.UTF_8));
            tombstone.headers().add(RETIRED_BY_HEADER, (retiredBy == null ? "unknown" : retiredBy).getBytes(StandardCharsets.UTF_8));
            producer.send(tombstone);
            producer.commitTransaction();
        }
        log.info("retired dead letter {} of {} without replay by {}: {}", id, d.getComponent(), retiredBy, note.strip());
        return d;
    }

    private KafkaProducer<byte[], byte[]> transactionalProducer() {
        Properties p = new Properties();
        p.putAll(clientProperties);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "dealbridge-dlq-replay");
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, topics.name(TRANSACTIONAL_ID));
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(KafkaClients.producer(p), new ByteArraySerializer(), new ByteArraySerializer());
        producer.initTransactions();
        return producer;
    }

    private static byte[] bytes(ByteBuffer buffer) {
        if (buffer == null) {
            return null;
        }
        ByteBuffer b = buffer.duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }
}
