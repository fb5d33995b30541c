package org.dealbridge.reliability;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.schemas.DeadLetter;
import org.dealbridge.schemas.OrderChanged;

/**
 * Kafka's exactly-once system test, DealBridge's way: a child DealBridge syncs a stream of orders and status changes into
 * the CRM emulator while it is killed with SIGKILL at random moments and restarted on the same data directory. The
 * broker and the CRM live in the calling JVM and survive every kill.
 *
 * <p>The CRM's rate limit is off: the limiter is proven in bitrix-rest and deal-projector; here losses and duplicates
 * are the point, and a limited CRM would only stretch the run.
 */
final class CrashLoop {
    /** What a run did and what the verifier found. */
    record Result(int orders, long stageChanges, int kills, SyncScenario.Verdict verdict, List<DeadLetter> deadLetters,
                  String childOutput, java.util.Set<String> secrets, long syncMillis) {
    }

    private final String bootstrapServers;
    private final Path dir;
    private final int orders;
    private final int kills;
    private final long seed;

    CrashLoop(String bootstrapServers, Path dir, int orders, int kills, long seed) {
        this.bootstrapServers = bootstrapServers;
        this.dir = dir;
        this.orders = orders;
        this.kills = kills;
        this.seed = seed;
    }

    Result run(Duration convergence) throws Exception {
        Random random = new Random(seed);
        OrderStream stream = new OrderStream(1, orders, seed);
        // distinctive webhook codes so the secret scan cannot miss them
        String crmCode = "crmsecret" + Long.toHexString(random.nextLong() & Long.MAX_VALUE);
        try (BitrixEmulator emulator = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled().crmWebhookCode(crmCode));
             SyncScenario scenario = new SyncScenario(bootstrapServers, emulator);
             ChildDealBridge child = new ChildDealBridge(dir, Map.of(
                     "kafka.bootstrap-servers", bootstrapServers,
                     "kafka.topic.partitions", "3",
                     "crm.webhook-url", emulator.crmWebhookUrl(),
                     "crm.rate.requests-per-second", "1000",
                     "crm.rate.burst", "1000",
                     "rest.allow-insecure-http", "true"))) {
            SyncScenario.seedCrm(emulator);
            long started = System.currentTimeMillis();
            child.start();
            child.awaitHealthy(Duration.ofSeconds(120));
            scenario.publishMapping();

            // the store keeps publishing while DealBridge dies and comes back, as a real store would
            AtomicInteger published = new AtomicInteger();
            AtomicReference<Exception> publishFailure = new AtomicReference<>();
            List<OrderChanged> changes = stream.changes();
            Thread store = new Thread(() -> {
                try (KafkaProducer<String, byte[]> producer = scenario.producer()) {
                    for (OrderChanged change : changes) {
                        producer.send(scenario.record(change));
                        if (published.incrementAndGet() % 50 == 0) {
                            Thread.sleep(Math.max(1, 20_000L / Math.max(1, changes.size() / 50))); // spread over ~20 s
                        }
                    }
                    producer.flush();
                } catch (Exception e) {
                    publishFailure.set(e);
                }
            }, "store-publisher");
            store.start();

            for (int k = 0; k < kills; k++) {
                Thread.sleep(2_000 + random.nextInt(6_000));  // a random moment: starting, catching up, writing deals
                child.kill();
                child.start();
                child.awaitHealthy(Duration.ofSeconds(120));
            }
            store.join();
            if (publishFailure.get() != null) {
                throw new AssertionError("publishing the store's changes failed", publishFailure.get());
            }

            SyncScenario.Verdict verdict = scenario.awaitExact(stream.lastChanges(), convergence);
            long syncMillis = System.currentTimeMillis() - started;
            if (verdict.exact()) {
                Thread.sleep(2_000);  // anything late (a replayed command) would show up now
                verdict = scenario.verify(stream.lastChanges());
            }
            String metrics = child.metrics().body();
            String output = child.output() + "\n--- /metrics ---\n" + metrics + "\n--- /health ---\n" + child.health().body();
            return new Result(orders, stream.stageChanges(), kills, verdict, scenario.deadLetters(), output,
                    java.util.Set.of(crmCode, emulator.crmWebhookUrl()), syncMillis);
        }
    }
}
