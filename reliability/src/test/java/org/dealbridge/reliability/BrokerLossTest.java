package org.dealbridge.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.dealbridge.app.config.ConfigLoader;
import org.dealbridge.app.runtime.DealBridgeRuntime;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.schemas.OrderChanged;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three brokers, every topic at replication 3 with min.insync.replicas 2: one broker is stopped while orders and their
 * status changes flow and started again later; every order still has exactly one deal at the right stage and nothing
 * is dead-lettered.
 */
class BrokerLossTest {
    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.threeBrokers();

    @TempDir
    Path dir;

    @Test
    void aBrokerStoppedAndRestartedMidRunLosesAndDuplicatesNothing() throws Exception {
        OrderStream stream = new OrderStream(1, 300, 42);
        try (BitrixEmulator emulator = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled())) {
            SyncScenario.seedCrm(emulator);
            Map<String, String> env = new HashMap<>();
            env.put("DEALBRIDGE_DATA_DIR", dir.resolve("data").toString());
            env.put("DEALBRIDGE_HTTP_PORT", "0");
            env.put("DEALBRIDGE_KAFKA_BOOTSTRAP_SERVERS", KAFKA.bootstrapServers());
            env.put("DEALBRIDGE_KAFKA_TOPIC_PARTITIONS", "3");
            env.put("DEALBRIDGE_KAFKA_TOPIC_REPLICATION_FACTOR", "3");
            env.put("DEALBRIDGE_CRM_WEBHOOK_URL", emulator.crmWebhookUrl());
            env.put("DEALBRIDGE_CRM_RATE_REQUESTS_PER_SECOND", "1000");
            env.put("DEALBRIDGE_CRM_RATE_BURST", "1000");
            env.put("DEALBRIDGE_REST_ALLOW_INSECURE_HTTP", "true");
            try (DealBridgeRuntime runtime = DealBridgeRuntime.start(ConfigLoader.load(null, env));
                 SyncScenario scenario = new SyncScenario(KAFKA.bootstrapServers(), emulator)) {
                scenario.publishMapping();
                List<OrderChanged> changes = stream.changes();
                int stopAt = changes.size() / 3;
                int startAt = 2 * changes.size() / 3;
                try (KafkaProducer<String, byte[]> producer = scenario.producer()) {
                    List<java.util.concurrent.Future<?>> sent = new java.util.ArrayList<>();
                    for (int i = 0; i < changes.size(); i++) {
                        if (i == stopAt) {
                            KAFKA.stopBroker(1);
                        }
                        if (i == startAt) {
                            KAFKA.startBroker(1);
                        }
                        sent.add(producer.send(scenario.record(changes.get(i))));
                        if (i % 20 == 0) {
                            Thread.sleep(250);  // ~12 s in all: the broker is away for about 4 s of it, while deals are written
                        }
                    }
                    producer.flush();
                    for (java.util.concurrent.Future<?> f : sent) {
                        f.get();  // the store side's writes all made it (acks=all, two in-sync replicas)
                    }
                }
                SyncScenario.Verdict verdict = scenario.awaitExact(stream.lastChanges(), Duration.ofSeconds(120));
                if (verdict.exact()) {
                    Thread.sleep(2_000);
                    verdict = scenario.verify(stream.lastChanges());
                }
                System.out.printf("broker loss: %d orders, %d status changes, %d basket changes -> %s%n", stream.lastChanges().size(),
                        stream.statusChanges(), stream.basketChanges(), verdict);
                if (!verdict.exact()) {
                    System.out.print(scenario.explain(verdict, stream.history(), 12));
                }
                assertThat(verdict.exact()).as(verdict.toString()).isTrue();
                assertThat(scenario.deadLetters()).isEmpty();
            }
        }
    }
}
