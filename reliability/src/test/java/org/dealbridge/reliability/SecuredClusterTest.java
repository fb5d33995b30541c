package org.dealbridge.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.emulator.NewOrder;
import org.dealbridge.kafka.embedded.EmbeddedKafka;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DealBridge on a cluster that demands SASL and authorizes with ACLs, as an ops engineer runs it: {@code run} and an
 * admin command ({@code mapping publish}) as separate processes configured only through {@code kafka.client.*}; and the
 * same launcher without those settings, or with a wrong password, stopping at once with a sentence that names the
 * bootstrap servers and the likely cause instead of waiting silently.
 */
class SecuredClusterTest {
    private static final String ALICE_PASSWORD = "alice-" + java.util.UUID.randomUUID();
    /** The principal of a second installation, {@code kafka.topic-prefix: shopb.}, allowed only the prefixed ACLs. */
    private static final String BOB_PASSWORD = "bob-" + java.util.UUID.randomUUID();
    private static final String BOB_PREFIX = "shopb.";
    private static EmbeddedKafka broker;

    @TempDir
    static Path brokerDir;
    @TempDir
    Path dir;

    @BeforeAll
    static void startSecuredBroker() throws Exception {
        broker = EmbeddedKafka.startWithSaslPlain(brokerDir, Map.of("admin", "admin-secret", "alice", ALICE_PASSWORD,
                "bob", BOB_PASSWORD), Map.of());
        // alice (DealBridge's principal) may do only what these ACLs allow; the broker allows nothing without an ACL
        Properties admin = EmbeddedKafka.saslClient("admin", "admin-secret");
        admin.put("bootstrap.servers", broker.bootstrapServers());
        try (Admin client = Admin.create(admin)) {
            client.createAcls(documentedAcls("User:alice")).all().get(30, TimeUnit.SECONDS);
            client.createAcls(documentedPrefixedAcls("User:bob", BOB_PREFIX)).all().get(30, TimeUnit.SECONDS);
        }
    }

    /** Exactly the ACLs the README's "Production on your cluster" lists, so the test proves that list is enough. */
    static List<AclBinding> documentedAcls(String principal) {
        List<AclBinding> acls = new ArrayList<>();
        for (org.dealbridge.schemas.Topics.Definition topic : org.dealbridge.schemas.Topics.DEFINITIONS) {
            for (AclOperation op : List.of(AclOperation.READ, AclOperation.WRITE, AclOperation.DESCRIBE,
                    AclOperation.DESCRIBE_CONFIGS, AclOperation.CREATE)) {
                acls.add(allow(principal, new ResourcePattern(ResourceType.TOPIC, topic.name(), PatternType.LITERAL), op));
            }
        }
        // Kafka Streams' changelog and repartition topics: named after the application ids
        acls.add(allow(principal, new ResourcePattern(ResourceType.TOPIC, "dealbridge-", PatternType.PREFIXED), AclOperation.ALL));
        for (AclOperation op : List.of(AclOperation.READ, AclOperation.DESCRIBE)) {
            acls.add(allow(principal, new ResourcePattern(ResourceType.GROUP, "dealbridge-", PatternType.PREFIXED), op));
        }
        for (AclOperation op : List.of(AclOperation.WRITE, AclOperation.DESCRIBE)) {
            acls.add(allow(principal, new ResourcePattern(ResourceType.TRANSACTIONAL_ID, "dealbridge-", PatternType.PREFIXED), op));
        }
        acls.add(allow(principal, new ResourcePattern(ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL), AclOperation.DESCRIBE));
        return acls;
    }

    /** The README's ACLs of an installation with a topic prefix: one prefixed pattern per resource type. */
    static List<AclBinding> documentedPrefixedAcls(String principal, String prefix) {
        return List.of(
                allow(principal, new ResourcePattern(ResourceType.TOPIC, prefix, PatternType.PREFIXED), AclOperation.ALL),
                allow(principal, new ResourcePattern(ResourceType.GROUP, prefix, PatternType.PREFIXED), AclOperation.READ),
                allow(principal, new ResourcePattern(ResourceType.GROUP, prefix, PatternType.PREFIXED), AclOperation.DESCRIBE),
                allow(principal, new ResourcePattern(ResourceType.TRANSACTIONAL_ID, prefix, PatternType.PREFIXED), AclOperation.WRITE),
                allow(principal, new ResourcePattern(ResourceType.TRANSACTIONAL_ID, prefix, PatternType.PREFIXED), AclOperation.DESCRIBE),
                allow(principal, new ResourcePattern(ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL), AclOperation.DESCRIBE));
    }

