package org.dealbridge.schemas;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.dealbridge.schemas.registry.SchemaRegistry;
import org.dealbridge.schemas.serde.AvroSerde;

/**
 * Every topic DealBridge reads or writes: name, key and value serdes, and the configs it is created with.
 * One place, so a name or a serde is never spelled twice. Keys are described in {@link Keys}.
 */
public final class Topics {

    /** Store order changes (OrderChanged), key {@code {siteId}:{orderId}}. Upstream systems may publish here directly. */
    public static final String ORDER_CHANGES = "order-changes";
    /** CRM deal changes (DealChanged), key the deal id. */
    public static final String DEAL_CHANGES = "deal-changes";
    /** Writes for the CRM connector (DealCommand), key the order key. */
    public static final String DEAL_COMMANDS = "deal-commands";
    /** Writes for the store connector (OrderCommand), key the deal id. */
    public static final String ORDER_COMMANDS = "order-commands";
    /** Published mapping versions (MappingProfile), key the site id; compacted. */
    public static final String MAPPING_CONFIG = "mapping-config";
    /** Every published mapping version (MappingProfile), key {@code {siteId}:{version}}; compacted, so history survives compaction of mapping-config. */
    public static final String MAPPING_HISTORY = "mapping-history";
    /** Order-deal links (SyncLink), key the order key; compacted. */
    public static final String DEAL_LINKS = "deal-links";
    /** What was decided and why (SyncOutcome). */
    public static final String SYNC_OUTCOMES = "sync-outcomes";
    /** Records that could not be processed (DeadLetter), key the dead letter id; compacted so a replay can retire one with a tombstone. */
    public static final String DEAD_LETTERS = "dead-letters";
    /** Poll cursors of the ingestion side (key e.g. {@code store-poll:s1}, value the cursor as text); compacted. */
    public static final String INGEST_CURSORS = "ingest-cursors";
    /**
     * The CRM contact of each buyer the CRM connector has met, keyed by the buyer's normalised e-mail
     * ({@code email:anna@example.com}) and phone ({@code phone:79990001122}), the contact id as text: a returning buyer
     * costs no search and no add.
     */
    public static final String BUYER_CONTACTS = "buyer-contacts";
    /**
     * No records: its one partition is what the instances of one installation compete for, once per poller group
     * (Kafka's group membership elects the member that is assigned partition 0 to run that side's pollers).
     */
    public static final String POLLER_LEADERSHIP = "poller-leadership";
    /** Schemas of the embedded registry (used only without schema-registry.url); compacted, one partition. */
    public static final String SCHEMAS = "_dealbridge_schemas";

