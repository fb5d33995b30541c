package org.dealbridge.operations;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.dealbridge.schemas.DeadLetter;
import org.dealbridge.schemas.DealChanged;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.OrderChanged;
import org.dealbridge.schemas.OrderCommand;
import org.dealbridge.schemas.SyncLink;
import org.dealbridge.schemas.SyncOutcome;
import org.dealbridge.schemas.Topics;

/**
 * The story of one order, told from the topics: its events, the decisions with their reasons, the commands, the
 * API results (outcomes written by the connectors), the link to its deal, dead letters, and then the linked deal's
 * events and the commands back to the store. Read-only; every topic is scanned from its beginning and filtered by
 * key (see {@link TopicScan} for the cost).
 */
public final class OrderTrace {

    /** One thing that happened, at the time Kafka recorded it. */
    public record Entry(Instant at, String topic, String text) {
    }

    /** The entries in time order, and the deals the order is linked to (empty: no deal). */
    public record Story(Keys.OrderKey order, List<Entry> entries, Set<Long> linkedDeals) {
    }

    private final TopicScan scan;
    private final Topics topics;

    public OrderTrace(Properties clientProperties, Topics topics) {
        this.scan = new TopicScan(clientProperties);
        this.topics = topics;
    }

    public Story of(Keys.OrderKey order) {
        String key = order.toString();
        List<Entry> entries = new ArrayList<>();
        Set<Long> deals = new TreeSet<>();
        Set<Long> linked = new TreeSet<>();

        for (var r : scan.read(topics.orderChanges().name(), key::equals)) {
            OrderChanged e = topics.orderChanges().valueSerde().deserializer().deserialize(r.topic(), r.value());
            entries.add(entry(r, String.format("order event (%s%s): status %s, paid %s, canceled %s, total %s %s%s",
                    e.getCause().getSource(), actor(e.getCause().getActor()), e.getStatusId(), yesNo(e.getPaid()),
                    yesNo(e.getCanceled()), e.getPrice(), e.getCurrency(), replayNote(r))));
        }
        for (var r : scan.read(topics.dealCommands().name(), key::equals)) {
            DealCommand c = topics.dealCommands().valueSerde().deserializer().deserialize(r.topic(), r.value());
            if (c.getDealId() != null) {
                deals.add(c.getDealId());
            }
            entries.add(entry(r, String.format("command %s %s%s (mapping v%d): %s%s", c.getKind(), c.getCommandId(),
                    c.getDealId() == null ? "" : " for deal " + c.getDealId(), c.getMappingVersion(), fields(c.getFields()),
                    replayNote(r))));
        }
        for (var r : scan.read(topics.dealLinks().name(), key::equals)) {
            if (r.value() == null) {
                entries.add(entry(r, "link removed"));
                linked.clear();
                continue;
            }
            SyncLink l = topics.dealLinks().valueSerde().deserializer().deserialize(r.topic(), r.value());
            deals.add(l.getDealId());
            linked.clear();
            linked.add(l.getDealId());
            entries.add(entry(r, String.format("linked to deal %d (pipeline %d, stage %s, order status %s, first made from the %s)",
                    l.getDealId(), l.getCategoryId(), l.getStageId(), l.getStatusId(), l.getOrigin().name().toLowerCase())));
        }
        // outcomes of the order side are keyed by the order key; those of the deal side by "deal:{id}" when the order was unknown
        for (var r : scan.read(topics.syncOutcomes().name(), key::equals)) {
            SyncOutcome o = topics.syncOutcomes().valueSerde().deserializer().deserialize(r.topic(), r.value());
            if (o.getDealId() != null) {
                deals.add(o.getDealId());
            }
            entries.add(entry(r, outcome(o)));
        }
        ByteBuffer keyBytes = ByteBuffer.wrap(key.getBytes(StandardCharsets.UTF_8));
        deadLetters(entries, d -> d.getKey() != null && keyBytes.equals(d.getKey().duplicate()));

        Set<String> dealKeys = deals.stream().map(Keys::deal).collect(Collectors.toSet());
        Set<String> outcomeKeys = deals.stream().map(id -> "deal:" + id).collect(Collectors.toSet());
        if (!deals.isEmpty()) {
            for (var r : scan.read(topics.dealChanges().name(), dealKeys::contains)) {
                DealChanged d = topics.dealChanges().valueSerde().deserializer().deserialize(r.topic(), r.value());
                entries.add(entry(r, d.getDeleted()
                        ? String.format("deal %d deleted in the CRM (%s%s)", d.getDealId(), d.getCause().getSource(), actor(d.getCause().getActor()))
                        : String.format("deal %d changed (%s%s): pipeline %d, stage %s", d.getDealId(), d.getCause().getSource(),
                                actor(d.getCause().getActor()), d.getCategoryId(), d.getStageId())));
            }
            for (var r : scan.read(topics.orderCommands().name(), dealKeys::contains)) {
                OrderCommand c = topics.orderCommands().valueSerde().deserializer().deserialize(r.topic(), r.value());
                entries.add(entry(r, String.format("store command %s %s from deal %d (mapping v%d): status %s%s", c.getKind(),
                        c.getCommandId(), c.getDealId(), c.getMappingVersion(), c.getStatusId(),
                        c.getExpectedStatusId() == null ? "" : " (expected " + c.getExpectedStatusId() + ")")));
            }
            for (var r : scan.read(topics.syncOutcomes().name(), outcomeKeys::contains)) {
                entries.add(entry(r, outcome(topics.syncOutcomes().valueSerde().deserializer().deserialize(r.topic(), r.value()))));
            }
            deadLetters(entries, d -> d.getKey() != null && dealKeys.contains(StandardCharsets.UTF_8.decode(d.getKey().duplicate()).toString()));
        }
        entries.sort(Comparator.comparing(Entry::at));
        return new Story(order, List.copyOf(entries), linked);
    }

