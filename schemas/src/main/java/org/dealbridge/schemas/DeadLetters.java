package org.dealbridge.schemas;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.UUID;

/** The one form of a dead letter: the record as it was, where it came from, why it failed, and when. */
public final class DeadLetters {
    private DeadLetters() {
    }

    /**
     * @param partition and {@code offset}: the record's place in {@code sourceTopic}, or null when it was not read from
     *                  there (e.g. a coalesced change flushed by a punctuation)
     */
    public static DeadLetter of(String component, CharSequence siteId, String sourceTopic, Integer partition, Long offset,
                                String key, byte[] value, String reason, String errorCode, int attempts, Instant failedAt) {
        return DeadLetter.newBuilder()
                .setId(UUID.randomUUID().toString())
                .setComponent(component)
                .setSiteId(siteId == null ? null : siteId.toString())
                .setSourceTopic(sourceTopic)
                .setSourcePartition(partition)
                .setSourceOffset(offset)
                .setKey(key == null ? null : ByteBuffer.wrap(key.getBytes(StandardCharsets.UTF_8)))
                .setValue(value == null ? null : ByteBuffer.wrap(value))
                .setReason(reason)
                .setErrorCode(errorCode)
                .setAttempts(attempts)
                .setFailedAt(failedAt)
                .build();
    }
}
