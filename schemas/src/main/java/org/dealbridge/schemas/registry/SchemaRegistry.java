package org.dealbridge.schemas.registry;

import org.apache.avro.Schema;

/**
 * Where the Avro schemas of the topics are registered, so every record carries only a 4-byte schema id
 * (Confluent wire format). Two implementations: the Confluent Schema Registry REST API (also served by
 * Apicurio's ccompat API and Karapace) and the embedded registry of the zero-config run.
 *
 * <p>Subjects follow Confluent's TopicNameStrategy: {@code {topic}-key} / {@code {topic}-value}.
 */
public interface SchemaRegistry extends AutoCloseable {

    /** Registers the schema under the subject (idempotent: an identical schema gets its existing id) and returns its id. */
    int register(String subject, Schema schema);

    /**
     * The id of a schema already registered under the subject, without registering anything (Confluent's
     * {@code POST /subjects/{subject}}); throws {@link SchemaRegistryException} with {@code 40401} when the subject
     * is unknown and {@code 40403} when the schema is not one of its versions.
     */
    int lookup(String subject, Schema schema);

    /** The schema with this id; throws {@link SchemaRegistryException} when unknown. */
    Schema schemaById(int id);

    /** Whether the schema may be registered under the subject under the subject's compatibility rule (true for a new subject). */
    boolean isCompatible(String subject, Schema schema);

    @Override
    default void close() {
    }

    /** Subject name of a topic's value schema under TopicNameStrategy. */
    static String valueSubject(String topic) {
        return topic + "-value";
    }

    /** Subject name of a topic's key schema under TopicNameStrategy. */
    static String keySubject(String topic) {
        return topic + "-key";
    }
}