    /** Dead letters of the order (or its deals), and their retirement by a replay (the tombstone on dead-letters). */
    private void deadLetters(List<Entry> entries, Predicate<DeadLetter> belongs) {
        Set<String> shown = new java.util.HashSet<>();
        for (var r : scan.read(topics.deadLetters().name(), k -> k != null)) {
            if (r.value() == null) {
                if (shown.remove(r.key())) {
                    Header note = r.headers().lastHeader(DeadLetterQueue.RETIRED_NOTE_HEADER);
                    Header by = r.headers().lastHeader(DeadLetterQueue.RETIRED_BY_HEADER);
                    entries.add(entry(r, note == null ? "dead letter " + r.key() + " replayed and retired"
                            : "dead letter " + r.key() + " retired without replay" + (by == null ? "" : " by " + utf8(by))
                            + ": " + utf8(note)));
                }
                continue;
            }
            DeadLetter d;
            try {
                d = topics.deadLetters().valueSerde().deserializer().deserialize(r.topic(), r.value());
            } catch (org.apache.kafka.common.errors.SerializationException unreadable) {
                continue; // written around DealBridge, and no order's story (dlq list names it)
            }
            if (belongs.test(d)) {
                shown.add(r.key());
                entries.add(entry(r, deadLetter(d)));
            }
        }
    }

    /**
     * The order a deal is linked to (the latest link naming the deal), for finding an order's story from its deal.
     * Empty when no order was ever linked to it.
     */
    public java.util.Optional<Keys.OrderKey> orderOfDeal(long dealId) {
        Keys.OrderKey found = null;
        for (var r : scan.read(topics.dealLinks().name(), k -> k != null)) {
            if (r.value() != null
                    && topics.dealLinks().valueSerde().deserializer().deserialize(r.topic(), r.value()).getDealId() == dealId) {
                found = Keys.parseOrder(r.key());
            }
        }
        return java.util.Optional.ofNullable(found);
    }

    private static String utf8(Header h) {
        return new String(h.value(), StandardCharsets.UTF_8);
    }

    private static Entry entry(ConsumerRecord<String, byte[]> r, String text) {
        return new Entry(Instant.ofEpochMilli(r.timestamp()), r.topic(), text);
    }

    private static String outcome(SyncOutcome o) {
        StringBuilder b = new StringBuilder("outcome ").append(o.getDirection()).append(' ').append(o.getOutcome())
                .append(": ").append(o.getReason());
        if (o.getMappingVersion() != null) {
            b.append(" (mapping v").append(o.getMappingVersion()).append(')');
        }
        if (o.getCommandId() != null) {
            b.append(" [command ").append(o.getCommandId()).append(']');
        }
        return b.toString();
    }

    private static String deadLetter(DeadLetter d) {
        return String.format("dead letter %s from %s after %d attempt(s): %s%s — fix the cause, then dlq replay %s",
                d.getId(), d.getComponent(), d.getAttempts(), d.getReason(),
                d.getErrorCode() == null ? "" : " [" + d.getErrorCode() + "]", d.getId());
    }

    private static String replayNote(ConsumerRecord<String, byte[]> r) {
        Header h = r.headers().lastHeader(DeadLetterQueue.REPLAY_HEADER);
        return h == null ? "" : " (replay of dead letter " + new String(h.value(), StandardCharsets.UTF_8) + ")";
    }

    private static String fields(Map<String, String> fields) {
        return fields.isEmpty() ? "no field changes" : new java.util.TreeMap<>(fields).toString();
    }

    private static String actor(String actor) {
        return actor == null ? "" : " by " + actor;
    }

    private static String yesNo(boolean b) {
        return b ? "yes" : "no";
    }
}
