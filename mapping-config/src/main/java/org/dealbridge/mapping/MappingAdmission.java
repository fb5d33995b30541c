package org.dealbridge.mapping;

import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.dealbridge.schemas.MappingProfile;

/**
 * Whether a record on {@code mapping-config} may replace the version in force for its site: the one rule behind the
 * projectors' global store ({@link MappingTable}) and the {@link MappingKeeper}, so the two never disagree about
 * what a good record is. A record is admitted when it is readable, its key is the site, its hash matches, its
 * document is valid and its version is above the one in force.
 */
public final class MappingAdmission {

    /** What to do with one record. */
    public sealed interface Verdict permits Admit, Same, Remove, Reject {
    }

    /** A valid, newer version: it is now in force. */
    public record Admit(MappingProfile profile, CompiledMapping mapping) implements Verdict {
    }

    /** The version in force again (a re-send): nothing changes. */
    public record Same() implements Verdict {
    }

    /** A tombstone: the site's mapping is withdrawn. */
    public record Remove() implements Verdict {
    }

    /** Not admitted; {@code version} is "?" when the record cannot be read. */
    public record Reject(String version, List<String> errors) implements Verdict {
    }

    private MappingAdmission() {
    }

    /**
     * @param site     the record's key (null when it has none)
     * @param value    the record's bytes (null for a tombstone)
     * @param inForce  the bytes of the version in force for the site, or null
     */
    public static Verdict judge(MappingTopics topics, String site, byte[] value, byte[] inForce) {
        if (site == null) {
            return new Reject("?", List.of("the record has no key (the key must be the site id)"));
        }
        if (value == null) {
            return new Remove();
        }
        MappingProfile profile;
        try {
            profile = decode(topics, value);
        } catch (SerializationException e) {
            return new Reject("?", List.of("unreadable record: " + e.getMessage()));
        }
        CompiledMapping mapping;
        try {
            mapping = MappingProfiles.compile(site, profile);
        } catch (MappingInvalidException e) {
            return new Reject(Long.toString(profile.getVersion()), e.errors().stream().map(MappingError::toString).toList());
        }
        if (inForce != null) {
            MappingProfile current = decode(topics, inForce);
            if (profile.getVersion() == current.getVersion() && profile.getContentHash().equals(current.getContentHash())) {
                return new Same();
            }
            if (profile.getVersion() <= current.getVersion()) {
                return new Reject(Long.toString(profile.getVersion()), List.of("version " + profile.getVersion()
                        + " is not above version " + current.getVersion() + " in force"));
            }
        }
        return new Admit(profile, mapping);
    }

    static MappingProfile decode(MappingTopics topics, byte[] bytes) {
        return topics.valueSerde().deserializer().deserialize(topics.current(), bytes);
    }
}
