package org.dealbridge.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;
import org.dealbridge.schemas.LinkOrigin;
import org.dealbridge.schemas.OrderChanged;
import org.dealbridge.schemas.SampleRecords;
import org.dealbridge.schemas.SampleRecords.Sample;
import org.dealbridge.schemas.SyncLink;
import org.dealbridge.schemas.Topics;
import org.dealbridge.schemas.registry.InMemorySchemaRegistry;
import org.dealbridge.schemas.registry.SchemaRegistry;
import org.junit.jupiter.api.Test;

class AvroSerdeTest {
    private final InMemorySchemaRegistry registry = new InMemorySchemaRegistry();
    private final Topics topics = new Topics(registry);

    private List<Topics.Topic<String, ?>> avroTopics() {
        return List.of(topics.orderChanges(), topics.dealChanges(), topics.dealCommands(), topics.orderCommands(),
                topics.mappingConfig(), topics.dealLinks(), topics.syncOutcomes(), topics.deadLetters());
    }

    private Topics.Topic<String, ?> topic(String name) {
        return avroTopics().stream().filter(t -> t.name().equals(name)).findFirst().orElseThrow();
    }

    @SuppressWarnings("unchecked")
    private static byte[] write(Topics.Topic<String, ?> topic, SpecificRecord record) {
        return ((Serializer<SpecificRecord>) topic.valueSerde().serializer()).serialize(topic.name(), record);
    }

    private static Object read(Topics.Topic<String, ?> topic, byte[] bytes) {
        return ((Deserializer<?>) topic.valueSerde().deserializer()).deserialize(topic.name(), bytes);
    }

    @Test
    void samplesCoverEveryAvroTopic() {
        assertThat(SampleRecords.all().stream().map(Sample::topic))
                .containsExactlyInAnyOrderElementsOf(avroTopics().stream().map(Topics.Topic::name).toList());
    }

    @Test
    void everyRecordTypeSurvivesARoundTrip() {
        for (Sample sample : SampleRecords.all()) {
            Topics.Topic<String, ?> topic = topic(sample.topic());
            Object back = read(topic, write(topic, sample.record()));
            assertThat(back).as(sample.topic()).isEqualTo(sample.record());
        }
    }

    @Test
    void nullIsATombstoneBothWays() {
        assertThat(write(topics.mappingConfig(), null)).isNull();
        assertThat(read(topics.mappingConfig(), null)).isNull();
    }

    @Test
    void bytesAreConfluentWireFormatReadableByPlainAvro() throws IOException {
        for (Sample sample : SampleRecords.all()) {
            byte[] bytes = write(topic(sample.topic()), sample.record());
            Schema schema = sample.record().getSchema();
            int id = registry.register(SchemaRegistry.valueSubject(sample.topic()), schema); // idempotent: the id the serde got

            assertThat(bytes[0]).as("magic byte of " + sample.topic()).isZero();
            assertThat(Arrays.copyOfRange(bytes, 1, 5)).as("big-endian schema id of " + sample.topic())
                    .containsExactly((byte) (id >>> 24), (byte) (id >>> 16), (byte) (id >>> 8), (byte) id);

            byte[] payload = Arrays.copyOfRange(bytes, 5, bytes.length);
            BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(payload, null);
            GenericRecord generic = new GenericDatumReader<GenericRecord>(registry.schemaById(id)).read(null, decoder);
            assertThat(decoder.isEnd()).as("payload of " + sample.topic() + " fully consumed").isTrue();

            // the generic reading holds the same data: written again, it gives the same bytes
            ByteArrayOutputStream again = new ByteArrayOutputStream();
            BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(again, null);
            new GenericDatumWriter<GenericRecord>(generic.getSchema()).write(generic, encoder);
            encoder.flush();
            assertThat(again.toByteArray()).as(sample.topic()).isEqualTo(payload);
        }
        OrderChanged order = SampleRecords.orderChanged();
        byte[] orderBytes = write(topics.orderChanges(), order);
        byte[] payload = Arrays.copyOfRange(orderBytes, 5, orderBytes.length);
        GenericRecord generic = new GenericDatumReader<GenericRecord>(OrderChanged.getClassSchema())
                .read(null, DecoderFactory.get().binaryDecoder(payload, null));
        assertThat(generic.get("siteId")).hasToString("s1");
        assertThat(generic.get("orderId")).isEqualTo(5001L);
        assertThat(generic.get("dateUpdate")).isEqualTo(SampleRecords.CHANGED_AT.toEpochMilli());
        assertThat(generic.get("version")).isEqualTo(7L);
        assertThat(((GenericRecord) generic.get("buyer")).get("phone")).isNull();
        assertThat((List<?>) generic.get("items")).hasSize(2);
    }

