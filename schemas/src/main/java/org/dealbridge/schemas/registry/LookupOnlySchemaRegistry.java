package org.dealbridge.schemas.registry;

import org.apache.avro.Schema;

/**
 * A registry DealBridge may read but not write ({@code schema-registry.auto-register: false}): where a platform team
 * registers schemas itself and the service account may not. Registering becomes a look-up, and a schema that is not
 * there fails with the subject named and what to do about it.
 */
public final class LookupOnlySchemaRegistry implements SchemaRegistry {
    private final SchemaRegistry registry;

    public LookupOnlySchemaRegistry(SchemaRegistry registry) {
        this.registry = registry;
    }

    @Override
    public int register(String subject, Schema schema) {
        try {
            return registry.lookup(subject, schema);
        } catch (SchemaRegistryException e) {
            if (e.errorCode() == SchemaRegistryException.SUBJECT_NOT_FOUND || e.errorCode() == SchemaRegistryException.SCHEMA_NOT_FOUND) {
                throw new SchemaRegistryException("subject " + subject + " has no version with DealBridge's schema "
                        + schema.getFullName() + " and schema-registry.auto-register is false: register it (the schema is "
                        + "schemas/src/main/avro of this release), or let DealBridge register it", e.errorCode(), e);
            }
            throw e;
        }
    }

    @Override
    public int lookup(String subject, Schema schema) {
        return registry.lookup(subject, schema);
    }

    @Override
    public Schema schemaById(int id) {
        return registry.schemaById(id);
    }

    @Override
    public boolean isCompatible(String subject, Schema schema) {
        return registry.isCompatible(subject, schema);
    }

    @Override
    public void close() {
        registry.close();
    }
}