    private static AclBinding allow(String principal, ResourcePattern pattern, AclOperation op) {
        return new AclBinding(pattern, new AccessControlEntry(principal, "*", op, AclPermissionType.ALLOW));
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) {
            broker.close();
        }
    }

    private Map<String, String> settings(BitrixEmulator emulator) {
        Map<String, String> s = new TreeMap<>();
        s.put("kafka.bootstrap-servers", broker.bootstrapServers());
        s.put("kafka.topic.partitions", "1");
        s.put("kafka.connect-timeout", "PT8S");
        s.put("crm.webhook-url", emulator.crmWebhookUrl());
        s.put("store.webhook-url", emulator.storeWebhookUrl());
        s.put("store.poll-interval", "PT2S");
        s.put("store.application-token", "store-token");
        s.put("crm.application-token", "crm-token");
        s.put("rest.allow-insecure-http", "true");
        return s;
    }

    private static Map<String, String> alice(String password) {
        return principal("alice", password);
    }

    private static Map<String, String> principal(String user, String password) {
        Properties p = EmbeddedKafka.saslClient(user, password);
        Map<String, String> s = new TreeMap<>();
        p.stringPropertyNames().forEach(k -> s.put("kafka.client." + k, p.getProperty(k)));
        return s;
    }

    @Test
    void syncsOrdersWithOnlyKafkaClientSettingsAndAnAdminCommandUsesThemToo() throws Exception {
        syncsOverSasl(alice(ALICE_PASSWORD), ALICE_PASSWORD, dir.resolve("run"));
    }

    @Test
    void anInstallationWithATopicPrefixSyncsWithOnlyThePrefixedAcls() throws Exception {
        Map<String, String> bob = principal("bob", BOB_PASSWORD);
        bob.put("kafka.topic-prefix", BOB_PREFIX);
        syncsOverSasl(bob, BOB_PASSWORD, dir.resolve("shopb"));
    }

    /** DealBridge with these settings publishes the mapping with an admin command and syncs five orders. */
    private void syncsOverSasl(Map<String, String> principal, String password, Path runDir) throws Exception {
        try (BitrixEmulator emulator = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled())) {
            SyncScenario.seedCrm(emulator);
            for (String status : List.of("N", "P", "F")) {
                emulator.store().addStatus(status, "Status " + status);
            }
            emulator.store().addPaySystem(1, "Cash", true);
            emulator.store().addSection(12, null, "Electronics");
            emulator.store().addSection(13, null, "Garden");
            emulator.store().addProduct(5, "Garden hose", 13L, new BigDecimal("10.00"));
            Map<String, String> settings = settings(emulator);
            settings.putAll(principal);
            try (ChildDealBridge dealbridge = new ChildDealBridge(runDir, settings)) {
                dealbridge.start();
                dealbridge.awaitHealthy(Duration.ofSeconds(120));

                Path mapping = dir.resolve("mapping.yaml");
                Files.writeString(mapping, SyncScenario.MAPPING);
                ChildDealBridge.Result publish = dealbridge.command("mapping", "publish", mapping.toString());
                assertThat(publish.exitCode()).as(publish.output()).isZero();

                List<Long> orders = new ArrayList<>();
                for (int i = 0; i < 5; i++) {
                    orders.add(emulator.store().addOrder(NewOrder.create().status("N").item(5, "Garden hose", new BigDecimal("10.00"), 1 + i)
                            .payment(1, new BigDecimal(10 * (1 + i) + ".00"), false)));
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                while (!orders.stream().allMatch(o -> emulator.crm().dealsByOrigin(SyncScenario.ORIGINATOR, Long.toString(o)).size() == 1)
                        && System.nanoTime() < deadline) {
                    Thread.sleep(500);
                }
                for (long order : orders) {
                    var deals = emulator.crm().dealsByOrigin(SyncScenario.ORIGINATOR, Long.toString(order));
                    assertThat(deals).as("deal of order %d over SASL; log:%n%s", order, dealbridge.tail()).hasSize(1);
                    assertThat(deals.get(0).get("CATEGORY_ID").toString()).as("the garden section's pipeline").isEqualTo("4");
                }
                assertThat(dealbridge.output() + publish.output()).as("the password is never printed").doesNotContain(password);
            }
        }
    }

    @Test
    void withoutSaslSettingsItStopsAtOnceNamingTheServersAndTheLikelyCause() throws Exception {
        try (BitrixEmulator emulator = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled());
             ChildDealBridge dealbridge = new ChildDealBridge(dir.resolve("plain"), settings(emulator))) {
            dealbridge.start();
            int exit = dealbridge.awaitExit(Duration.ofSeconds(60));
            String out = dealbridge.output();
            assertThat(exit).as(out).isNotZero();
            assertThat(out).contains("Kafka at " + broker.bootstrapServers() + " did not answer within 8 s")
                    .contains("may require SASL or TLS").contains("kafka.client.security.protocol");
        }
    }

    @Test
    void aWrongPasswordIsRefusedByNameWithoutPrintingIt() throws Exception {
        String wrong = "wrong-" + java.util.UUID.randomUUID();
        try (BitrixEmulator emulator = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled())) {
            Map<String, String> settings = settings(emulator);
            settings.putAll(alice(wrong));
            try (ChildDealBridge dealbridge = new ChildDealBridge(dir.resolve("wrong"), settings)) {
                dealbridge.start();
                int exit = dealbridge.awaitExit(Duration.ofSeconds(60));
                String out = dealbridge.output();
                assertThat(exit).as(out).isNotZero();
                assertThat(out).contains("Kafka at " + broker.bootstrapServers() + " refused DealBridge's SASL credentials")
                        .doesNotContain(wrong);
                ChildDealBridge.Result trace = dealbridge.command("dlq", "list");
                assertThat(trace.exitCode()).isNotZero();
                assertThat(trace.output()).contains("refused DealBridge's SASL credentials").doesNotContain(wrong);
                assertThat(new String(Files.readAllBytes(dir.resolve("wrong").resolve("dealbridge.yaml")), StandardCharsets.UTF_8))
                        .as("the test really gave the password").contains(wrong);
            }
        }
    }
}
