package org.dealbridge.schemas.registry;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaValidationException;
import org.apache.avro.SchemaValidatorBuilder;

/**
 * A registry held in memory: for TopologyTestDriver tests and as the core of the embedded registry.
 * Ids are global and start at 1; an identical schema gets the same id under every subject, as in
 * Confluent's registry; subjects are checked BACKWARD against their latest version.
 */
public class InMemorySchemaRegistry implements SchemaRegistry {
    private final Map<Integer, Schema> byId = new HashMap<>();
    private final Map<String, Integer> idByCanonical = new HashMap<>();
    private final Map<String, List<Integer>> versionsBySubject = new HashMap<>();
    private int maxId;

    @Override
    public synchronized int register(String subject, Schema schema) {
        Integer registered = registeredId(subject, schema);
        if (registered != null) {
            return registered;
        }
        requireCompatible(subject, schema);
        int id = idOf(schema) != null ? idOf(schema) : nextId();
        put(subject, id, schema);
        return id;
    }

    @Override
    public synchronized int lookup(String subject, Schema schema) {
        if (!versionsBySubject.containsKey(subject)) {
            throw new SchemaRegistryException("subject " + subject + " is not registered", SchemaRegistryException.SUBJECT_NOT_FOUND);
        }
        Integer id = registeredId(subject, schema);
        if (id == null) {
            throw new SchemaRegistryException("schema " + schema.getFullName() + " is not a version of subject " + subject,
                    SchemaRegistryException.SCHEMA_NOT_FOUND);
        }
        return id;
    }

    /** Every subject, sorted (Confluent's {@code GET /subjects}). */
    public synchronized List<String> subjects() {
        return versionsBySubject.keySet().stream().sorted().toList();
    }

    /** The schema ids of a subject's versions, version 1 first; empty when the subject is unknown. */
    public synchronized List<Integer> versionIds(String subject) {
        return List.copyOf(versionsBySubject.getOrDefault(subject, List.of()));
    }

    /** The id of this schema when it is already a version of the subject, else null. */
    protected synchronized Integer registeredId(String subject, Schema schema) {
        Integer existing = idByCanonical.get(schema.toString());
        List<Integer> versions = versionsBySubject.get(subject);
        return existing != null && versions != null && versions.contains(existing) ? existing : null;
    }

    /** The id of this schema under any subject, else null. */
    protected synchronized Integer idOf(Schema schema) {
        return idByCanonical.get(schema.toString());
    }

    /** Throws the registry's 409 when the schema cannot read data written with the subject's latest version. */
    protected void requireCompatible(String subject, Schema schema) {
        if (!isCompatible(subject, schema)) {
            throw new SchemaRegistryException("schema " + schema.getFullName() + " is not BACKWARD compatible with the latest version of subject "
                    + subject, SchemaRegistryException.INCOMPATIBLE);
        }
    }

    /** Records a known (subject, id, schema) triple, e.g. replayed from storage. */
    protected synchronized void put(String subject, int id, Schema schema) {
        byId.put(id, schema);
        maxId = Math.max(maxId, id);
        idByCanonical.putIfAbsent(schema.toString(), id);
        List<Integer> versions = versionsBySubject.computeIfAbsent(subject, s -> new ArrayList<>());
        if (!versions.contains(id)) {
            versions.add(id);
        }
    }

    /** The id the next new schema would get: one above the highest id seen, so gaps left by replayed storage are never reused. */
    protected synchronized int nextId() {
        return maxId + 1;
    }

    /** The schema with this id, or null when unknown (no exception, for subclasses that look further). */
    protected synchronized Schema findById(int id) {
        return byId.get(id);
    }

    @Override
    public synchronized Schema schemaById(int id) {
        Schema schema = byId.get(id);
        if (schema == null) {
            throw new SchemaRegistryException("schema id " + id + " is not registered", SchemaRegistryException.SCHEMA_NOT_FOUND);
        }
        return schema;
    }

    @Override
    public synchronized boolean isCompatible(String subject, Schema schema) {
        List<Integer> versions = versionsBySubject.get(subject);
        if (versions == null || versions.isEmpty()) {
            return true;
        }
        Schema latest = byId.get(versions.get(versions.size() - 1));
        return canRead(schema, latest);
    }

    /**
     * Whether a reader with {@code reader} can read all data written with {@code writer}. Avro's
     * {@link SchemaValidatorBuilder} alone lets an enum lose a symbol (it only fails when such a value is read);
     * {@link SchemaCompatibility} catches that too, as Confluent's registry does, so both must agree.
     */
    public static boolean canRead(Schema reader, Schema writer) {
        try {
            new SchemaValidatorBuilder().canReadStrategy().validateLatest().validate(reader, List.of(writer));
        } catch (SchemaValidationException e) {
            return false;
        }
        return SchemaCompatibility.checkReaderWriterCompatibility(reader, writer).getType()
                == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE;
    }
}
