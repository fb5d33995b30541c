package org.dealbridge.schemas.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.Test;

class InMemorySchemaRegistryTest {
    private static Schema kind(String... symbols) {
        return SchemaBuilder.record("Command").namespace("org.dealbridge.test").fields()
                .name("kind").type().enumeration("Kind").symbols(symbols).noDefault().endRecord();
    }

    @Test
    void idsStartAtOneAndAreSharedAcrossSubjects() {
        InMemorySchemaRegistry registry = new InMemorySchemaRegistry();
        assertThat(registry.register("a-value", kind("X"))).isEqualTo(1);
        assertThat(registry.register("b-value", kind("X"))).isEqualTo(1);
        assertThat(registry.register("a-value", kind("X", "Y"))).isEqualTo(2);
        assertThat(registry.schemaById(2)).isEqualTo(kind("X", "Y"));
    }

    @Test
    void anEnumThatLosesASymbolIsIncompatibleAsInConfluentsRegistry() {
        // Avro's SchemaValidatorBuilder alone accepts this; records with the lost symbol would then fail on read
        InMemorySchemaRegistry registry = new InMemorySchemaRegistry();
        registry.register("a-value", kind("CREATE", "UPDATE"));
        assertThat(registry.isCompatible("a-value", kind("CREATE"))).isFalse();
        assertThatThrownBy(() -> registry.register("a-value", kind("CREATE")))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.errorCode()).isEqualTo(409))
                .hasMessageContaining("a-value");
        assertThat(registry.isCompatible("a-value", kind("CREATE", "UPDATE", "DELETE"))).isTrue();
    }

    @Test
    void newIdsNeverReuseAnIdSeenInStorage() {
        InMemorySchemaRegistry registry = new InMemorySchemaRegistry() {
            {
                put("replayed-value", 5, kind("R"));
            }
        };
        assertThat(registry.register("a-value", kind("X"))).isEqualTo(6);
    }

    @Test
    void anUnknownIdIs40403() {
        assertThatThrownBy(() -> new InMemorySchemaRegistry().schemaById(3))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.errorCode()).isEqualTo(40403));
    }
}
