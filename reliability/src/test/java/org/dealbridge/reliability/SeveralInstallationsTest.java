package org.dealbridge.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.dealbridge.app.config.ConfigLoader;
import org.dealbridge.app.runtime.DealBridgeRuntime;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.emulator.NewOrder;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.schemas.SyncLink;
import org.dealbridge.schemas.Topics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two installations of DealBridge (issue 15, item 3) on one broker, told apart only by {@code kafka.topic-prefix}
 * ({@code shopa.} and {@code shopb.}), each with its own emulated store and CRM and its own mapping. Both stores number
 * their orders alike, so both installations sync an order with the same key: each order reaches only its own CRM,
 * in the pipeline of its own installation's mapping; a bad record sent to one installation is a dead letter there
 * only; each has its own links; and every topic and consumer group on the broker carries one of the prefixes (the
 * Kafka Streams internal topics too, through the prefixed application ids).
 */
class SeveralInstallationsTest {
    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();

    /** Shop B sends every order to pipeline 4; shop A's mapping to the default pipeline 0. */
    private static final String MAPPING_B = SyncScenario.MAPPING.replace("  default: 0\n", "  default: 4\n");

    @TempDir
    Path dir;

    @Test
    void twoInstallationsWithDifferentPrefixesOnOneBrokerNeverSeeEachOthersData() throws Exception {
        assertThat(MAPPING_B).as("shop B's mapping differs from shop A's").isNotEqualTo(SyncScenario.MAPPING);
        try (Installation a = new Installation("shopa.", SyncScenario.MAPPING, dir.resolve("a"));
             Installation b = new Installation("shopb.", MAPPING_B, dir.resolve("b"))) {
            long orderA = a.placeOrder();
            long orderB = b.placeOrder();
            assertThat(orderB).as("both stores number their orders alike, so both installations see the key s1:" + orderA)
                    .isEqualTo(orderA);
            // a bad record for shop A only
            try (KafkaProducer<String, byte[]> producer = a.scenario.producer()) {
                producer.send(new ProducerRecord<>("shopa." + Topics.ORDER_CHANGES, "s1:404", "not avro".getBytes(StandardCharsets.UTF_8))).get();
            }

            Map<String, Object> dealA = a.awaitDeal(orderA);
            Map<String, Object> dealB = b.awaitDeal(orderB);
            assertThat(dealA).as("shop A's mapping: the default pipeline 0").containsEntry("CATEGORY_ID", "0");
            assertThat(dealB).as("shop B's mapping: pipeline 4").containsEntry("CATEGORY_ID", "4");
            await("shop A's dead letter", () -> a.scenario.deadLetters().stream()
                    .anyMatch(l -> l.getSourceTopic().toString().equals("shopa." + Topics.ORDER_CHANGES)));
            await("both installations link their own order", () -> a.links().size() == 1 && b.links().size() == 1);

            // only now look for what must not be there: each installation had time to pick up the other's records
            long lastA = a.placeOrder();
            long lastB = b.placeOrder();
            a.awaitDeal(lastA);
            b.awaitDeal(lastB);
            assertThat(a.emulator.crm().deals()).as("shop A's CRM has shop A's two deals, nothing of shop B").hasSize(2)
                    .allSatisfy(d -> assertThat(d).containsEntry("CATEGORY_ID", "0"));
            assertThat(b.emulator.crm().deals()).as("shop B's CRM has shop B's two deals, nothing of shop A").hasSize(2)
                    .allSatisfy(d -> assertThat(d).containsEntry("CATEGORY_ID", "4"));
            assertThat(b.scenario.deadLetters()).as("shop A's bad record is not shop B's dead letter").isEmpty();
            assertThat(a.links()).extracting(SyncLink::getDealId)
                    .containsExactlyInAnyOrderElementsOf(a.emulator.crm().deals().stream().map(d -> Long.parseLong(d.get("ID").toString())).toList());
            assertThat(b.links()).extracting(SyncLink::getDealId)
                    .containsExactlyInAnyOrderElementsOf(b.emulator.crm().deals().stream().map(d -> Long.parseLong(d.get("ID").toString())).toList());

            try (Admin admin = Admin.create(Map.of("bootstrap.servers", KAFKA.bootstrapServers()))) {
                Set<String> topics = admin.listTopics().names().get(30, TimeUnit.SECONDS);
                Set<String> expected = new TreeSet<>();
                for (String prefix : List.of("shopa.", "shopb.")) {
                    Topics.definitions(prefix).forEach(d -> expected.add(d.name()));
                }
                Set<String> streamsInternal = topics.stream().filter(t -> !expected.contains(t)).collect(Collectors.toCollection(TreeSet::new));
                System.out.printf("topics on the broker: %s%n", new TreeSet<>(topics));
                assertThat(topics).as("every DealBridge topic of both installations, prefixed").containsAll(expected);
                assertThat(streamsInternal).as("the rest are Kafka Streams' internal topics, prefixed through the application ids")
                        .isNotEmpty()
                        .allMatch(t -> t.startsWith("shopa.dealbridge-") || t.startsWith("shopb.dealbridge-"));
                for (String topic : topics) {
                    assertThat(topic.length() - "shopa.".length()).as("unprefixed length of %s: Topics.LONGEST_UNPREFIXED_NAME leaves room", topic)
                            .isLessThanOrEqualTo(Topics.LONGEST_UNPREFIXED_NAME);
                }
                List<String> groups = admin.listConsumerGroups().all().get(30, TimeUnit.SECONDS).stream()
                        .map(ConsumerGroupListing::groupId).sorted().toList();
                System.out.printf("consumer groups on the broker: %s%n", groups);
                assertThat(groups).as("Streams applications, connectors and pollers of both installations")
                        .contains("shopa.dealbridge-deal-projector", "shopb.dealbridge-deal-projector",
                                "shopa.dealbridge-crm-connector", "shopb.dealbridge-crm-connector",
                                "shopa.dealbridge-store-pollers", "shopb.dealbridge-store-pollers")
                        .allMatch(g -> g.startsWith("shopa.") || g.startsWith("shopb."));
                List<String> transactionalIds = admin.listTransactions().all().get(30, TimeUnit.SECONDS).stream()
                        .map(org.apache.kafka.clients.admin.TransactionListing::transactionalId).sorted().toList();
                System.out.printf("transactional ids on the broker: %s%n", transactionalIds);
                assertThat(transactionalIds).as("transactional ids (Streams, connectors, schema registry)").isNotEmpty()
                        .allMatch(t -> t.startsWith("shopa.") || t.startsWith("shopb."));
            }
        }
    }

