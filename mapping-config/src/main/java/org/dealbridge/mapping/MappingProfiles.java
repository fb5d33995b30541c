package org.dealbridge.mapping;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.dealbridge.schemas.MappingProfile;

/** Building {@link MappingProfile} records and checking one read back from a topic before it is trusted. */
public final class MappingProfiles {

    private MappingProfiles() {
    }

    /** A profile for a document text (kept exactly as given; the hash is over its UTF-8 bytes). */
    public static MappingProfile build(String siteId, String document, long version, String author, Instant publishedAt) {
        return MappingProfile.newBuilder()
                .setSiteId(siteId)
                .setVersion(version)
                .setAuthor(author)
                .setPublishedAt(truncateToMillis(publishedAt))  // the field is timestamp-millis
                .setContentHash(contentHash(document))
                .setDocument(document)
                .build();
    }

    private static Instant truncateToMillis(Instant at) {
        return Instant.ofEpochMilli(at.toEpochMilli());
    }

    /** SHA-256 of the document's UTF-8 bytes, lower-case hex. */
    public static String contentHash(String document) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(document.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);  // every Java SE platform must have it
        }
    }

    /**
     * Checks a profile read from the topic under {@code key} and compiles it: the key, the profile's site and the
     * document's site agree, the version is positive, the hash matches the text and the document is valid.
     *
     * @throws MappingInvalidException naming what is wrong
     */
    public static CompiledMapping compile(String key, MappingProfile profile) {
        List<MappingError> errors = new ArrayList<>();
        String site = profile.getSiteId().toString();
        if (!site.equals(key)) {
            errors.add(new MappingError("(record).siteId", site, "differs from the record key \"" + key + "\""));
        }
        if (profile.getVersion() < 1) {
            errors.add(new MappingError("(record).version", Long.toString(profile.getVersion()), "versions start at 1"));
        }
        String document = profile.getDocument().toString();
        String hash = contentHash(document);
        if (!hash.equals(profile.getContentHash().toString())) {
            errors.add(new MappingError("(record).contentHash", profile.getContentHash().toString(),
                    "does not match the document (its SHA-256 is " + hash + ")"));
        }
        CompiledMapping compiled = null;
        try {
            compiled = CompiledMapping.compile(MappingValidator.parseValid(document), profile.getVersion());
            if (!compiled.siteId().equals(site)) {
                errors.add(new MappingError("site", compiled.siteId(), "differs from the record's site \"" + site + "\""));
            }
        } catch (MappingInvalidException e) {
            errors.addAll(e.errors());
        }
        if (!errors.isEmpty()) {
            throw new MappingInvalidException(errors);
        }
        return compiled;
    }
}
