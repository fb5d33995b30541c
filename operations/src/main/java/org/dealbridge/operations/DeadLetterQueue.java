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
 * <p>A replay re-publishes the failed record's original key and value bytes to its source topic and writes a
 * tombstone for the dead letter's id, both in one Kafka transaction: either both are visible or neither, so a
 * replayed dead letter is gone from the list and a second {@code replay --all} does not send it again. Should a
 * record still reach its topic twice (two admins replaying at once, or the record also re-sent by its source),
 * nothing is duplicated downstream: every write DealBridge makes is idempotent (commands carry their id, deals are
 * found by ORIGINATOR_ID+ORIGIN_ID, the latest order state alone decides).
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

    public DeadLetterQueue(Properties clientProperties, Topics topics) {
        this.clientProperties = clientProperties;
        this.topics = topics;
    }

    /** The current dead letters, oldest first; {@code siteId} null for all sites. */
    public List<DeadLetter> current(String siteId) {
        Map<String, DeadLetter> byId = new LinkedHashMap<>();
        var valueSerde = topics.deadLetters().valueSerde();
        for (ConsumerRecord<String, byte[]> r : new TopicScan(clientProperties).read(topics.deadLetters().name(), key -> key != null)) {
            if (r.value() == null) {
                byId.remove(r.key());
            } else {
                try {
                    byId.put(r.key(), valueSerde.deserializer().deserialize(r.topic(), r.value()));
                } catch (org.apache.kafka.common.errors.SerializationException e) {
                    // written around DealBridge: one such record must not hide every dead letter from the operator
                    log.warn("Skipping the unreadable record {} at {}-{} offset {}: {}", r.key(), r.topic(), r.partition(), r.offset(),
                            e.getMessage());
                }
            }
        }
        return byId.values().stream()
                .filter(d -> siteId == null || siteId.equals(d.getSiteId()))
                .sorted(Comparator.comparing(DeadLetter::getFailedAt).thenComparing(DeadLetter::getId))
                .toList();
    }

    /** What a replay did. */
    public record ReplayResult(List<DeadLetter> replayed, List<String> refused) {
    }

    /**
     * Replays the given dead letters, one transaction each, so one that cannot be replayed does not hold back the
     * others. A dead letter without a source topic or value (e.g. a poll failure that had no record) is refused with
     * the reason; it stays listed.
     */
    public ReplayResult replay(Collection<DeadLetter> deadLetters) {
        List<DeadLetter> replayed = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        if (deadLetters.isEmpty()) {
            return new ReplayResult(replayed, refused);
        }
        try (KafkaProducer<byte[], byte[]> producer = transactionalProducer()) {
            for (DeadLetter d : deadLetters) {
                if (d.getSourceTopic() == null || d.getValue() == null) {
                    refused.add(d.getId() + ": no source record was kept (component " + d.getComponent()
                            + "); fix the cause and let the source send it again");
                    log.warn("dead letter {} not replayed: it kept no source record", d.getId());
                    continue;
                }
                producer.beginTransaction();
                try {
                    ProducerRecord<byte[], byte[]> again = new ProducerRecord<>(d.getSourceTopic(), bytes(d.getKey()), bytes(d.getValue()));
                    again.headers().add(REPLAY_HEADER, d.getId().getBytes(StandardCharsets.UTF_8));
                    producer.send(again);
                    producer.send(new ProducerRecord<>(topics.deadLetters().name(), d.getId().getBytes(StandardCharsets.UTF_8), null));
                    producer.commitTransaction();
                    replayed.add(d);
                    log.info("replayed dead letter {} of {} to {} and retired it", d.getId(), d.getComponent(), d.getSourceTopic());
                } catch (ProducerFencedException e) {
                    // fatal for this producer: no abort possible, stop here; what was committed stays done
                    throw new IllegalStateException("another dlq replay started and took over after " + replayed.size()
                            + " replayed; run dlq list to see what is left", e);
                } catch (KafkaException e) {
                    producer.abortTransaction();
                    refused.add(d.getId() + ": " + e.getMessage());
                    log.error("replay of dead letter {} failed and was rolled back: {}", d.getId(), e.toString());
                }
            }
        }
        return new ReplayResult(replayed, refused);
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