    /** One installation: its own portal pair, DealBridge with a topic prefix, and the test's view of its topics. */
    private static final class Installation implements AutoCloseable {
        final BitrixEmulator emulator;
        final DealBridgeRuntime runtime;
        final SyncScenario scenario;

        Installation(String prefix, String mapping, Path dataDir) {
            emulator = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled());
            SyncScenario.seedCrm(emulator);
            SyncScenario.seedStoreWithBooks(emulator);
            Map<String, String> env = SyncScenario.runtimeEnv(dataDir, KAFKA.bootstrapServers(), emulator);
            env.put("DEALBRIDGE_KAFKA_TOPIC_PREFIX", prefix);
            env.put("DEALBRIDGE_KAFKA_TOPIC_PARTITIONS", "1");
            env.put("DEALBRIDGE_STORE_APPLICATION_TOKEN", "storetoken" + java.util.UUID.randomUUID().toString().replace("-", ""));
            env.put("DEALBRIDGE_STORE_POLL_INTERVAL", "PT1S");
            DealBridgeRuntime started = null;
            SyncScenario opened = null;
            try {
                started = DealBridgeRuntime.start(ConfigLoader.load(null, env));
                opened = new SyncScenario(KAFKA.bootstrapServers(), emulator, prefix);
                opened.publishMapping(mapping);
            } catch (RuntimeException | Error e) {
                if (opened != null) {
                    opened.close();
                }
                if (started != null) {
                    started.close();
                }
                emulator.close();
                throw e;
            }
            runtime = started;
            scenario = opened;
        }

        long placeOrder() {
            return emulator.store().addOrder(NewOrder.create().status("N").item(1101, "Novel", new BigDecimal("300.00"), 1)
                    .payment(1, new BigDecimal("300.00"), false));
        }

        Map<String, Object> awaitDeal(long orderId) {
            await("order " + orderId + " has a deal in the CRM of " + scenario.topics().prefix(),
                    () -> !emulator.crm().dealsByOrigin(SyncScenario.ORIGINATOR, Long.toString(orderId)).isEmpty());
            List<Map<String, Object>> deals = emulator.crm().dealsByOrigin(SyncScenario.ORIGINATOR, Long.toString(orderId));
            assertThat(deals).as("deals of order " + orderId).hasSize(1);
            return deals.get(0);
        }

        List<SyncLink> links() {
            return scenario.readAll(scenario.topics().dealLinks().name(), scenario.topics().dealLinks().valueSerde().deserializer());
        }

        @Override
        public void close() {
            scenario.close();
            runtime.close();
            emulator.close();
        }
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 60 s: " + what);
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
