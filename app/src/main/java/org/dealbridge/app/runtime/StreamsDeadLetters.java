package org.dealbridge.app.runtime;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.dealbridge.bitrix.WebhookUrl;
import org.dealbridge.schemas.DeadLetter;
import org.dealbridge.schemas.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams' dead-letter support (KIP-1034) with DealBridge's envelope: a record a topology cannot deserialize or
 * process is answered with {@code Response.resume(deadLetterRecords)}, so Kafka Streams itself writes the dead letter
 * (inside the task's transaction under exactly-once) and moves on; no partition stalls. The record goes to
 * {@code dead-letters} as a {@link DeadLetter} with the original bytes and the reason, rather than as the raw record
 * Streams writes to {@code errors.dead.letter.queue.topic.name}, so that {@code dlq list}/{@code replay} read every
 * dead letter, whichever component wrote it, the same way.
 */
public final class StreamsDeadLetters implements DeserializationExceptionHandler, ProcessingExceptionHandler {
    /** Streams config key carrying the {@link Topics} instance (its dead-letter serde) into the handler. */
    public static final String TOPICS_CONFIG = "dealbridge.topics";
    /** Streams config key carrying the meter registry. */
    public static final String METRICS_CONFIG = "dealbridge.metrics";
    private static final Logger log = LoggerFactory.getLogger(StreamsDeadLetters.class);

    private Topics topics;
    private String component;
    private Counter counter;

    @Override
    public void configure(Map<String, ?> configs) {
        this.topics = (Topics) configs.get(TOPICS_CONFIG);
        this.component = String.valueOf(configs.get("application.id"));
        Object registry = configs.get(METRICS_CONFIG);
        if (registry instanceof MeterRegistry meters) {
            counter = Counter.builder("dealbridge.dead.letters").description("Records sent to the dead-letter topic")
                    .tag("component", component).register(meters);
        }
        if (topics == null) {
            throw new IllegalStateException(TOPICS_CONFIG + " must be set in the Streams config of " + component);
        }
    }

    @Override
    public DeserializationExceptionHandler.Response handleError(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record,
                                                                 Exception exception) {
        return DeserializationExceptionHandler.Response.resume(List.of(deadLetter(context, record.key(), record.value(),
                "cannot read the record: " + exception.getMessage(), exception)));
    }

    @Override
    public ProcessingExceptionHandler.Response handleError(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
        return ProcessingExceptionHandler.Response.resume(List.of(deadLetter(context, context.sourceRawKey(), context.sourceRawValue(),
                "cannot process the record in " + context.processorNodeId() + ": " + exception.getMessage(), exception)));
    }

    private ProducerRecord<byte[], byte[]> deadLetter(ErrorHandlerContext context, byte[] key, byte[] value, String reason,
                                                      Exception exception) {
        // components mask their own messages; this catches a webhook URL a library put into one
        String masked = reason.replaceAll("/rest/(\\d+)/[^/\\s]+", "/rest/$1/" + WebhookUrl.MASK);
        DeadLetter letter = DeadLetter.newBuilder()
                .setId(UUID.randomUUID().toString())
                .setComponent(component)
                .setSiteId(siteOf(key))
                .setSourceTopic(context.topic())
                .setSourcePartition(context.partition())
                .setSourceOffset(context.offset())
                .setKey(key == null ? null : java.nio.ByteBuffer.wrap(key))
                .setValue(value == null ? null : java.nio.ByteBuffer.wrap(value))
                .setReason(masked)
                .setErrorCode(exception.getClass().getSimpleName())
                .setAttempts(1)
                .setFailedAt(Instant.now())
                .build();
        log.warn("{}: dead letter {} for {}-{}@{}: {}", component, letter.getId(), context.topic(), context.partition(),
                context.offset(), masked);
        if (counter != null) {
            counter.increment();
        }
        byte[] letterKey = letter.getId().getBytes(StandardCharsets.UTF_8);
        return new ProducerRecord<>(topics.deadLetters().name(), letterKey,
                topics.deadLetters().valueSerde().serializer().serialize(topics.deadLetters().name(), letter));
    }

    /** The site of an order key ({@code s1:5001}), when the key is one. */
    private static String siteOf(byte[] key) {
        if (key == null) {
            return null;
        }
        String k = new String(key, StandardCharsets.UTF_8);
        int colon = k.indexOf(':');
        return colon > 0 && k.substring(colon + 1).chars().allMatch(Character::isDigit) ? k.substring(0, colon) : null;
    }
}