    /** How a topic is created. */
    public record Definition(String name, boolean compacted, Duration retention, boolean singlePartition, String doc) {
        public Map<String, String> configs() {
            if (compacted) {
                return Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
                        TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, "0");
            }
            return Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE,
                    TopicConfig.RETENTION_MS_CONFIG, Long.toString(retention.toMillis()));
        }
    }

    private static final Duration EVENTS = Duration.ofDays(7);

    /** Every topic, with its configs; created at start-up with the configured partitions and replication. */
    public static final List<Definition> DEFINITIONS = List.of(
            new Definition(ORDER_CHANGES, false, EVENTS, false, "store order changes"),
            new Definition(DEAL_CHANGES, false, EVENTS, false, "CRM deal changes"),
            new Definition(DEAL_COMMANDS, false, EVENTS, false, "writes for the CRM connector"),
            new Definition(ORDER_COMMANDS, false, EVENTS, false, "writes for the store connector"),
            new Definition(MAPPING_CONFIG, true, null, true, "published mapping versions"),
            new Definition(MAPPING_HISTORY, true, null, true, "every mapping version ever published"),
            new Definition(DEAL_LINKS, true, null, false, "order-deal links"),
            new Definition(SYNC_OUTCOMES, false, Duration.ofDays(30), false, "decisions and their reasons"),
            new Definition(DEAD_LETTERS, true, null, false, "records that could not be processed"),
            new Definition(INGEST_CURSORS, true, null, true, "poll cursors"),
            new Definition(BUYER_CONTACTS, true, null, false, "the CRM contact of each buyer met"),
            new Definition(POLLER_LEADERSHIP, true, null, true, "the one partition whose owner runs the pollers"),
            new Definition(SCHEMAS, true, null, true, "embedded schema registry"));

    /**
     * Every topic's definition with its name on the broker: {@code topicPrefix} + the name above. The prefix lets several
     * installations share one cluster ({@code kafka.topic-prefix}); empty, the names are the ones above.
     */
    public static List<Definition> definitions(String topicPrefix) {
        return DEFINITIONS.stream().map(d -> new Definition(topicPrefix + d.name(), d.compacted(), d.retention(),
                d.singlePartition(), d.doc())).toList();
    }

    /** Topic names are at most this long on the broker (Kafka's limit). */
    public static final int MAX_NAME_LENGTH = 249;
    /**
     * Room kept for the longest name a prefix is put in front of: Kafka Streams names its internal topics
     * {@code {application.id}-{store name}-changelog} (today at most 61 characters, e.g.
     * {@code dealbridge-deal-projector-deal-projector-projected-changelog}); twice that leaves room for new stores
     * and repartition topics. SeveralInstallationsTest checks every name on the broker against it.
     */
    public static final int LONGEST_UNPREFIXED_NAME = 120;

    /**
     * Why {@code topicPrefix} cannot stand in front of DealBridge's topic names, group and transactional ids, or empty when
     * it can: Kafka allows only ASCII letters, digits, '.', '_' and '-' in a topic name, at most {@value #MAX_NAME_LENGTH}
     * long.
     */
    public static java.util.Optional<String> prefixProblem(String topicPrefix) {
        if (!topicPrefix.matches("[a-zA-Z0-9._-]*")) {
            return java.util.Optional.of("may contain only ASCII letters, digits, '.', '_' and '-' (Kafka's topic name characters)");
        }
        if (topicPrefix.length() + LONGEST_UNPREFIXED_NAME > MAX_NAME_LENGTH) {
            return java.util.Optional.of("is " + topicPrefix.length() + " characters long; at most "
                    + (MAX_NAME_LENGTH - LONGEST_UNPREFIXED_NAME) + " keep every topic name it starts (Kafka Streams' "
                    + "internal ones included) within Kafka's " + MAX_NAME_LENGTH);
        }
        return java.util.Optional.empty();
    }

    /** A topic with its serdes. */
    public record Topic<K, V>(String name, Serde<K> keySerde, Serde<V> valueSerde) {
    }

    private final Topic<String, OrderChanged> orderChanges;
    private final Topic<String, DealChanged> dealChanges;
    private final Topic<String, DealCommand> dealCommands;
    private final Topic<String, OrderCommand> orderCommands;
    private final Topic<String, MappingProfile> mappingConfig;
    private final Topic<String, SyncLink> dealLinks;
    private final Topic<String, SyncOutcome> syncOutcomes;
    private final Topic<String, DeadLetter> deadLetters;
    private final Topic<String, String> ingestCursors;
    private final Topic<String, String> buyerContacts;
    private final String prefix;

    /** The topics of an installation without a prefix: the names above. */
    public Topics(SchemaRegistry registry) {
        this(registry, "");
    }

    /**
     * The topics of an installation whose names start with {@code topicPrefix} ({@code kafka.topic-prefix}).
     *
     * @throws IllegalArgumentException when {@link #prefixProblem} finds one
     */
    public Topics(SchemaRegistry registry, String topicPrefix) {
        prefixProblem(topicPrefix).ifPresent(problem -> {
            throw new IllegalArgumentException("topic prefix \"" + topicPrefix + "\" " + problem);
        });
        this.prefix = topicPrefix;
        this.orderChanges = avro(registry, name(ORDER_CHANGES), OrderChanged.getClassSchema());
        this.dealChanges = avro(registry, name(DEAL_CHANGES), DealChanged.getClassSchema());
        this.dealCommands = avro(registry, name(DEAL_COMMANDS), DealCommand.getClassSchema());
        this.orderCommands = avro(registry, name(ORDER_COMMANDS), OrderCommand.getClassSchema());
        this.mappingConfig = avro(registry, name(MAPPING_CONFIG), MappingProfile.getClassSchema());
        this.dealLinks = avro(registry, name(DEAL_LINKS), SyncLink.getClassSchema());
        this.syncOutcomes = avro(registry, name(SYNC_OUTCOMES), SyncOutcome.getClassSchema());
        this.deadLetters = avro(registry, name(DEAD_LETTERS), DeadLetter.getClassSchema());
        this.ingestCursors = new Topic<>(name(INGEST_CURSORS), Serdes.String(), Serdes.String());
        this.buyerContacts = new Topic<>(name(BUYER_CONTACTS), Serdes.String(), Serdes.String());
    }

    /** What every topic name, Streams application id, consumer group and transactional id of this installation starts with. */
    public String prefix() {
        return prefix;
    }

    /**
     * The name on the broker of one of the topics above (e.g. {@code name(Topics.DEAD_LETTERS)}), or of a group or
     * transactional id of this installation: the prefix in front.
     */
    public String name(String unprefixed) {
        return prefix + unprefixed;
    }

    /** {@link #definitions(String)} of this installation. */
    public List<Definition> definitions() {
        return definitions(prefix);
    }

    private static <V extends SpecificRecord> Topic<String, V> avro(SchemaRegistry registry, String name, Schema schema) {
        return new Topic<>(name, Serdes.String(), new AvroSerde<>(registry, schema, false));
    }

    /**
     * Registers (or looks up) the value schema of every Avro topic now, so a registry that refuses or lacks a subject
     * stops the start with every such subject named, instead of failing the first record of each topic later.
     *
     * @throws org.apache.kafka.common.errors.SerializationException naming each subject that failed
     */
    public void checkSchemas() {
        List<String> failed = new ArrayList<>();
        for (Topic<String, ? extends SpecificRecord> topic : List.of(orderChanges, dealChanges, dealCommands, orderCommands,
                mappingConfig, dealLinks, syncOutcomes, deadLetters)) {
            try {
                ((AvroSerde<?>) topic.valueSerde()).schemaId(topic.name());
            } catch (org.apache.kafka.common.errors.SerializationException e) {
                failed.add(e.getMessage());
            }
        }
        if (!failed.isEmpty()) {
            throw new org.apache.kafka.common.errors.SerializationException("the schema registry cannot serve "
                    + failed.size() + " subject(s):\n  " + String.join("\n  ", failed));
        }
    }

    public Topic<String, OrderChanged> orderChanges() { return orderChanges; }
    public Topic<String, DealChanged> dealChanges() { return dealChanges; }
    public Topic<String, DealCommand> dealCommands() { return dealCommands; }
    public Topic<String, OrderCommand> orderCommands() { return orderCommands; }
    public Topic<String, MappingProfile> mappingConfig() { return mappingConfig; }
    public Topic<String, SyncLink> dealLinks() { return dealLinks; }
    public Topic<String, SyncOutcome> syncOutcomes() { return syncOutcomes; }
    public Topic<String, DeadLetter> deadLetters() { return deadLetters; }
    public Topic<String, String> ingestCursors() { return ingestCursors; }
    public Topic<String, String> buyerContacts() { return buyerContacts; }
}
