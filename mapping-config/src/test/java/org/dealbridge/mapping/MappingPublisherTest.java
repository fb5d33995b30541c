package org.dealbridge.mapping;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.schemas.MappingProfile;
import org.dealbridge.schemas.registry.InMemorySchemaRegistry;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Publishing, history, rollback and export against a real broker. */
class MappingPublisherTest {

    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();
    private static final AtomicInteger TOPIC_SEQ = new AtomicInteger();

    private final InMemorySchemaRegistry registry = new InMemorySchemaRegistry();
    private MappingTopics topics;
    private MappingPublisher publisher;

    @BeforeEach
    void freshTopics() {
        int n = TOPIC_SEQ.incrementAndGet();
        topics = MappingTopics.named(registry, "mapping-config-" + n, "mapping-history-" + n);
        publisher = new MappingPublisher(props(), topics, Clock.fixed(Instant.parse("2026-11-29T07:00:00Z"), ZoneOffset.UTC));
    }

    private static Properties props() {
        return KAFKA.clientProperties();
    }

    @Test
    void yamlRoundTripsThroughTheTopicByteForByte() throws Exception {
        String sample = CompiledMappingTest.sample();  // comments and layout included
        MappingPublisher.Publication publication = publisher.publish(sample, "alice", false, DocumentCheck.NONE);
        assertThat(publication.published()).isTrue();
        assertThat(publication.profile().getVersion()).isEqualTo(1);

        MappingProfile read = publisher.reader().latest("s1").orElseThrow();
        assertThat(read.getDocument()).isEqualTo(sample);
        assertThat(read.getAuthor()).isEqualTo("alice");
        assertThat(read.getPublishedAt()).isEqualTo(Instant.parse("2026-11-29T07:00:00Z"));
        assertThat(read.getContentHash()).isEqualTo(MappingProfiles.contentHash(sample)).hasSize(64);
        assertThat(MappingProfiles.compile("s1", read).stageFor(2, "F")).contains("C2:WON");
    }

    @Test
    void versionsGrowAndHistoryKeepsEveryOne() {
        publisher.publish(MappingTableTest.V1, "a", false, DocumentCheck.NONE);
        MappingPublisher.Publication second = publisher.publish(MappingTableTest.V2, "b", false, DocumentCheck.NONE);
        assertThat(second.profile().getVersion()).isEqualTo(2);
        assertThat(second.previous().orElseThrow().getVersion()).isEqualTo(1);
        assertThat(second.diff()).contains("- " + MappingTableTest.V1.lines().toList().get(3),
                "+ " + MappingTableTest.V2.lines().toList().get(3));
        assertThat(publisher.reader().history("s1")).extracting(MappingProfile::getVersion).containsExactly(1L, 2L);
        assertThat(publisher.reader().version("s1", 1).orElseThrow().getDocument()).isEqualTo(MappingTableTest.V1);
    }

    @Test
    void rollbackRepublishesAnOldDocumentAsANewVersion() {
        publisher.publish(MappingTableTest.V1, "a", false, DocumentCheck.NONE);
        publisher.publish(MappingTableTest.V2, "b", false, DocumentCheck.NONE);
        MappingPublisher.Publication back = publisher.rollback("s1", 1, "c", false, DocumentCheck.NONE);
        assertThat(back.profile().getVersion()).isEqualTo(3);
        assertThat(publisher.reader().latest("s1").orElseThrow().getDocument()).isEqualTo(MappingTableTest.V1);
        assertThat(publisher.reader().history("s1")).extracting(MappingProfile::getVersion).containsExactly(1L, 2L, 3L);
        assertThatThrownBy(() -> publisher.rollback("s1", 9, "c", false, DocumentCheck.NONE))
                .hasMessageContaining("no version 9").hasMessageContaining("[1, 2, 3]");
    }

    @Test
    void dryRunWritesNothing() {
        MappingPublisher.Publication dry = publisher.publish(MappingTableTest.V1, "a", true, DocumentCheck.NONE);
        assertThat(dry.published()).isFalse();
        assertThat(dry.profile().getVersion()).isEqualTo(1);
        assertThat(publisher.reader().latest("s1")).isEmpty();
        assertThat(publisher.reader().history("s1")).isEmpty();
    }

    @Test
    void invalidDocumentPublishesNothing() {
        publisher.publish(MappingTableTest.V1, "a", false, DocumentCheck.NONE);
        assertThatThrownBy(() -> publisher.publish(MappingTableTest.INVALID, "a", false, DocumentCheck.NONE))
                .isInstanceOf(MappingInvalidException.class).hasMessageContaining("stages.\"0\"[1].status");
        assertThat(publisher.reader().history("s1")).hasSize(1);
        assertThat(publisher.reader().latest("s1").orElseThrow().getVersion()).isEqualTo(1);
    }

    @Test
    void failingExtraCheckPublishesNothing() {
        DocumentCheck live = doc -> List.of(new MappingError("responsible.default", "1", "no such user"));
        assertThatThrownBy(() -> publisher.publish(MappingTableTest.V1, "a", false, live))
                .isInstanceOf(MappingInvalidException.class).hasMessageContaining("no such user");
        assertThat(publisher.reader().latest("s1")).isEmpty();
    }

    @Test
    void identicalDocumentIsNotRepublished() {
        publisher.publish(MappingTableTest.V1, "a", false, DocumentCheck.NONE);
        MappingPublisher.Publication again = publisher.publish(MappingTableTest.V1, "a", false, DocumentCheck.NONE);
        assertThat(again.unchanged()).isTrue();
        assertThat(again.published()).isFalse();
        assertThat(again.diff()).isEmpty();
        assertThat(publisher.reader().history("s1")).hasSize(1);
    }

    @Test
    void withdrawLeavesHistoryAndVersionsKeepGrowing() {
        publisher.publish(MappingTableTest.V1, "a", false, DocumentCheck.NONE);
        publisher.withdraw("s1");
        assertThat(publisher.reader().latest("s1")).isEmpty();
        assertThat(publisher.publish(MappingTableTest.V2, "a", false, DocumentCheck.NONE).profile().getVersion())
                .isEqualTo(2);
    }
}
