package org.dealbridge.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaValidationException;
import org.apache.avro.SchemaValidatorBuilder;
import org.junit.jupiter.api.Test;

/**
 * Schema evolution check: every current schema must read data written with every released version of it
 * (BACKWARD, transitively over releases), so records already on the topics stay readable after an upgrade.
 * A release copies {@code src/main/avro} to {@code src/test/resources/released/<version>/}.
 */
class SchemaEvolutionTest {
    private static final Path CURRENT = Path.of("src/main/avro");
    private static final Path RELEASED = Path.of("src/test/resources/released");
    /** The shared types, in the order the avro-maven-plugin imports them (see the pom): later ones refer to earlier ones. */
    private static final List<String> COMMON = List.of("ChangeSource", "Buyer", "ProductRow", "BasketItem", "ChangeCause", "SyncLink");
    /**
     * Common types that are also a topic's value: SyncLink moved into common/ once DealCommand came to carry one, so
     * it is checked as a top-level schema wherever it lives (it was top-level in release 0.1.0).
     */
    private static final List<String> TOPIC_VALUES_IN_COMMON = List.of("SyncLink");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Parses a schema folder as the plugin does: common types first, into one parser, then each top-level file. */
    static Map<String, Schema> parseFolder(Path folder) throws IOException {
        List<String> commonFiles;
        try (Stream<Path> files = Files.list(folder.resolve("common"))) {
            commonFiles = files.map(p -> p.getFileName().toString().replace(".avsc", "")).sorted().toList();
        }
        assertThat(COMMON).as("common types of %s: a new one must be added to COMMON and to the plugin's imports", folder)
                .containsAll(commonFiles);
        Schema.Parser parser = parserWithCommonTypes(folder);
        Map<String, Schema> topLevel = new TreeMap<>();
        for (String name : TOPIC_VALUES_IN_COMMON) {
            if (commonFiles.contains(name)) {
                Schema schema = parser.getTypes().get("org.dealbridge.schemas." + name);
                topLevel.put(schema.getFullName(), schema);
            }
        }
        try (Stream<Path> files = Files.list(folder)) {
            for (Path file : files.filter(p -> p.toString().endsWith(".avsc")).sorted().toList()) {
                Schema schema = parser.parse(file.toFile());
                topLevel.put(schema.getFullName(), schema);
            }
        }
        return topLevel;
    }

    static Schema.Parser parserWithCommonTypes(Path folder) throws IOException {
        Schema.Parser parser = new Schema.Parser();
        for (String name : COMMON) {
            Path file = folder.resolve("common").resolve(name + ".avsc");
            if (Files.exists(file)) {  // a release older than a common type has none
                parser.parse(file.toFile());
            }
        }
        return parser;
    }

    /** Every released version of every top-level schema, oldest release first. */
    static Map<String, List<Schema>> releasedVersions() throws IOException {
        Map<String, List<Schema>> versions = new TreeMap<>();
        List<Path> releases;
        try (Stream<Path> dirs = Files.list(RELEASED)) {
            releases = dirs.filter(Files::isDirectory).sorted(SchemaEvolutionTest::byVersion).toList();
        }
        for (Path release : releases) {
            parseFolder(release).forEach((name, schema) -> versions.computeIfAbsent(name, n -> new ArrayList<>()).add(schema));
        }
        return versions;
    }

    /**
     * The evolution check: what stops current schemas from reading released data, one line per schema; empty when
     * all is well. Avro's {@link SchemaValidatorBuilder} is the verdict CI is built on, but it passes an enum that lost
     * a symbol (that only fails when such a value is read), so {@link SchemaCompatibility} is applied as well, as
     * Confluent's registry does; its incompatibilities also name the field.
     */
    static List<String> backwardProblems(Map<String, Schema> current, Map<String, List<Schema>> released) {
        List<String> problems = new ArrayList<>();
        released.forEach((name, versions) -> {
            Schema now = current.get(name);
            if (now == null) {
                problems.add(name + " was released but is gone: its topic's records could no longer be read");
                return;
            }
            StringBuilder why = new StringBuilder();
            try {
                new SchemaValidatorBuilder().canReadStrategy().validateAll().validate(now, versions);
            } catch (SchemaValidationException e) {
                why.append(" Avro's SchemaValidator (canRead, all releases) refuses it;");
            }
            for (Schema old : versions) {
                SchemaCompatibility.checkReaderWriterCompatibility(now, old).getResult().getIncompatibilities()
                        .forEach(i -> why.append(' ').append(i.getType()).append(" at ").append(fieldPath(now, i.getLocation()))
                                .append(" (").append(i.getMessage()).append(");"));
            }
            if (!why.isEmpty()) {
                problems.add(name + " cannot read data written with a released version:" + why);
            }
        });
        return problems;
    }

    /** Turns a location such as {@code /fields/0/type/symbols} into {@code dealId/type/symbols}, naming the fields. */
    static String fieldPath(Schema reader, String location) {
        StringBuilder path = new StringBuilder();
        Schema at = reader;
        String[] steps = location.split("/");
        for (int i = 1; i < steps.length; i++) {
            if (steps[i].equals("fields") && i + 1 < steps.length && at != null && at.getType() == Schema.Type.RECORD) {
                Schema.Field field = at.getFields().get(Integer.parseInt(steps[++i]));
                path.append('/').append(field.name());
                at = field.schema();
            } else if (steps[i].equals("items") && at != null && at.getType() == Schema.Type.ARRAY) {
                path.append("/items");
                at = at.getElementType();
            } else if (steps[i].equals("values") && at != null && at.getType() == Schema.Type.MAP) {
                path.append("/values");
                at = at.getValueType();
            } else if (steps[i].matches("\\d+") && at != null && at.getType() == Schema.Type.UNION) {
                at = at.getTypes().get(Integer.parseInt(steps[i]));
                path.append('/').append(at.getType().getName());
            } else if (!steps[i].equals("type")) {
                path.append('/').append(steps[i]);
            }
        }
        return path.isEmpty() ? "/" : path.toString();
    }

