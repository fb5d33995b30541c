package org.dealbridge.schemas.serde;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;
import org.dealbridge.schemas.registry.SchemaRegistry;
import org.dealbridge.schemas.registry.SchemaRegistryException;

/**
 * Avro SpecificRecord serde in the Confluent wire format: magic byte 0, the writer schema's registry id as
 * 4 bytes big-endian, then the Avro binary encoding. Records written by any Confluent-compatible producer
 * with a compatible schema are readable; our records are readable by any Confluent-compatible consumer.
 *
 * <p>The writer schema is registered once per topic (TopicNameStrategy) and its id cached; reading resolves
 * the writer schema by id (cached) against this class's reader schema, so old records stay readable.
 */
public final class AvroSerde<T extends SpecificRecord> implements Serde<T> {
    static final byte MAGIC_BYTE = 0;
    static final int HEADER_SIZE = 5;

    /**
     * Each thread reuses one buffered encoder and one decoder: Avro encoding was a fifth to a quarter of the deal
     * projector's stream-thread samples in its JFR profile, and it made a new unbuffered encoder per record, each byte
     * a synchronized stream write.
     */
    private static final ThreadLocal<BinaryEncoder> ENCODER = new ThreadLocal<>();
    private static final ThreadLocal<BinaryDecoder> DECODER = new ThreadLocal<>();

    private final SchemaRegistry registry;
    private final Schema readerSchema;
    private final boolean isKey;
    private final Map<String, Integer> idByTopic = new ConcurrentHashMap<>();
    private final Map<Integer, SpecificDatumReader<T>> readerById = new ConcurrentHashMap<>();
    private final SpecificDatumWriter<T> writer;

    public AvroSerde(SchemaRegistry registry, Schema schema, boolean isKey) {
        this.registry = registry;
        this.readerSchema = schema;
        this.isKey = isKey;
        this.writer = new SpecificDatumWriter<>(schema, SpecificData.getForSchema(schema));
    }

    public static <T extends SpecificRecord> AvroSerde<T> forValue(SchemaRegistry registry, Schema schema) {
        return new AvroSerde<>(registry, schema, false);
    }

    public Schema schema() {
        return readerSchema;
    }

    private String subject(String topic) {
        return isKey ? SchemaRegistry.keySubject(topic) : SchemaRegistry.valueSubject(topic);
    }

    /**
     * The id this serde writes under for the topic, registering (or, with a look-up-only registry, finding) the schema
     * on first use; called at start-up for every topic so a missing subject stops the start rather than the first write.
     */
    public int schemaId(String topic) {
        try {
            return idByTopic.computeIfAbsent(topic, t -> registry.register(subject(t), readerSchema));
        } catch (SchemaRegistryException e) {
            // a SerializationException, so Kafka's and Streams' handlers treat it as the record failure it is
            throw new SerializationException("cannot register schema " + readerSchema.getFullName() + " under subject "
                    + subject(topic) + " for topic " + topic + ": " + e.getMessage(), e);
        }
    }

    public byte[] serialize(String topic, T record) {
        if (record == null) {
            return null; // tombstone
        }
        int id = schemaId(topic);
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream(256);
            out.write(MAGIC_BYTE);
            out.write(ByteBuffer.allocate(4).putInt(id).array());
            BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, ENCODER.get());
            ENCODER.set(encoder);
            writer.write(record, encoder);
            encoder.flush();
            return out.toByteArray();
        } catch (IOException | RuntimeException e) {
            throw new SerializationException("cannot serialize " + readerSchema.getFullName() + " for topic " + topic
                    + ": " + e.getMessage(), e);
        }
    }

    public T deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        if (data.length < HEADER_SIZE) {
            throw new SerializationException("record on topic " + topic + " is " + data.length
                    + " bytes, shorter than the 5-byte Confluent header: not an Avro record of this format");
        }
        ByteBuffer buffer = ByteBuffer.wrap(data);
        byte magic = buffer.get();
        if (magic != MAGIC_BYTE) {
            throw new SerializationException("record on topic " + topic + " starts with magic byte " + magic
                    + ", expected 0 (Confluent wire format)");
        }
        int id = buffer.getInt();
        try {
            SpecificDatumReader<T> reader = readerById.computeIfAbsent(id, i -> new SpecificDatumReader<>(
                    registry.schemaById(i), readerSchema, SpecificData.getForSchema(readerSchema)));
            BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(data, HEADER_SIZE, data.length - HEADER_SIZE, DECODER.get());
            DECODER.set(decoder);
            T value;
            try {
                value = reader.read(null, decoder);
            } catch (EOFException e) {
                throw new IOException("truncated: the " + (data.length - HEADER_SIZE)
                        + " bytes after the header end before the record does", e);
            }
            if (!decoder.isEnd()) {
                throw new IOException("the record ends before its " + (data.length - HEADER_SIZE)
                        + " bytes of Avro data do: trailing bytes, or a writer schema that does not match schema id " + id);
            }
            return value;
        } catch (IOException | RuntimeException e) {
            throw new SerializationException("cannot read " + readerSchema.getFullName() + " (schema id " + id
                    + ") from topic " + topic + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Serializer<T> serializer() {
        return this::serialize;
    }

    @Override
    public Deserializer<T> deserializer() {
        return this::deserialize;
    }
}
