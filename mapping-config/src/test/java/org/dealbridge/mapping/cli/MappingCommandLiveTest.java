package org.dealbridge.mapping.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Properties;
import org.dealbridge.bitrix.crm.CrmApi;
import org.dealbridge.bitrix.store.StoreApi;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.mapping.LivePortals;
import org.dealbridge.mapping.MappingTopicReader;
import org.dealbridge.mapping.MappingTopics;
import org.dealbridge.schemas.MappingProfile;
import org.dealbridge.schemas.registry.InMemorySchemaRegistry;
import org.dealbridge.schemas.registry.SchemaRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The commands with the CRM and store configured (emulators) and a real broker. */
class MappingCommandLiveTest {

    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();
    static final SchemaRegistry REGISTRY = new InMemorySchemaRegistry();
    static LivePortals portals;

    @TempDir
    Path dir;
    private StringWriter out;
    private StringWriter err;

    @BeforeAll
    static void start() {
        portals = new LivePortals();
    }

    @AfterAll
    static void stop() {
        portals.close();
    }

    private final MappingCliContext context = new MappingCliContext() {
        @Override
        public Properties kafkaClientProperties() {
            return KAFKA.clientProperties();
        }

        @Override
        public SchemaRegistry schemaRegistry() {
            return REGISTRY;
        }

        @Override
        public Optional<CrmApi> crm() {
            return Optional.of(portals.crm);
        }

        @Override
        public Optional<StoreApi> store() {
            return Optional.of(portals.store);
        }
    };

    private int run(String... args) {
        out = new StringWriter();
        err = new StringWriter();
        CommandLine cli = new MappingCommand(() -> context).commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(args);
    }

    private static String sample(String site) throws Exception {
        return Files.readString(Path.of("examples/s1.yaml")).replace("site: s1", "site: " + site);
    }

    private MappingTopicReader reader() {
        return new MappingTopicReader(KAFKA.clientProperties(), MappingTopics.of(REGISTRY));
    }

    @Test
    void publishValidatesLiveWhenThePortalsAreConfigured() throws Exception {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, sample("live1").replace("  default: 1\n  byPipeline", "  default: 77\n  byPipeline"));
        assertThat(run("publish", bad.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("responsible.default = \"77\"").contains("[1, 2, 9]")
                .contains("nothing was published");
        assertThat(reader().latest("live1")).isEmpty();

        // --offline skips the live check (the admin's explicit choice), so the same document goes out
        assertThat(run("publish", bad.toString(), "--offline")).isZero();
        assertThat(err.toString()).contains("--offline");
        assertThat(reader().latest("live1")).isPresent();
    }

    @Test
    void validateLive() throws Exception {
        Path good = dir.resolve("good.yaml");
        Files.writeString(good, sample("live2"));
        assertThat(run("validate", good.toString(), "--live")).isZero();
        assertThat(out.toString()).contains("checked live");
        Files.writeString(good, sample("live2").replace("UF_CRM_PAY_SYSTEM", "UF_CRM_NOPE"));
        assertThat(run("validate", good.toString())).isZero();  // offline it is fine
        assertThat(run("validate", good.toString(), "--live")).isEqualTo(2);
        assertThat(err.toString()).contains("dealFields.paySystemId = \"UF_CRM_NOPE\"");
    }

    @Test
    void scaffoldedDocumentValidatesAndPublishes() throws Exception {
        Path scaffold = dir.resolve("scaffold.yaml");
        assertThat(run("scaffold", "--live", "--site", "live3", "-o", scaffold.toString())).isZero();
        assertThat(Files.readString(scaffold)).contains("site: live3");
        assertThat(run("validate", scaffold.toString(), "--live")).isZero();
        assertThat(run("publish", scaffold.toString(), "--author", "scaffolder")).isZero();
        MappingProfile published = reader().latest("live3").orElseThrow();
        assertThat(published.getDocument()).isEqualTo(Files.readString(scaffold));
        assertThat(run("export", "live3")).isZero();
        assertThat(out.toString()).isEqualTo(Files.readString(scaffold));
    }
}
