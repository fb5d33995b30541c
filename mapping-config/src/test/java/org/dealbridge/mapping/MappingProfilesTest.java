package org.dealbridge.mapping;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import org.dealbridge.schemas.MappingProfile;
import org.junit.jupiter.api.Test;

class MappingProfilesTest {

    @Test
    void hashIsSha256OfTheUtf8Text() {
        // SHA-256("abc"), the FIPS 180-2 test vector
        assertThat(MappingProfiles.contentHash("abc"))
                .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    @Test
    void profileKeepsTheTextAndTruncatesTheTimeToMillis() {
        MappingProfile p = MappingProfiles.build("s1", MappingTableTest.V1, 3, "alice",
                Instant.parse("2026-11-29T07:00:00.123456Z"));
        assertThat(p.getDocument()).isEqualTo(MappingTableTest.V1);
        assertThat(p.getPublishedAt()).isEqualTo(Instant.parse("2026-11-29T07:00:00.123Z"));
        assertThat(p.getContentHash()).isEqualTo(MappingProfiles.contentHash(MappingTableTest.V1));
        assertThat(MappingProfiles.compile("s1", p).version()).isEqualTo(3);
    }

    @Test
    void recordChecksNameWhatIsWrong() {
        MappingProfile p = MappingProfiles.build("s1", MappingTableTest.V1, 0, "a", Instant.EPOCH);
        assertThatThrownBy(() -> MappingProfiles.compile("s2", p))
                .isInstanceOfSatisfying(MappingInvalidException.class, e -> assertThat(e.errors())
                        .extracting(MappingError::path).containsExactlyInAnyOrder("(record).siteId", "(record).version"));
        MappingProfile otherSite = MappingProfiles.build("s2", MappingTableTest.V1, 1, "a", Instant.EPOCH);
        assertThatThrownBy(() -> MappingProfiles.compile("s2", otherSite))
                .isInstanceOfSatisfying(MappingInvalidException.class, e -> assertThat(e.errors())
                        .extracting(MappingError::path).containsExactly("site"));
    }
}
