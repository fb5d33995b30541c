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
    private static final Logger log = LoggerFactory.getLogger(DeadLetterQueue.class);

    private final Properties clientProperties;
    private final Topics topics;
    /** Command topic → the topic of the events its commands are decided from; both keyed by the same key. */
    private final Map<String, Topics.Topic<String, ?>> decidedFrom;

    public DeadLetterQueue(Properties clientProperties, Topics topics) {
        this.clientProperties = clientProperties;
        this.topics = topics;
        this.decidedFrom = Map.of(topics.dealCommands().name(), topics.orderChanges(),
                topics.orderCommands().name(), topics.dealChanges());
    }

    /** The current dead letters, oldest first; {@code siteId} null for all sites. */
    public List<DeadLetter> current(String siteId) {
        Map<String, DeadLetter> byId = new LinkedHashMap<>();
        var valueSerde = topics.deadLetters().valueSerde();
        for (ConsumerRecord<String, byte[]> r : new TopicScan(clientProperties).read(topics.deadLetters().name(), key -> key != null)) {
            if (r.value() == null) {
                byId.remove(r.key());
            } else {
                byId.put(r.key(), valueSerde.deserializer().deserialize(r.topic(), r.value()));
            }
        }
        return byId.values().stream()
                .filter(d -> siteId == null || siteId.equals(d.getSiteId()))
                .sorted(Comparator.comparing(DeadLetter::getFailedAt).thenComparing(DeadLetter::getId))
                .toList();
    }

    /** Whether a replay can do anything with the letter: it kept its source record (or, for a command, the pair's key). */
    public boolean replayable(DeadLetter d) {
        return d.getSourceTopic() != null && (d.getValue() != null || isCommand(d) && d.getKey() != null);
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
        Map<String, Map<String, ConsumerRecord<String, byte[]>>> latestEvents = latestEvents(deadLetters);
        java.util.Set<String> decidedAgain = new java.util.HashSet<>();
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
                    if (plan.record() != null) {
                        plan.record().headers().add(REPLAY_HEADER, d.getId().getBytes(StandardCharsets.UTF_8));
                        producer.send(plan.record());
                    }
                    producer.send(new ProducerRecord<>(topics.deadLetters().name(), d.getId().getBytes(StandardCharsets.UTF_8), null));
                    producer.commitTransaction();
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
                }
            }
        }
        return new ReplayResult(replayed, refused, sentTo);
    }

    private Plan plan(DeadLetter d, Map<String, Map<String, ConsumerRecord<String, byte[]>>> latestEvents, java.util.Set<String> decidedAgain) {
        if (d.getSourceTopic() == null || d.getValue() == null && !(isCommand(d) && d.getKey() != null)) {
            return new Plan(null, null, "no source record was kept (component " + d.getComponent()
                    + "); fix the cause and let the source send it again, or dlq retire it");
        }
        if (!isCommand(d)) {
            return new Plan(new ProducerRecord<>(d.getSourceTopic(), bytes(d.getKey()), bytes(d.getValue())), d.getSourceTopic(), null);
        }
        String eventTopic = decidedFrom.get(d.getSourceTopic()).name();
        String key = keyOf(d);
        if (!decidedAgain.add(pairOf(d))) {
            return new Plan(null, eventTopic + " (" + key + " is decided again by another dead letter of this replay)", null);
        }
        ConsumerRecord<String, byte[]> latest = latestEvents.getOrDefault(eventTopic, Map.of()).get(key);
        if (latest == null) {
            decidedAgain.remove(pairOf(d));
            return new Plan(null, null, "the command on " + d.getSourceTopic() + " is not sent again (it may be stale), and no "
                    + eventTopic + " event of " + key + " is left to decide it again from (past the topic's retention); the pair's"
                    + " next change decides it again, or dlq retire it");
        }
        return new Plan(new ProducerRecord<>(eventTopic, latest.key().getBytes(StandardCharsets.UTF_8), latest.value()),
                eventTopic + " (the latest event of " + key + ", decided again)", null);
    }

    /** The latest committed event of every pair a command letter names, by event topic and key: one scan per topic. */
    private Map<String, Map<String, ConsumerRecord<String, byte[]>>> latestEvents(Collection<DeadLetter> deadLetters) {
        Map<String, java.util.Set<String>> wanted = new LinkedHashMap<>();
        for (DeadLetter d : deadLetters) {
            if (isCommand(d) && d.getKey() != null) {
                wanted.computeIfAbsent(decidedFrom.get(d.getSourceTopic()).name(), t -> new java.util.HashSet<>()).add(keyOf(d));
            }
        }
        Map<String, Map<String, ConsumerRecord<String, byte[]>>> latest = new LinkedHashMap<>();
        wanted.forEach((topic, keys) -> {
            Map<String, ConsumerRecord<String, byte[]>> byKey = new LinkedHashMap<>();
            for (ConsumerRecord<String, byte[]> r : new TopicScan(clientProperties).read(topic, k -> k != null && keys.contains(k))) {
                if (r.value() != null) {
                    // one key lives in one partition, where the offset orders its events: the last one is the latest
                    byKey.merge(r.key(), r, (a, b) -> a.partition() == b.partition()
                            ? (b.offset() > a.offset() ? b : a) : (b.timestamp() >= a.timestamp() ? b : a));
                }
            }
            latest.put(topic, byKey);
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
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, TRANSACTIONAL_ID);
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
