package org.dealbridge.schemas.registry;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
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

    @Override
    public synchronized int register(String subject, Schema schema) {
        String canonical = schema.toString();
        Integer existing = idByCanonical.get(canonical);
        List<Integer> versions = versionsBySubject.computeIfAbsent(subject, s -> new ArrayList<>());
        if (existing != null && versions.contains(existing)) {
            return existing;
        }
        if (!isCompatible(subject, schema)) {
            throw new SchemaRegistryException("schema " + schema.getFullName() + " is not BACKWARD compatible with the latest version of subject "
                    + subject, 409);
        }
        int id = existing != null ? existing : byId.size() + 1;
        put(subject, id, schema);
        return id;
    }

    /** Records a known (subject, id, schema) triple, e.g. replayed from storage. */
    protected synchronized void put(String subject, int id, Schema schema) {
        byId.put(id, schema);
        idByCanonical.putIfAbsent(schema.toString(), id);
        List<Integer> versions = versionsBySubject.computeIfAbsent(subject, s -> new ArrayList<>());
        if (!versions.contains(id)) {
            versions.add(id);
        }
    }

    /** The id the next new schema would get. */
    protected synchronized int nextId() {
        return byId.size() + 1;
    }

    @Override
    public synchronized Schema schemaById(int id) {
        Schema schema = byId.get(id);
        if (schema == null) {
            throw new SchemaRegistryException("schema id " + id + " is not registered", 40403);
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
        try {
            new SchemaValidatorBuilder().canReadStrategy().validateLatest().validate(schema, List.of(latest));
            return true;
        } catch (SchemaValidationException e) {
            return false;
        }
    }
}
