package org.dealbridge.mapping.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import java.util.Properties;
import org.dealbridge.bitrix.crm.CrmApi;
import org.dealbridge.bitrix.store.StoreApi;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.mapping.MappingTopicReader;
import org.dealbridge.mapping.MappingTopics;
import org.dealbridge.schemas.MappingProfile;
import org.dealbridge.schemas.registry.InMemorySchemaRegistry;
import org.dealbridge.schemas.registry.SchemaRegistry;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The {@code mapping} commands end to end on a real broker (topics mapping-config and mapping-history; each test
 * uses its own site id so tests do not see each other's versions).
 */
class MappingCommandTest {

    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();
    static final SchemaRegistry REGISTRY = new InMemorySchemaRegistry();
    private static int siteSeq;

    @TempDir
    Path dir;
    private String site;
    private StringWriter out;
    private StringWriter err;

    static final String DOC = """
            site: SITE
            pipelines: { default: 0 }
            stages:
              "0":
                - { stage: NEW, status: N }
                - { stage: WON, status: F }
            responsible: { default: 1 }
            payment: { default: 1 }
            """;

    /** A launcher context with Kafka only (no portals configured). */
    static final class KafkaOnly implements MappingCliContext {
        int opened;

        @Override
        public Properties kafkaClientProperties() {
            opened++;
            return KAFKA.clientProperties();
        }

        @Override
        public SchemaRegistry schemaRegistry() {
            return REGISTRY;
        }

        @Override
        public Optional<CrmApi> crm() {
            return Optional.empty();
        }

        @Override
        public Optional<StoreApi> store() {
            return Optional.empty();
        }
    }

    private final KafkaOnly context = new KafkaOnly();

    @BeforeEach
    void newSite() {
        site = "cli" + (++siteSeq);
    }

    private int run(String... args) {
        out = new StringWriter();
        err = new StringWriter();
        CommandLine cli = new MappingCommand(() -> context,
                Clock.fixed(Instant.parse("2026-11-29T07:30:00Z"), ZoneOffset.UTC)).commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(args);
    }

    private Path file(String name, String text) throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, text.replace("SITE", site));
        return f;
    }

    private MappingTopicReader reader() {
        return new MappingTopicReader(KAFKA.clientProperties(), MappingTopics.of(REGISTRY));
    }

    @Test
    void validateNeedsNoKafkaAndExitsTwoNamingTheEntry() throws Exception {
        assertThat(run("validate", file("ok.yaml", DOC).toString())).isZero();
        assertThat(out.toString()).contains("valid");
        Path bad = file("bad.yaml", DOC.replace("{ stage: WON, status: F }", "{ stage: \"C1:WON\", status: F }"));
        assertThat(run("validate", bad.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("stages.\"0\"[1].stage = \"C1:WON\"");
        assertThat(context.opened).isZero();
    }

    @Test
    void validateLiveWithoutPortalsIsAFailureNotAPass() throws Exception {
        assertThat(run("validate", file("ok.yaml", DOC).toString(), "--live")).isEqualTo(1);
        assertThat(err.toString()).contains("--live needs");
    }

    @Test
    void missingFileIsAFailure() {
        assertThat(run("validate", dir.resolve("nope.yaml").toString())).isEqualTo(1);
        assertThat(run("publish", dir.resolve("nope.yaml").toString())).isEqualTo(1);
    }

    @Test
    void publishShowHistoryExportRoundTrip() throws Exception {
        Path v1 = file("v1.yaml", DOC);
        assertThat(run("publish", v1.toString(), "--author", "alice")).isZero();
        assertThat(out.toString()).contains("published site " + site + " version 1 by alice");
        assertThat(err.toString()).contains("live validation skipped");

        Path v2 = file("v2.yaml", DOC.replace("    - { stage: WON, status: F }\n",
                "    - { stage: EXECUTING, status: P }\n    - { stage: WON, status: F }\n"));
        assertThat(run("publish", v2.toString(), "--author", "bob")).isZero();
        assertThat(out.toString()).contains("version 1 in force").contains("+     - { stage: EXECUTING, status: P }")
                .contains("version 2");

        assertThat(run("export", site)).isZero();
        assertThat(out.toString()).isEqualTo(Files.readString(v2));

        assertThat(run("show", site, "--version", "1")).isZero();
        assertThat(out.toString()).contains("version 1").contains("by alice").contains(Files.readString(v1));

        assertThat(run("history", site)).isZero();
        assertThat(out.toString()).contains("alice").contains("bob").contains("(latest)");

        Path exported = dir.resolve("exported.yaml");
        assertThat(run("export", site, "-o", exported.toString())).isZero();
        assertThat(Files.readString(exported)).isEqualTo(Files.readString(v2));
    }

    @Test
    void invalidPublishExitsTwoAndPublishesNothing() throws Exception {
        assertThat(run("publish", file("v1.yaml", DOC).toString())).isZero();
        Path bad = file("bad.yaml", DOC.replace("{ stage: WON, status: F }", "{ stage: WON, status: N }"));
        assertThat(run("publish", bad.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("stages.\"0\"[1].status = \"N\"").contains("nothing was published");
        assertThat(reader().history(site)).extracting(MappingProfile::getVersion).containsExactly(1L);
    }

    @Test
    void dryRunShowsTheVersionAndPublishesNothing() throws Exception {
        assertThat(run("publish", file("v1.yaml", DOC).toString(), "--dry-run")).isZero();
        assertThat(out.toString()).contains("dry run: would publish site " + site + " version 1");
        assertThat(reader().latest(site)).isEmpty();
    }

    @Test
    void rollbackPublishesTheOldDocumentAsANewVersion() throws Exception {
        Path v1 = file("v1.yaml", DOC);
        run("publish", v1.toString());
        run("publish", file("v2.yaml", DOC.replace("default: 1 }\npayment", "default: 2 }\npayment")).toString());
        assertThat(run("rollback", site, "--to", "1")).isZero();
        assertThat(out.toString()).contains("version 3");
        assertThat(reader().latest(site).orElseThrow().getDocument()).isEqualTo(Files.readString(v1));
        assertThat(run("rollback", site, "--to", "7")).isEqualTo(1);
        assertThat(err.toString()).contains("no version 7");
    }

    @Test
    void unknownSiteIsAFailureNamingTheKnownOnes() throws Exception {
        run("publish", file("v1.yaml", DOC).toString());
        assertThat(run("export", "nosuchsite")).isEqualTo(1);
        assertThat(err.toString()).contains("nosuchsite").contains(site);
    }

    @Test
    void withdrawStopsTheSite() throws Exception {
        run("publish", file("v1.yaml", DOC).toString());
        assertThat(run("withdraw", site)).isEqualTo(2);  // --yes is required: a usage error
        assertThat(reader().latest(site)).isPresent();
        assertThat(run("withdraw", site, "--yes")).isZero();
        assertThat(reader().latest(site)).isEmpty();
    }

    @Test
    void scaffoldWithoutPortalsIsAFailure() {
        assertThat(run("scaffold", "--live")).isEqualTo(1);
        assertThat(err.toString()).contains("CRM");
    }
}
