package org.dealbridge.kafka.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class ThreeBrokerClusterTest {
    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.threeBrokers();

    @Test
    void keepsAcceptingAcksAllWritesWithOneBrokerDownAndTakesItBack() throws Exception {
        KAFKA.createTopics(3, "three");
        Properties p = KAFKA.clientProperties();
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "60000");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            KAFKA.stopBroker(1);
            for (int i = 0; i < 20; i++) {
                producer.send(new ProducerRecord<>("three", "k" + i, "v" + i)).get();
            }
            KAFKA.startBroker(1);
            for (int i = 20; i < 40; i++) {
                producer.send(new ProducerRecord<>("three", "k" + i, "v" + i)).get();
            }
        }
        int seen = 0;
        Properties c = KAFKA.clientProperties();
        c.put("group.id", "three-reader");
        c.put("auto.offset.reset", "earliest");
        try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<String, String>(c,
                new org.apache.kafka.common.serialization.StringDeserializer(), new org.apache.kafka.common.serialization.StringDeserializer())) {
            consumer.subscribe(java.util.List.of("three"));
            long deadline = System.currentTimeMillis() + 30_000;
            while (seen < 40 && System.currentTimeMillis() < deadline) {
                seen += consumer.poll(java.time.Duration.ofMillis(200)).count();
            }
        }
        assertThat(seen).isEqualTo(40);
    }
}
