package org.dealbridge.console;

import com.fasterxml.jackson.databind.node.ArrayNode;
import org.dealbridge.schemas.KafkaClients;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.bitrix.PortalRateLimiter;
import org.dealbridge.operations.DeadLetterQueue;
import org.dealbridge.schemas.SyncOutcome;
import org.dealbridge.schemas.Topics;

/**
 * The overview page's figures, read from where they live: each role's health, the lag of every consumer group on
 * DealBridge's topics (committed offsets against end offsets, as {@code kafka-consumer-groups --describe} shows it),
 * the sync outcomes of the last hour by kind (read from {@code sync-outcomes} from the offsets of an hour ago, so the
 * figure is the same after a restart), the dead letters waiting, and how full each portal's request bucket is.
 */
final class Overview {
    static final Duration WINDOW = Duration.ofHours(1);
    /** The chart's buckets: twelve of five minutes. */
    static final Duration BUCKET = Duration.ofMinutes(5);
    private static final Duration TIMEOUT = Duration.ofSeconds(15);
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private final ConsoleSources sources;
    private final Clock clock;

    Overview(ConsoleSources sources, Clock clock) {
        this.sources = sources;
        this.clock = clock;
    }

    ObjectNode read() {
        ObjectNode out = JSON.objectNode();
        out.put("siteId", sources.siteId());
        ObjectNode health = out.putObject("health");
        sources.health().get().forEach((role, h) -> health.putObject(role).put("status", h.status()).put("detail", h.detail()));
        out.set("lag", lag());
        out.set("outcomes", outcomesOfLastHour());
        out.put("deadLetters", new DeadLetterQueue(sources.kafkaClientProperties(), sources.topics()).current(null).size());
        ArrayNode budget = out.putArray("rateBudget");
        sources.crm().ifPresent(crm -> budget.add(bucket("crm", crm.client())));
        sources.store().ifPresent(store -> budget.add(bucket("store", store.client())));
        return out;
    }

    private static ObjectNode bucket(String portal, BitrixClient client) {
        PortalRateLimiter limiter = client.rateLimiter();
        double level = limiter.currentLevel();
        int burst = limiter.options().burst();
        return JSON.objectNode().put("portal", portal).put("inUse", Math.min(1.0, level / burst))
                .put("requestsInBucket", Math.round(level * 10) / 10.0).put("burst", burst)
                .put("requestsPerSecond", limiter.currentRate());
    }

    /** Lag per consumer group and DealBridge topic; groups of other applications on a shared cluster are left out. */
    private ArrayNode lag() {
        Set<String> ours = sources.topics().definitions().stream().map(Topics.Definition::name).collect(Collectors.toSet());
        ArrayNode rows = JSON.arrayNode();
        try (Admin admin = Admin.create(KafkaClients.admin(sources.kafkaClientProperties()))) {
            List<String> groups = admin.listConsumerGroups().all().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).stream()
                    .map(ConsumerGroupListing::groupId).sorted().toList();
            Map<String, Map<TopicPartition, OffsetAndMetadata>> committed = new TreeMap<>();
            Map<TopicPartition, OffsetSpec> wanted = new HashMap<>();
            for (String group : groups) {
                Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()
                        .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                offsets.entrySet().removeIf(e -> e.getValue() == null || !ours.contains(e.getKey().topic()));
                if (!offsets.isEmpty()) {
                    committed.put(group, offsets);
                    offsets.keySet().forEach(tp -> wanted.put(tp, OffsetSpec.latest()));
                }
            }
            Map<TopicPartition, Long> end = new HashMap<>();
            admin.listOffsets(wanted).all().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).forEach((tp, info) -> end.put(tp, info.offset()));
            committed.forEach((group, offsets) -> {
                Map<String, Long> byTopic = new TreeMap<>();
                offsets.forEach((tp, o) -> byTopic.merge(tp.topic(), Math.max(0, end.getOrDefault(tp, o.offset()) - o.offset()), Long::sum));
                byTopic.forEach((topic, lag) -> rows.addObject().put("group", group).put("topic", topic).put("lag", lag));
            });
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading consumer lag", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot read consumer lag from Kafka: " + e.getMessage(), e);
        }
        return rows;
    }

    /** Outcomes of the last hour: totals by kind, and per five-minute bucket for the chart. */
    private ObjectNode outcomesOfLastHour() {
        Instant now = clock.instant();
        Instant from = now.minus(WINDOW);
        Map<String, Long> totals = new TreeMap<>();
        int buckets = (int) (WINDOW.toMillis() / BUCKET.toMillis());
        List<Map<String, Long>> perBucket = new ArrayList<>();
        for (int i = 0; i < buckets; i++) {
            perBucket.add(new TreeMap<>());
        }
        var deserializer = sources.topics().syncOutcomes().valueSerde().deserializer();
        for (ConsumerRecord<String, byte[]> r : recordsSince(sources.topics().syncOutcomes().name(), from)) {
            if (r.value() == null || r.timestamp() < from.toEpochMilli()) {
                continue;
            }
            SyncOutcome o = deserializer.deserialize(r.topic(), r.value());
            String kind = o.getOutcome().name();
            totals.merge(kind, 1L, Long::sum);
            int bucket = (int) Math.min(buckets - 1, (r.timestamp() - from.toEpochMilli()) / BUCKET.toMillis());
            perBucket.get(bucket).merge(kind, 1L, Long::sum);
        }
        ObjectNode out = JSON.objectNode();
        out.put("from", from.toString()).put("to", now.toString()).put("bucketMinutes", BUCKET.toMinutes());
        ObjectNode t = out.putObject("byKind");
        totals.forEach(t::put);
        ArrayNode b = out.putArray("buckets");
        for (int i = 0; i < buckets; i++) {
            ObjectNode bucket = b.addObject().put("from", from.plus(BUCKET.multipliedBy(i)).toString());
            perBucket.get(i).forEach(bucket.putObject("byKind")::put);
        }
        return out;
    }

    /** Committed records of a topic written since {@code from}, up to its end offsets now; no consumer group. */
    private List<ConsumerRecord<String, byte[]>> recordsSince(String topic, Instant from) {
        Properties p = sources.kafkaClientProperties();
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "dealbridge-console");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.remove(ConsumerConfig.GROUP_ID_CONFIG);
        List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(KafkaClients.consumer(p), new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, TIMEOUT).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            if (partitions.isEmpty()) {
                return out;
            }
            consumer.assign(partitions);
            Map<TopicPartition, Long> query = new HashMap<>();
            partitions.forEach(tp -> query.put(tp, from.toEpochMilli()));
            Map<TopicPartition, OffsetAndTimestamp> start = consumer.offsetsForTimes(query, TIMEOUT);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, TIMEOUT);
            Map<TopicPartition, Long> remaining = new HashMap<>();
            for (TopicPartition tp : partitions) {
                long at = Optional.ofNullable(start.get(tp)).map(OffsetAndTimestamp::offset).orElse(end.get(tp));
                consumer.seek(tp, at);
                if (at < end.get(tp)) {
                    remaining.put(tp, end.get(tp));
                }
            }
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (!remaining.isEmpty() && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition()))) {
                        out.add(r);
                    }
                }
                remaining.entrySet().removeIf(e -> consumer.position(e.getKey()) >= e.getValue());
            }
        }
        return out;
    }
}
