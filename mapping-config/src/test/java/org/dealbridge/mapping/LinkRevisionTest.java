package org.dealbridge.mapping;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.dealbridge.schemas.SyncLink;
import org.junit.jupiter.api.Test;

class LinkRevisionTest {
    private static final Instant T = Instant.parse("2026-12-07T04:00:00Z");

    private static SyncLink link(long revision, Instant at) {
        return SyncLink.newBuilder().setSiteId("s1").setOrderId(1).setDealId(7).setCategoryId(0).setStageId("NEW")
                .setStatusId("N").setRevision(revision).setUpdatedAt(at).build();
    }

    @Test
    void eachWriteCountsOnFromTheLinkItWasBasedOn() {
        assertThat(LinkRevision.after(null)).isEqualTo(1);
        assertThat(LinkRevision.after(link(4, T))).isEqualTo(5);
        assertThat(LinkRevision.after(link(0, T))).as("a link from before revisions").isEqualTo(1);
    }

    @Test
    void aDealWriteReadsAsNewerThanAnAgreementWrittenOnTheSameLinkWhateverTheirTimes() {
        SyncLink base = link(4, T);
        SyncLink dealWrite = link(LinkRevision.afterDealWrite(base), T);
        SyncLink agreement = link(LinkRevision.after(base), T.plusSeconds(10));
        assertThat(LinkRevision.isNewer(dealWrite, agreement)).isTrue();
        assertThat(LinkRevision.isNewer(link(LinkRevision.after(dealWrite), T), dealWrite)).as("writes in sequence stay ordered").isTrue();
    }

    @Test
    void theCountDecidesWhateverTheWritersClocksSaidAndOnlyConcurrentWritesGoByTime() {
        assertThat(LinkRevision.isNewer(link(5, T.minusSeconds(300)), link(4, T))).isTrue();
        assertThat(LinkRevision.isNewer(link(4, T), link(5, T.minusSeconds(300)))).isFalse();
        assertThat(LinkRevision.isNewer(link(5, T.plusSeconds(1)), link(5, T))).isTrue();
        assertThat(LinkRevision.isNewer(link(5, T), link(5, T))).isFalse();
        assertThat(LinkRevision.isNewer(link(0, T.plusSeconds(1)), link(0, T))).as("links from before revisions: by time, as before").isTrue();
    }

    @Test
    void aViewTakesALinkUnlessItCountsFewerWritesThanTheOneItHolds() {
        SyncLink held = link(5, T);
        assertThat(LinkRevision.supersedes(link(6, T.minusSeconds(300)), held)).isTrue();
        assertThat(LinkRevision.supersedes(link(4, T.plusSeconds(10)), held)).as("an older write arriving late").isFalse();
        assertThat(LinkRevision.supersedes(link(5, T.minusSeconds(1)), held)).as("equal counts: the later arrival").isTrue();
        assertThat(LinkRevision.supersedes(link(0, T), null)).isTrue();
    }
}
