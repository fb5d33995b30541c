package org.dealbridge.mapping;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.time.Instant;
import java.util.Properties;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.dealbridge.schemas.MappingProfile;
import org.dealbridge.schemas.registry.InMemorySchemaRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The validating global store, record by record, on TopologyTestDriver. */
class MappingTableTest {

    static final String V1 = """
            site: s1
            pipelines: { default: 0 }
            stages:
              "0": [ { stage: NEW, status: N } ]
            responsible: { default: 1 }
            payment: { default: 1 }
            """;
    static final String V2 = V1.replace("{ stage: NEW, status: N }", "{ stage: NEW, status: N }, { stage: WON, status: F }");
    /** Status N mapped twice in pipeline 0. */
    static final String INVALID = V1.replace("{ stage: NEW, status: N }", "{ stage: NEW, status: N }, { stage: WON, status: N }");

    private final InMemorySchemaRegistry registry = new InMemorySchemaRegistry();
    private final MappingTopics topics = MappingTopics.of(registry);
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final MappingTable table = new MappingTable(topics, meters);
    private TopologyTestDriver driver;
    private TestInputTopic<String, MappingProfile> input;
    private TestInputTopic<String, byte[]> rawInput;
    private MappingLookup lookup;

    @BeforeEach
    void start() throws Exception {
        StreamsBuilder builder = new StreamsBuilder();
        table.addTo(builder);
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "mapping-table-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("mapping-table-test").toString());
        driver = new TopologyTestDriver(builder.build(), props);
        input = driver.createInputTopic(topics.current(), topics.keySerde().serializer(), topics.valueSerde().serializer());
        rawInput = driver.createInputTopic(topics.current(), new StringSerializer(), new ByteArraySerializer());
        KeyValueStore<String, byte[]> store = driver.getKeyValueStore(MappingTable.STORE);
        lookup = new MappingLookup(store::get, table);
    }

    @AfterEach
    void stop() {
        driver.close();
    }

    static MappingProfile profile(String doc, long version) {
        return MappingProfiles.build("s1", doc, version, "test", Instant.parse("2026-11-29T06:00:00Z"));
    }

    private double rejected() {
        Counter counter = meters.find(MappingTable.REJECTED_METRIC).tag("site", "s1").counter();
        return counter == null ? 0 : counter.count();
    }

    private double versionGauge() {
        Gauge gauge = meters.find(MappingTable.VERSION_METRIC).tag("site", "s1").gauge();
        return gauge == null ? -1 : gauge.value();
    }

    @Test
    void validProfileComesIntoForce() {
        assertThat(lookup.forSite("s1")).isEmpty();
        input.pipeInput("s1", profile(V1, 1));
        assertThat(lookup.forSite("s1")).get().extracting(CompiledMapping::version).isEqualTo(1L);
        input.pipeInput("s1", profile(V2, 2));
        assertThat(lookup.forSite("s1").orElseThrow().stageFor(0, "F")).contains("WON");
        assertThat(versionGauge()).isEqualTo(2);
        assertThat(rejected()).isZero();
    }

    @Test
    void lookupCompilesOncePerVersion() {
        input.pipeInput("s1", profile(V1, 1));
        CompiledMapping first = lookup.forSite("s1").orElseThrow();
        assertThat(lookup.forSite("s1").orElseThrow()).isSameAs(first);
        input.pipeInput("s1", profile(V2, 2));
        assertThat(lookup.forSite("s1").orElseThrow()).isNotSameAs(first);
    }

    @Test
    void invalidDocumentIsRejectedAndThePreviousStaysInForce() {
        input.pipeInput("s1", profile(V1, 1));
        input.pipeInput("s1", profile(INVALID, 2));
        assertThat(lookup.forSite("s1").orElseThrow().version()).isEqualTo(1);
        assertThat(rejected()).isEqualTo(1);
        assertThat(versionGauge()).isEqualTo(1);
    }

    @Test
    void tamperedDocumentIsRejected() {
        input.pipeInput("s1", profile(V1, 1));
        MappingProfile tampered = profile(V2, 2);
        tampered.setDocument(V2.replace("WON", "LOSE"));  // still valid, but not what was hashed
        input.pipeInput("s1", tampered);
        assertThat(lookup.forSite("s1").orElseThrow().version()).isEqualTo(1);
        assertThat(rejected()).isEqualTo(1);
    }

    @Test
    void recordUnderAnotherSitesKeyIsRejected() {
        input.pipeInput("s2", profile(V1, 1));
        assertThat(lookup.forSite("s2")).isEmpty();
        assertThat(lookup.forSite("s1")).isEmpty();
        assertThat(meters.find(MappingTable.REJECTED_METRIC).tag("site", "s2").counter().count()).isEqualTo(1);
    }

    @Test
    void unreadableBytesAreRejectedWithoutStoppingTheTable() {
        input.pipeInput("s1", profile(V1, 1));
        rawInput.pipeInput("s1", "not avro".getBytes());
        input.pipeInput("s1", profile(V2, 2));
        assertThat(lookup.forSite("s1").orElseThrow().version()).isEqualTo(2);
        assertThat(rejected()).isEqualTo(1);
    }

    @Test
    void olderVersionDoesNotReplaceANewerOne() {
        input.pipeInput("s1", profile(V2, 5));
        input.pipeInput("s1", profile(V1, 4));
        assertThat(lookup.forSite("s1").orElseThrow().version()).isEqualTo(5);
        assertThat(rejected()).isEqualTo(1);
        input.pipeInput("s1", profile(V2, 5));  // the same record again is harmless
        assertThat(rejected()).isEqualTo(1);
    }

    @Test
    void tombstoneStopsTheSite() {
        input.pipeInput("s1", profile(V1, 1));
        input.pipeInput("s1", (MappingProfile) null);
        assertThat(lookup.forSite("s1")).isEmpty();
        assertThat(versionGauge()).isZero();
        input.pipeInput("s1", profile(V2, 2));
        assertThat(lookup.forSite("s1").orElseThrow().version()).isEqualTo(2);
    }
}
