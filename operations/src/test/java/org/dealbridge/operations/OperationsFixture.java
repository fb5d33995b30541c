package org.dealbridge.operations;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serde;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.schemas.Topics;
import org.dealbridge.schemas.registry.InMemorySchemaRegistry;
import picocli.CommandLine;

/** Topics on an embedded broker, one registry shared by writers and the commands, and a command runner capturing output. */
final class OperationsFixture {
    final EmbeddedKafkaCluster kafka;
    /** Shared: a reader with another in-memory registry could not resolve the writer's schema ids. */
    final Topics topics = new Topics(new InMemorySchemaRegistry());

    OperationsFixture(EmbeddedKafkaCluster kafka) {
        this.kafka = kafka;
    }

    void createTopics() {
        for (Topics.Definition d : Topics.DEFINITIONS) {
            kafka.createTopics(d.singlePartition() ? 1 : 3, d.configs(), d.name());
        }
    }

    <V> void send(Topics.Topic<String, V> topic, String key, V value, long timestamp) {
        Serde<V> serde = topic.valueSerde();
        sendBytes(topic.name(), key, value == null ? null : serde.serializer().serialize(topic.name(), value), timestamp);
    }

    void sendBytes(String topic, String key, byte[] value, long timestamp) {
        Properties p = kafka.clientProperties();
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, null, timestamp, key.getBytes(StandardCharsets.UTF_8), value)).get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The output of one command run. */
    record Run(int exitCode, String out, String err) {
    }

    Run run(Object command, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
        OperationsContext ctx = OperationsContext.of(kafka.clientProperties(), topics, o, e);
        CommandLine cli = new CommandLine(command instanceof Class<?> c ? construct(c, ctx) : command);
        cli.setErr(new java.io.PrintWriter(e, true));
        int code = cli.execute(args);
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static Object construct(Class<?> type, OperationsContext ctx) {
        OperationsContext.Opener opener = () -> ctx;
        if (type == DeadLetterCommand.class) {
            return new DeadLetterCommand(opener);
        }
        if (type == TraceCommand.class) {
            return new TraceCommand(opener);
        }
        throw new IllegalArgumentException(type.getName());
    }
}
