package org.dealbridge.ingestion;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 13, deal 488: a record published at one modification date and saved again within that second lists with the
 * same date; the poller must read it again, and still not read a record it published unchanged (issue 14 item 4).
 */
class PublishedVersionsTest {
    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();
    private static final OffsetDateTime SECOND = OffsetDateTime.parse("2026-12-06T22:44:10+03:00");

    @Test
    void aVersionIsTheSameOnlyWithTheSameDateAndTheSameContent() {
        PublishedVersions published = new PublishedVersions();
        published.published(488, SECOND.toInstant(), "C2:NEW");

        assertThat(published.isPublished(488, SECOND, "C2:NEW")).as("listed as published: not read again").isTrue();
        assertThat(published.isPublished(488, SECOND, "C2:WON")).as("saved again within the same second").isFalse();
        assertThat(published.isPublished(488, SECOND.plusSeconds(1), "C2:NEW")).as("saved again later").isFalse();
        assertThat(published.isPublished(488, SECOND, null)).as("content unknown: it might have changed").isFalse();
        assertThat(published.isPublished(489, SECOND, "C2:NEW")).as("never published").isFalse();
    }

    @Test
    void atTheSameDateTheVersionSentLastStandsAndAnEarlierDateNeverReplacesALaterOne() {
        PublishedVersions published = new PublishedVersions();
        published.published(488, SECOND.toInstant(), "C2:NEW");
        published.published(488, SECOND.toInstant(), "C2:WON");
        assertThat(published.isPublished(488, SECOND, "C2:WON")).isTrue();
        assertThat(published.isPublished(488, SECOND, "C2:NEW")).isFalse();

        published.published(488, SECOND.minusSeconds(5).toInstant(), "C2:PREPARATION");
        assertThat(published.isPublished(488, SECOND, "C2:WON")).as("an older read sent late does not replace the newer one").isTrue();
    }

    @Test
    void aRecordReadWithinTheSecondOfItsDateIsReadAgainOneReadASecondLaterIsNot() {
        PublishedVersions published = new PublishedVersions();
        java.time.Instant saved = SECOND.toInstant();  // DATE_MODIFY 22:44:10, second precision

        published.published(488, saved, "C2:NEW", saved.plusMillis(700));
        assertThat(published.isPublished(488, SECOND, "C2:NEW")).as("read at 22:44:10.7: a save at .9 would list the same").isFalse();

        published.published(488, saved, "C2:NEW", saved.plusSeconds(1));
        assertThat(published.isPublished(488, SECOND, "C2:NEW")).as("read at 22:44:11: the second had ended").isTrue();

        published.published(489, saved, "C2:NEW", null);
        assertThat(published.isPublished(489, SECOND, "C2:NEW")).as("read at an unknown time").isFalse();
        assertThat(PublishedVersions.settled(saved.plusMillis(300), saved.plusSeconds(1))).as("dates are compared by their second").isTrue();
        assertThat(PublishedVersions.settled(saved, saved.plusMillis(999))).isFalse();
    }

    @Test
    void aListingRecordedAfterTheReadDoesNotSettleWhatTheReadLeftUnknown() {
        PublishedVersions published = new PublishedVersions();
        published.published(488, SECOND.toInstant(), "C2:NEW", SECOND.toInstant().plusMillis(500));

        published.listedAndRead(488, SECOND.toInstant(), "C2:NEW");
        assertThat(published.isPublished(488, SECOND, "C2:NEW")).as("the read's unknown content stands").isFalse();

        published.listedAndRead(490, SECOND.toInstant(), "C2:NEW");
        assertThat(published.isPublished(490, SECOND, "C2:NEW")).as("listed and read, nothing recorded by the read (gone)").isTrue();
    }

    @Test
    void theDigestTellsPartsApartAndNullFromTheWordNull() {
        assertThat(PublishedVersions.digest(List.of("a", "b"))).isEqualTo(PublishedVersions.digest(List.of("a", "b")))
                .isNotEqualTo(PublishedVersions.digest(List.of("ab", "")))
                .hasSize(32);
        assertThat(PublishedVersions.digest(java.util.Arrays.asList("x", null))).isNotEqualTo(PublishedVersions.digest(List.of("x", "null")));
    }

    /** The poller over the pure logic: a listing (the portal's answer as the side's lister gives it) and a refresher. */
    @Test
    void thePollerReadsAgainARecordSavedWithinTheSecondItPublishedItInAndNothingItPublishedUnchanged() {
        Map<Long, Change> portal = new ConcurrentHashMap<>();
        List<Long> read = new CopyOnWriteArrayList<>();
        Map<String, Object> client = new java.util.HashMap<>();
        KAFKA.clientProperties().forEach((k, v) -> client.put(k.toString(), v));
        KAFKA.createTopics(1, "cursors-same-second");
        KafkaCursorStore cursors = new KafkaCursorStore(client, "cursors-same-second", "test-cursors", Duration.ofSeconds(10));
        PublishedVersions published = new PublishedVersions();
        ChangePoller poller = new ChangePoller(from -> portal.values().stream().filter(c -> c.modified().isAfter(from))
                .sorted(java.util.Comparator.comparing(Change::modified).thenComparingLong(Change::id)).toList(),
                ids -> {
                    read.addAll(ids);
                    return new Refresher.Refreshed(ids.size(), 0);
                }, cursors, new ChangePoller.Settings("test poller", "test-poll", Duration.ofSeconds(60), Duration.ofSeconds(1),
                        SECOND.minusMinutes(1), 50), published);
        try (cursors) {
            portal.put(488L, new Change(488, SECOND, "C2:NEW"));
            portal.put(487L, new Change(487, SECOND.minusSeconds(30), "C2:NEW"));
            assertThat(poller.pollOnce().published()).isEqualTo(2);

            portal.put(488L, new Change(488, SECOND, "C2:WON"));  // the manager's move, DATE_MODIFY still 22:44:10
            read.clear();
            assertThat(poller.pollOnce().published()).as("the cursor's second is listed again and 488 reads as changed").isEqualTo(1);
            assertThat(read).containsExactly(488L);

            read.clear();
            assertThat(poller.pollOnce().published()).as("published unchanged: only listed").isZero();
            assertThat(read).isEmpty();
        }
    }

    @Test
    void anOverlapShorterThanTheDatesPrecisionIsRefused() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new ChangePoller.Settings("crm-poller", "crm-poll", Duration.ofSeconds(1),
                Duration.ofMillis(999), SECOND, 50)).hasMessageContaining("crm-poller").hasMessageContaining("at least 1000 ms");
    }
}
