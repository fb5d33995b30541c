package org.dealbridge.reliability;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.schemas.DeadLetter;
import org.dealbridge.schemas.OrderChanged;
import org.dealbridge.schemas.Topics;

/**
 * Kafka's exactly-once system test, DealBridge's way: a child DealBridge syncs a stream of orders, their status changes
 * and basket replacements (which move an order to another pipeline at another price) into
 * the CRM emulator while it is killed with SIGKILL at random moments and restarted on the same data directory. The
 * broker and the CRM live in the calling JVM and survive every kill.
 *
 * <p>The CRM's rate limit is off: the limiter is proven in bitrix-rest and deal-projector; here losses and duplicates
 * are the point, and a limited CRM would only stretch the run.
 */
final class CrashLoop {
    /**
     * What a run did and what the verifier found. {@code basketChangesAroundKills}: basket replacements published from
     * 3 s before a kill until the child was healthy again. {@code commands}: the deal commands DealBridge decided, by
     * kind (an UPDATE is a change decided against a linked deal). {@code diagnosis}: the wrong orders with their history and
     * DealBridge's outcomes, empty when the verdict is exact.
     */
    record Result(int orders, long statusChanges, long basketChanges, int kills, long basketChangesAroundKills,
                  Map<String, Long> commands, SyncScenario.Verdict verdict, String diagnosis, List<DeadLetter> deadLetters, String childOutput,
                  java.util.Set<String> secrets, long syncMillis) {
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
            AtomicReference<Exception> publishFailure = new AtomicReference<>();
            Map<OrderChanged, Long> publishedAt = new java.util.IdentityHashMap<>();
            Thread store = new Thread(() -> {
                try (KafkaProducer<String, byte[]> producer = scenario.producer()) {
                    publish(stream, emulator, scenario, producer, publishedAt);
                } catch (Exception e) {
                    publishFailure.set(e);
                }
            }, "store-publisher");
            store.start();

            List<long[]> down = new java.util.ArrayList<>();  // from 3 s before each kill until healthy again
            for (int k = 0; k < kills; k++) {
                Thread.sleep(2_000 + random.nextInt(6_000));  // a random moment: starting, catching up, writing deals
                long killedAt = System.currentTimeMillis();
                child.kill();
                child.start();
                child.awaitHealthy(Duration.ofSeconds(120));
                down.add(new long[] {killedAt - 3_000, System.currentTimeMillis()});
            }
            store.join();
            if (publishFailure.get() != null) {
                throw new AssertionError("publishing the store's changes failed", publishFailure.get());
            }

            long aroundKills = stream.steps().values().stream().flatMap(List::stream).filter(OrderStream.Step::basketChange)
                    .map(step -> publishedAt.get(step.change()))
                    .filter(at -> down.stream().anyMatch(w -> at >= w[0] && at <= w[1])).count();

            SyncScenario.Verdict verdict = scenario.awaitExact(stream.lastChanges(), convergence);
            long syncMillis = System.currentTimeMillis() - started;
            if (verdict.exact()) {
                Thread.sleep(2_000);  // anything late (a replayed command) would show up now
                verdict = scenario.verify(stream.lastChanges());
            }
            Map<String, Long> commands = new java.util.TreeMap<>(scenario.readAll(Topics.DEAL_COMMANDS,
                            scenario.topics().dealCommands().valueSerde().deserializer()).stream()
                    .collect(java.util.stream.Collectors.groupingBy(c -> c.getKind().toString(), java.util.stream.Collectors.counting())));
            String diagnosis = verdict.exact() ? "" : scenario.explain(verdict, stream.history(), 15);
            String metrics = child.metrics().body();
            String output = child.output() + "\n--- /metrics ---\n" + metrics + "\n--- /health ---\n" + child.health().body();
            return new Result(orders, stream.statusChanges(), stream.basketChanges(), kills, aroundKills, commands, verdict, diagnosis,
                    scenario.deadLetters(), output, java.util.Set.of(crmCode, emulator.crmWebhookUrl()), syncMillis);
        }
    }

    /** How long a change that waits for its order's deal waits at most: then it goes anyway (the verifier will tell). */
    private static final long MAX_WAIT_FOR_DEAL_MILLIS = 60_000;

    /**
     * Publishes every order's changes at the stream's pace: each placement at its moment, each later change its delay
     * after the order's previous one and, when it waits for the deal, once the CRM has a deal for the order.
     */
    private static void publish(OrderStream stream, BitrixEmulator emulator, SyncScenario scenario,
                                KafkaProducer<String, byte[]> producer, Map<OrderChanged, Long> publishedAt) throws InterruptedException {
        long first = System.currentTimeMillis();
        Map<Long, Integer> next = new java.util.HashMap<>();  // order id -> index of its next step
        Map<Long, Long> due = new java.util.HashMap<>();
        stream.steps().forEach((id, steps) -> {
            next.put(id, 0);
            due.put(id, first + steps.get(0).delayMillis());
        });
        java.util.Set<String> withDeal = java.util.Set.of();
        long dealsReadAt = 0;
        while (!next.isEmpty()) {
            long now = System.currentTimeMillis();
            if (now - dealsReadAt >= 250) {
                withDeal = emulator.crm().deals().stream().map(d -> String.valueOf(d.get("ORIGIN_ID")))
                        .collect(java.util.stream.Collectors.toSet());
                dealsReadAt = now;
            }
            for (java.util.Iterator<Map.Entry<Long, Integer>> it = next.entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<Long, Integer> order = it.next();
                List<OrderStream.Step> steps = stream.steps().get(order.getKey());
                OrderStream.Step step = steps.get(order.getValue());
                long at = due.get(order.getKey());
                if (now < at || (step.waitsForDeal() && !withDeal.contains(Long.toString(order.getKey()))
                        && now < at + MAX_WAIT_FOR_DEAL_MILLIS)) {
                    continue;
                }
                producer.send(scenario.record(step.change()));
                publishedAt.put(step.change(), now);
                if (order.getValue() + 1 == steps.size()) {
                    it.remove();
                } else {
                    order.setValue(order.getValue() + 1);
                    due.put(order.getKey(), now + steps.get(order.getValue()).delayMillis());
                }
            }
            Thread.sleep(20);
        }
        producer.flush();
    }
}