    @Test
    void valueSchemasAreRegisteredUnderTopicNameStrategySubjects() {
        List<String> subjects = new ArrayList<>();
        InMemorySchemaRegistry recording = new InMemorySchemaRegistry() {
            @Override
            public synchronized int register(String subject, Schema schema) {
                subjects.add(subject);
                return super.register(subject, schema);
            }
        };
        Topics recorded = new Topics(recording);
        write(recorded.orderChanges(), SampleRecords.orderChanged());
        write(recorded.orderChanges(), SampleRecords.orderChanged()); // id cached: registered once
        new AvroSerde<OrderChanged>(recording, OrderChanged.getClassSchema(), true).serialize("order-changes", SampleRecords.orderChanged());
        assertThat(subjects).containsExactly("order-changes-value", "order-changes-key");
    }

    /** Fields SyncLink gained after its first version, all with defaults. */
    private static final List<String> ADDED_TO_SYNC_LINK = List.of("dealFields", "origin", "orderValues", "dealDeletedAt",
            "orderDeletedAt", "revision");

    /** A schema from before {@code added} existed: the current one without those fields. */
    private static Schema without(Schema current, List<String> added) {
        List<Schema.Field> fields = current.getFields().stream()
                .filter(f -> !added.contains(f.name()))
                .map(f -> new Schema.Field(f, f.schema()))
                .collect(Collectors.toList());
        return Schema.createRecord(current.getName(), current.getDoc(), current.getNamespace(), false, fields);
    }

