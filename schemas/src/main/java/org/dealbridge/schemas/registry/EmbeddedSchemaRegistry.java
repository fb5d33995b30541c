package org.dealbridge.schemas.registry;

import com.fasterxml.jackson.databind.JsonNode;
import org.dealbridge.schemas.KafkaClients;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.dealbridge.schemas.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry of the zero-config run: an {@link InMemorySchemaRegistry} whose registrations are kept in a compacted,
 * single-partition Kafka topic ({@link Topics#SCHEMAS}, {@code _dealbridge_schemas}), so ids survive restarts and
 * every process on the cluster agrees on them.
 *
 * <p>Topic format: one record per (subject, id), key {@code {subject}:{id}} (UTF-8), value the UTF-8 JSON
 * {@code {"subject": "order-changes-value", "id": 3, "schema": "<the Avro schema as a JSON string>"}}.
 * Keys never repeat, so compaction removes nothing; a null value (tombstone) is ignored.
 *
 * <p>Opening reads the whole topic (creating it first when missing: compacted, one partition, the given replication).
 * A lookup of an unknown id reads on to the end of the topic before failing, so a schema registered by another
 * process (the {@code mapping} CLI while {@code run} is up) is found; "the end" is the log end, waited for until
 * the last write in flight is committed or aborted, as a commit returns before its marker is in the log.
 *
 * <p>Two processes registering at once: a new id is assigned only while holding the topic's write lock, which is a
 * <em>transactional producer with a fixed {@code transactional.id}</em>. Initialising it fences (and aborts the open
 * transaction of) any other holder, so the sequence "read the topic to its end (read_committed), pick max id + 1,
 * write, commit" commits only if no other process initialised in between; a fenced writer's record is aborted and
 * never seen, and it retries after reading again. Replaying still applies a defensive rule for records written
 * outside this protocol: the first record for an id wins, later ones naming a different schema are skipped and listed
 * in {@link #skippedRecords()}. On a secured cluster the principal needs Write/Describe on that transactional id.
 */
public final class EmbeddedSchemaRegistry extends InMemorySchemaRegistry {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedSchemaRegistry.class);
    /** How long one Kafka operation (topic creation, reading to the end, a write) may take. */
    static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final int WRITE_ATTEMPTS = 8;

    private final String topic;
    private final String transactionalId;
    private final TopicPartition partition;
    private final Map<String, Object> clientConfig;
    private final KafkaConsumer<String, String> consumer;
    private final Admin admin;
    private final ObjectMapper json = new ObjectMapper();
    private final List<String> skipped = new ArrayList<>();
    private KafkaProducer<String, String> producer;

    private EmbeddedSchemaRegistry(String topic, String transactionalId, Map<String, Object> clientConfig) {
        this.topic = topic;
        this.transactionalId = transactionalId;
        this.partition = new TopicPartition(topic, 0);
        this.clientConfig = Map.copyOf(clientConfig);
        Map<String, Object> consumerConfig = new HashMap<>(clientConfig);
        consumerConfig.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        consumerConfig.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        consumerConfig.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        consumerConfig.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        consumerConfig.remove(ConsumerConfig.GROUP_ID_CONFIG); // assigned, never subscribed: no group needed
        this.consumer = new KafkaConsumer<>(KafkaClients.consumer(consumerConfig));
        this.admin = Admin.create(KafkaClients.admin(clientConfig));
        consumer.assign(List.of(partition));
        consumer.seekToBeginning(List.of(partition));
    }

    /**
     * Opens the registry on {@link Topics#SCHEMAS} (an installation without a topic prefix).
     *
     * @param clientConfig      Kafka client settings shared by the admin, consumer and producer (bootstrap.servers, security)
     * @param replicationFactor replication of the topic when it has to be created
     */
    public static EmbeddedSchemaRegistry open(Map<String, Object> clientConfig, short replicationFactor) {
        return open(clientConfig, "", replicationFactor);
    }

    /**
     * Opens the registry of the installation whose topic names, groups and transactional ids start with
     * {@code topicPrefix} ({@code kafka.topic-prefix}): on {@code {prefix}_dealbridge_schemas}.
     */
    public static EmbeddedSchemaRegistry open(Map<String, Object> clientConfig, String topicPrefix, short replicationFactor) {
        return open(clientConfig, topicPrefix + Topics.SCHEMAS, topicPrefix + "dealbridge-schema-registry:" + Topics.SCHEMAS,
                replicationFactor);
    }

    /** Opens the registry on another topic (tests). */
    public static EmbeddedSchemaRegistry onTopic(Map<String, Object> clientConfig, String topic, short replicationFactor) {
        return open(clientConfig, topic, "dealbridge-schema-registry:" + topic, replicationFactor);
    }

    private static EmbeddedSchemaRegistry open(Map<String, Object> clientConfig, String topic, String transactionalId,
                                               short replicationFactor) {
        ensureTopic(clientConfig, topic, replicationFactor);
        EmbeddedSchemaRegistry registry = new EmbeddedSchemaRegistry(topic, transactionalId, clientConfig);
        try {
            synchronized (registry) {
                registry.readToEnd();
            }
        } catch (RuntimeException e) {
            registry.close();
            throw e;
        }
        return registry;
    }

    public String topic() {
        return topic;
    }

    /** Records of the topic that replay ignored (unreadable, or a second schema for an id already taken), described. */
    public synchronized List<String> skippedRecords() {
        return List.copyOf(skipped);
    }

    @Override
    public synchronized int register(String subject, Schema schema) {
        Integer known = registeredId(subject, schema);
        if (known != null) {
            return known;
        }
        for (int attempt = 1; ; attempt++) {
            try {
                if (producer == null) {
                    producer = newProducer(); // fences any other writer: from here on, what we read is all there is
                }
                readToEnd();
                known = registeredId(subject, schema);
                if (known != null) {
                    return known; // registered meanwhile by another process
                }
                requireCompatible(subject, schema);
                int id = idOf(schema) != null ? idOf(schema) : nextId();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>(topic, 0, subject + ":" + id, value(subject, id, schema)))
                        .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                producer.commitTransaction();
                put(subject, id, schema);
                log.info("registered schema {} under subject {} as id {} in topic {}", schema.getFullName(), subject, id, topic);
                return id;
            } catch (ExecutionException | KafkaException | TimeoutException e) {
                Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
                // Losing the lock shows up as ProducerFencedException, InvalidProducerEpochException or, when the broker
                // verifies the write against an aborted transaction, InvalidTxnStateException. Whatever it was, starting
                // over is safe: the next attempt fences the others and reads to the end, where it finds our record if
                // the commit did go through, and picks a fresh id if not.
                closeProducer(); // a producer that failed mid-transaction is not reusable
                boolean hopeless = cause instanceof AuthenticationException || cause instanceof AuthorizationException
                        || cause instanceof UnsupportedVersionException;
                if (!hopeless && attempt < WRITE_ATTEMPTS) {
                    log.debug("writing to {} failed ({}); reading again (attempt {})", topic, cause.toString(), attempt);
                    pause(attempt);
                    continue;
                }
                throw new SchemaRegistryException("cannot register schema " + schema.getFullName() + " under subject " + subject
                        + " in topic " + topic + " (attempt " + attempt + "): " + cause, SchemaRegistryException.NO_CODE, cause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                closeProducer();
                throw new SchemaRegistryException("interrupted while registering under subject " + subject, SchemaRegistryException.NO_CODE, e);
            }
        }
    }

    @Override
    public Schema schemaById(int id) {
        Schema schema = findById(id);
        if (schema != null) {
            return schema;
        }
        synchronized (this) {
            readToEnd(); // perhaps registered by another process since we last looked
            return super.schemaById(id);
        }
    }

    @Override
    public synchronized int lookup(String subject, Schema schema) {
        readToEnd(); // perhaps registered by another process since we last looked
        return super.lookup(subject, schema);
    }

    @Override
    public synchronized List<String> subjects() {
        readToEnd();
        return super.subjects();
    }

    @Override
    public synchronized boolean isCompatible(String subject, Schema schema) {
        readToEnd();
        return super.isCompatible(subject, schema);
    }

    @Override
    public synchronized void close() {
        closeProducer();
        consumer.close(Duration.ofSeconds(5));
        admin.close(Duration.ofSeconds(5));
    }

    /**
     * Applies every record up to the end the topic has now. A writer's commit returns before the broker has
     * written the commit marker, so the committed end (last stable offset) can trail the log end for a moment:
     * this waits until the committed end reaches the log end seen on entry, so a registration another process has
     * just committed is never missed. Caller holds the lock.
     */
    private void readToEnd() {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        long logEnd = logEnd();
        while (true) {
            long committedEnd = consumer.endOffsets(List.of(partition), TIMEOUT).get(partition);
            while (consumer.position(partition, TIMEOUT) < committedEnd) {
                checkDeadline(deadline, logEnd);
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    apply(record);
                }
            }
            if (committedEnd >= logEnd) {
                return;
            }
            checkDeadline(deadline, logEnd); // a write in flight: its commit or abort marker comes within the transaction timeout
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SchemaRegistryException("interrupted while reading topic " + topic, SchemaRegistryException.NO_CODE, e);
            }
        }
    }

    private void checkDeadline(long deadline, long logEnd) {
        if (System.nanoTime() > deadline) {
            throw new SchemaRegistryException("cannot read topic " + topic + " to its end (offset " + logEnd + ") within " + TIMEOUT
                    + "; position " + consumer.position(partition), SchemaRegistryException.NO_CODE);
        }
    }

    /** The end of the log including records of transactions not yet committed. */
    private long logEnd() {
        try {
            return admin.listOffsets(Map.of(partition, OffsetSpec.latest()), new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED))
                    .partitionResult(partition).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).offset();
        } catch (ExecutionException e) {
            throw new SchemaRegistryException("cannot find the end of topic " + topic + ": " + e.getCause(), SchemaRegistryException.NO_CODE, e.getCause());
        } catch (TimeoutException e) {
            throw new SchemaRegistryException("cannot find the end of topic " + topic + " within " + TIMEOUT, SchemaRegistryException.NO_CODE, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SchemaRegistryException("interrupted while reading topic " + topic, SchemaRegistryException.NO_CODE, e);
        }
    }

    private void apply(ConsumerRecord<String, String> record) {
        if (record.value() == null) {
            return; // a tombstone: nothing ever deletes ids here
        }
        String subject;
        int id;
        Schema schema;
        try {
            JsonNode node = json.readTree(record.value());
            subject = node.path("subject").asText(null);
            id = node.path("id").asInt(0);
            String text = node.path("schema").asText(null);
            if (subject == null || subject.isEmpty() || id <= 0 || text == null) {
                skip(record, "needs \"subject\", a positive \"id\" and \"schema\"");
                return;
            }
            schema = new Schema.Parser().parse(text);
        } catch (IOException | SchemaParseException e) {
            skip(record, "unreadable: " + e.getMessage());
            return;
        }
        Schema existing = findById(id);
        if (existing != null && !existing.equals(schema)) {
            skip(record, "id " + id + " already belongs to " + existing.getFullName() + "; the first record for an id wins");
            return;
        }
        put(subject, id, schema);
    }

    private void skip(ConsumerRecord<String, String> record, String why) {
        String description = "offset " + record.offset() + " key " + record.key() + ": " + why;
        skipped.add(description);
        log.warn("schema topic {}: skipped record at {}", topic, description);
    }

    private String value(String subject, int id, Schema schema) {
        ObjectNode node = json.createObjectNode();
        node.put("subject", subject);
        node.put("id", id);
        node.put("schema", schema.toString());
        return node.toString();
    }

    private KafkaProducer<String, String> newProducer() {
        Map<String, Object> config = new HashMap<>(clientConfig);
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        // a holder that died mid-write blocks readers only until the next writer fences it, or this long
        config.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 15_000);
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) TIMEOUT.toMillis());
        KafkaProducer<String, String> created = new KafkaProducer<>(KafkaClients.producer(config));
        try {
            created.initTransactions();
        } catch (RuntimeException e) {
            created.close(Duration.ZERO);
            throw e;
        }
        return created;
    }

    private void closeProducer() {
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
            producer = null;
        }
    }

    private static void pause(int attempt) {
        try {
            Thread.sleep(ThreadLocalRandom.current().nextLong(10, 50L * attempt)); // jitter, so two writers stop fencing each other
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SchemaRegistryException("interrupted while waiting to register", SchemaRegistryException.NO_CODE, e);
        }
    }

    private static void ensureTopic(Map<String, Object> clientConfig, String topic, short replicationFactor) {
        Topics.Definition definition = Topics.DEFINITIONS.stream().filter(d -> d.name().equals(Topics.SCHEMAS)).findFirst().orElseThrow();
        try (Admin admin = Admin.create(KafkaClients.admin(clientConfig))) {
            try {
                admin.createTopics(List.of(new NewTopic(topic, 1, replicationFactor).configs(definition.configs())))
                        .all().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                log.info("created schema topic {} (compacted, 1 partition, replication {})", topic, replicationFactor);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw new SchemaRegistryException("cannot create schema topic " + topic + " with replication " + replicationFactor
                            + ": " + e.getCause(), SchemaRegistryException.NO_CODE, e.getCause());
                }
            }
            TopicDescription description = describe(admin, topic);
            if (description.partitions().size() != 1) {
                throw new SchemaRegistryException("schema topic " + topic + " has " + description.partitions().size()
                        + " partitions but must have exactly 1, so every process reads registrations in one order",
                        SchemaRegistryException.NO_CODE);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SchemaRegistryException("interrupted while creating schema topic " + topic, SchemaRegistryException.NO_CODE, e);
        } catch (TimeoutException e) {
            throw new SchemaRegistryException("schema topic " + topic + " not created within " + TIMEOUT + " (is Kafka at "
                    + clientConfig.get("bootstrap.servers") + " up?)", SchemaRegistryException.NO_CODE, e);
        }
    }

    private static TopicDescription describe(Admin admin, String topic) throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (true) {
            try {
                return admin.describeTopics(Set.of(topic)).allTopicNames().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).get(topic);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                    throw new SchemaRegistryException("cannot describe schema topic " + topic + ": " + e.getCause(),
                            SchemaRegistryException.NO_CODE, e.getCause());
                }
                if (System.nanoTime() > deadline) {
                    throw new SchemaRegistryException("schema topic " + topic + " is still unknown " + TIMEOUT + " after creating it",
                            SchemaRegistryException.NO_CODE, e.getCause());
                }
                Thread.sleep(50); // just created: the metadata has not reached every broker yet
            }
        }
    }

    @Override
    public String toString() {
        return "EmbeddedSchemaRegistry[" + topic + "]";
    }
}
