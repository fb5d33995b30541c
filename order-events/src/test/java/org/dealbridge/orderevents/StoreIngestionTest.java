package org.dealbridge.orderevents;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.dealbridge.emulator.NewOrder;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.schemas.ChangeSource;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.OrderChanged;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The assembled ingestion side as the launcher runs it: hook mounted, pollers started, both feeding order-changes. */
class StoreIngestionTest {
    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();

    @Test
    void hookAndPollerBothPublishAndTheCursorIsStored() throws Exception {
        StoreFixture.createTopics(KAFKA);
        try (StoreFixture fx = new StoreFixture()) {
            StoreIngestionConfig config = StoreIngestionConfig.of(List.of("s1", "s2"), "hook-secret-123",
                    Duration.ofMillis(300), OffsetDateTime.of(2025, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC));
            HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            try (StoreIngestion ingestion = new StoreIngestion(config, fx.store, fx.producerConfig(KAFKA), fx.topics, fx.meters, Clock.systemUTC())) {
                server.createContext("/hooks/store", ingestion.hookHandler());
                server.start();
                fx.emulator.subscribeStore("http://127.0.0.1:" + server.getAddress().getPort() + "/hooks/store", "hook-secret-123",
                        "ONSALEORDERSAVED");
                ingestion.start();
                long s1 = fx.emulator.store().addOrder(NewOrder.create().site("s1").item(100, "Puzzle 500", "990.00", 1));
                long s2 = fx.emulator.store().addOrder(NewOrder.create().site("s2").item(201, "T-shirt M", "1500.00", 1));
                String k1 = Keys.order("s1", s1);
                String k2 = Keys.order("s2", s2);

                List<ConsumerRecord<String, OrderChanged>> records = StoreFixture.read(KAFKA, fx.topics.orderChanges(), all ->
                        all.stream().anyMatch(r -> r.key().equals(k1) && r.value().getCause().getSource() == ChangeSource.STORE_HOOK)
                                && all.stream().anyMatch(r -> r.key().equals(k1) && r.value().getCause().getSource() == ChangeSource.STORE_POLL)
                                && all.stream().anyMatch(r -> r.key().equals(k2) && r.value().getCause().getSource() == ChangeSource.STORE_POLL),
                        Duration.ofSeconds(20));
                assertThat(records).anyMatch(r -> r.key().equals(k1) && r.value().getCause().getSource() == ChangeSource.STORE_HOOK);
                assertThat(records).anyMatch(r -> r.key().equals(k1) && r.value().getCause().getSource() == ChangeSource.STORE_POLL);
                assertThat(records).anyMatch(r -> r.key().equals(k2) && r.value().getCause().getSource() == ChangeSource.STORE_POLL);
            } finally {
                server.stop(0);
            }
            try (KafkaCursorStore cursors = new KafkaCursorStore(fx.producerConfig(KAFKA), fx.topics, Duration.ofSeconds(10))) {
                assertThat(cursors.load(StorePoller.cursorKey("s1"))).isPresent();
                assertThat(cursors.load(StorePoller.cursorKey("s2"))).isPresent();
            }
        }
    }

    @Test
    void theConfigNeverPrintsTheTokenAndRefusesNoSites() {
        StoreIngestionConfig config = StoreIngestionConfig.of(List.of("s1"), "hook-secret-123", Duration.ofSeconds(30),
                OffsetDateTime.of(2025, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC));
        assertThat(config.toString()).doesNotContain("hook-secret-123").contains("applicationToken=***");
        assertThatThrownBy(() -> StoreIngestionConfig.of(List.of(), "t", Duration.ofSeconds(30), OffsetDateTime.now()))
                .hasMessageContaining("store.sites");
    }
}