    /** A record as an older writer put it on a topic: Confluent's wire format with that writer's schema id. */
    private static byte[] framed(int schemaId, Schema writer, GenericRecord record) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0);
        out.write(ByteBuffer.allocate(4).putInt(schemaId).array());
        BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(writer).write(record, encoder);
        encoder.flush();
        return out.toByteArray();
    }

    @Test
    void recordsOfAnOlderWriterSchemaAreReadWithTheDefaultsOfFieldsAddedSince() throws IOException {
        Schema old = without(SyncLink.getClassSchema(), ADDED_TO_SYNC_LINK);
        int oldId = registry.register(SchemaRegistry.valueSubject(Topics.DEAL_LINKS), old);
        GenericRecord written = new GenericData.Record(old);
        written.put("siteId", "s1");
        written.put("orderId", 5001L);
        written.put("dealId", 812L);
        written.put("categoryId", 3L);
        written.put("stageId", "C3:NEW");
        written.put("statusId", "N");
        written.put("updatedAt", SampleRecords.CHANGED_AT.toEpochMilli());

        SyncLink link = (SyncLink) read(topics.dealLinks(), framed(oldId, old, written));

        assertThat(link.getSiteId()).isEqualTo("s1");
        assertThat(link.getDealId()).isEqualTo(812L);
        assertThat(link.getStageId()).isEqualTo("C3:NEW");
        assertThat(link.getUpdatedAt()).isEqualTo(SampleRecords.CHANGED_AT);
        assertThat(link.getDealFields()).isEqualTo(Map.of());
        assertThat(link.getOrigin()).isEqualTo(LinkOrigin.ORDER);
        assertThat(link.getOrderValues()).as("a link from before orderValues: dealFields stands in (Ownership)").isEqualTo(Map.of());
        assertThat(link.getDealDeletedAt()).isNull();
        assertThat(link.getOrderDeletedAt()).isNull();
        assertThat(link.getRevision()).as("a link from before revisions: ordered by updatedAt (LinkRevision)").isZero();
        // and the current schema, registered after the old one, gets its own id
        byte[] current = write(topics.dealLinks(), SampleRecords.syncLink());
        assertThat(ByteBuffer.wrap(current, 1, 4).getInt()).isNotEqualTo(oldId);
    }

    @Test
    void anOrderChangedWrittenBeforeItCarriedTheStoresVersionReadsWithoutOne() throws IOException {
        Schema current = OrderChanged.getClassSchema();
        Schema old = without(current, List.of("version"));
        int oldId = registry.register(SchemaRegistry.valueSubject(Topics.ORDER_CHANGES), old);
        byte[] full = write(topics.orderChanges(), SampleRecords.orderChanged());
        GenericRecord asOld = new GenericDatumReader<GenericRecord>(current, old)
                .read(null, DecoderFactory.get().binaryDecoder(full, 5, full.length - 5, null));

        OrderChanged order = (OrderChanged) read(topics.orderChanges(), framed(oldId, old, asOld));

        assertThat(order.getVersion()).isNull();
        assertThat(order.getOrderId()).isEqualTo(5001L);
        assertThat(order.getDateUpdate()).isEqualTo(SampleRecords.CHANGED_AT);
        assertThat(SampleRecords.orderChanged().getVersion()).as("the sample carries one").isEqualTo(7L);
    }

    @Test
    void aSchemaTheRegistryRefusesFailsSerializationNamingTopicAndSubject() {
        Schema older = SchemaBuilder.record("OrderChanged").namespace("org.dealbridge.schemas").fields()
                .requiredString("siteId").endRecord();
        registry.register(SchemaRegistry.valueSubject(Topics.ORDER_CHANGES), older); // the current schema cannot read it: orderId has no default

        assertThatThrownBy(() -> write(topics.orderChanges(), SampleRecords.orderChanged()))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("topic order-changes").hasMessageContaining("subject order-changes-value")
                .hasMessageContaining("not BACKWARD compatible");
    }

    @Test
    void aWrongMagicByteIsReportedWithTheTopic() {
        byte[] bytes = write(topics.orderChanges(), SampleRecords.orderChanged());
        bytes[0] = 1;
        assertThatThrownBy(() -> read(topics.orderChanges(), bytes))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("topic order-changes").hasMessageContaining("magic byte 1");
    }

    @Test
    void aRecordShorterThanTheHeaderIsReportedWithTheTopic() {
        assertThatThrownBy(() -> read(topics.dealChanges(), new byte[] {0, 0, 1}))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("topic deal-changes").hasMessageContaining("3 bytes").hasMessageContaining("5-byte");
    }

    @Test
    void aTruncatedRecordIsReportedWithTheTopic() {
        byte[] bytes = write(topics.orderChanges(), SampleRecords.orderChanged());
        byte[] cut = Arrays.copyOf(bytes, bytes.length - 12);
        assertThatThrownBy(() -> read(topics.orderChanges(), cut))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("topic order-changes").hasMessageContaining("truncated");
    }

    @Test
    void trailingBytesAreReportedWithTheTopic() {
        byte[] bytes = write(topics.mappingConfig(), SampleRecords.mappingProfile());
        byte[] longer = Arrays.copyOf(bytes, bytes.length + 3);
        assertThatThrownBy(() -> read(topics.mappingConfig(), longer))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("topic mapping-config").hasMessageContaining("trailing bytes");
    }

    @Test
    void anUnknownSchemaIdIsReportedWithTheTopicAndTheId() {
        byte[] bytes = write(topics.orderChanges(), SampleRecords.orderChanged());
        ByteBuffer.wrap(bytes).putInt(1, 999);
        assertThatThrownBy(() -> read(topics.orderChanges(), bytes))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("topic order-changes").hasMessageContaining("schema id 999");
    }

    @Test
    void garbageAfterAValidHeaderIsReportedWithTheTopic() {
        byte[] bytes = write(topics.syncOutcomes(), SampleRecords.syncOutcome());
        for (int i = 5; i < bytes.length; i++) {
            bytes[i] = (byte) 0xff; // varints that never end, enum indexes out of range
        }
        assertThatThrownBy(() -> read(topics.syncOutcomes(), bytes))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("topic sync-outcomes");
    }
}