    @Test
    void currentSchemasCanReadEveryReleasedVersion() throws IOException {
        Map<String, List<Schema>> released = releasedVersions();
        assertThat(released).as("released schemas found under %s", RELEASED.toAbsolutePath()).hasSize(8);
        assertThat(backwardProblems(parseFolder(CURRENT), released)).isEmpty();
    }

    @Test
    void theFolderIsParsedToTheSchemasTheGeneratedClassesCarry() throws IOException {
        Map<String, Schema> current = parseFolder(CURRENT);
        Map<String, Schema> generated = new LinkedHashMap<>();
        for (Schema schema : List.of(OrderChanged.getClassSchema(), DealChanged.getClassSchema(), DealCommand.getClassSchema(),
                OrderCommand.getClassSchema(), MappingProfile.getClassSchema(), SyncLink.getClassSchema(),
                SyncOutcome.getClassSchema(), DeadLetter.getClassSchema())) {
            generated.put(schema.getFullName(), withoutJavaStringHints(schema));
        }
        assertThat(current).isEqualTo(generated);
    }

    /** The plugin's stringType=String adds {@code "avro.java.string": "String"} to every string; the .avsc files do not have it. */
    private static Schema withoutJavaStringHints(Schema schema) throws IOException {
        com.fasterxml.jackson.databind.JsonNode json = JSON.readTree(schema.toString());
        json.findParents("avro.java.string").forEach(node -> ((ObjectNode) node).remove("avro.java.string"));
        return new Schema.Parser().parse(json.toString());
    }

    // The check must fail on a breaking change: the same check, applied to variants built here.

    private static Map<String, Schema> currentWith(Path folder, String file, java.util.function.Consumer<ObjectNode> change) throws IOException {
        Map<String, Schema> schemas = new TreeMap<>(parseFolder(CURRENT));
        ObjectNode json = (ObjectNode) JSON.readTree(folder.resolve(file).toFile());
        change.accept(json);
        Schema variant = parserWithCommonTypes(folder).parse(json.toString());
        schemas.put(variant.getFullName(), variant);
        return schemas;
    }

    private static ObjectNode field(ObjectNode record, String name) {
        for (var field : record.get("fields")) {
            if (field.get("name").asText().equals(name)) {
                return (ObjectNode) field;
            }
        }
        throw new IllegalArgumentException("no field " + name);
    }

    @Test
    void aFieldAddedWithoutDefaultIsReported() throws IOException {
        Map<String, Schema> changed = currentWith(CURRENT, "OrderChanged.avsc", order -> ((ArrayNode) order.get("fields"))
                .addObject().put("name", "deliveryZone").put("type", "string"));

        List<String> problems = backwardProblems(changed, releasedVersions());

        assertThat(problems).hasSize(1);
        assertThat(problems.get(0)).contains("org.dealbridge.schemas.OrderChanged").contains("READER_FIELD_MISSING_DEFAULT")
                .contains("deliveryZone");
    }

    @Test
    void aFieldTypeChangedIsReported() throws IOException {
        Map<String, Schema> changed = currentWith(CURRENT, "DealChanged.avsc", deal -> field(deal, "dealId").put("type", "string"));

        List<String> problems = backwardProblems(changed, releasedVersions());

        assertThat(problems).hasSize(1);
        assertThat(problems.get(0)).contains("org.dealbridge.schemas.DealChanged").contains("TYPE_MISMATCH at /dealId");
    }

    @Test
    void anEnumSymbolRemovedWithoutADefaultIsReported() throws IOException {
        Map<String, Schema> changed = currentWith(CURRENT, "DealCommand.avsc", command -> {
            ObjectNode kind = (ObjectNode) field(command, "kind").get("type");
            kind.putArray("symbols").add("CREATE");
        });

        List<String> problems = backwardProblems(changed, releasedVersions());

        assertThat(problems).hasSize(1);
        assertThat(problems.get(0)).contains("org.dealbridge.schemas.DealCommand")
                .contains("MISSING_ENUM_SYMBOLS at /kind/symbols ([UPDATE])");
    }

    @Test
    void aRemovedSchemaIsReported() throws IOException {
        Map<String, Schema> changed = new TreeMap<>(parseFolder(CURRENT));
        changed.remove("org.dealbridge.schemas.SyncOutcome");

        assertThat(backwardProblems(changed, releasedVersions()))
                .containsExactly("org.dealbridge.schemas.SyncOutcome was released but is gone: its topic's records could no longer be read");
    }

    @Test
    void aFieldAddedWithDefaultPasses() throws IOException {
        Map<String, Schema> changed = currentWith(CURRENT, "OrderChanged.avsc", order -> ((ArrayNode) order.get("fields"))
                .addObject().put("name", "deliveryZone").putNull("default").putArray("type").add("null").add("string"));

        assertThat(backwardProblems(changed, releasedVersions())).isEmpty();
    }

    private static int byVersion(Path a, Path b) {
        String[] x = a.getFileName().toString().split("\\.");
        String[] y = b.getFileName().toString().split("\\.");
        for (int i = 0; i < Math.min(x.length, y.length); i++) {
            int c = Integer.compare(Integer.parseInt(x[i]), Integer.parseInt(y[i]));
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(x.length, y.length);
    }
}
