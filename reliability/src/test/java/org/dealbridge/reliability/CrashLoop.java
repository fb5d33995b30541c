package org.dealbridge.reliability;

import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.emulator.NewOrder;
import org.dealbridge.emulator.Portal;
import org.dealbridge.mapping.CompiledMapping;
import org.dealbridge.mapping.OrderFromDeal;
import org.dealbridge.schemas.BasketItem;
import org.dealbridge.schemas.DeadLetter;
import org.dealbridge.schemas.OrderChanged;
import org.dealbridge.schemas.Topics;

/**
 * Kafka's exactly-once system test, DealBridge's way, through the launcher: {@code bin/dealbridge run} (the script, its
 * production log configuration) syncs both directions between the store and CRM emulators over real HTTP, with the
 * store hook, the store poller, the CRM hook and poller and both connectors active, while it is killed with SIGKILL at
 * chosen kinds of moments (during start-up, during state restore, during a rebalance with a second instance, while
 * syncing) and restarted on the same data directory. The broker and the emulators live in the calling JVM and survive
 * every kill.
 *
 * <p>What happens in the shop and the CRM meanwhile, from a seeded {@link OrderStream}: orders are placed in the store
 * (the store hook and the poller ingest them), their baskets replaced (another pipeline, another price) and their
 * statuses changed by the shop; once an order's deal has settled, a manager sometimes changes its stage, moves it to
 * another pipeline or types another amount; and a few deals are made by hand in a pipeline that creates orders, then
 * moved on. The verifier then checks, per order, exactly one deal and, per hand-made deal, exactly one order; the
 * deal's pipeline, amount and rows are what the last basket dictates unless a manager set them (the manager's value
 * stands); the stage maps to the order's final status; and a manager's stage change that was the pair's last change
 * survives on both sides.
 *
 * <p>Both portals keep a rate limit, raised above a cloud plan's (the CRM 50 requests/s, burst 250; the store 100/s):
 * the limiter is proven in bitrix-rest and {@code SeveralInstancesTest}; here losses and duplicates are the point.
 */
final class CrashLoop {
    /** When a kill lands; every kill restarts the instance it killed at once (the second instance excepted). */
    enum Moment {
        /** The instance is running and syncing (a random moment). */
        SYNCING("while syncing"),
        /** 0.3-2 s after a restart: the JVM, the Kafka clients and the topologies are starting; /health is not UP. */
        START_UP("during start-up"),
        /** A restart's Streams are REBALANCING (starting): assigning tasks and restoring their state stores. */
        RESTORE("during state restore"),
        /** A second instance is joining the groups: the first is killed in the rebalance. */
        REBALANCE_JOIN("in a rebalance, a second instance joining"),
        /** The first instance is rejoining after a restart: the second is killed in that rebalance and stays down. */
        REBALANCE_LEAVE("in a rebalance, the first instance rejoining");

        final String label;

        Moment(String label) {
            this.label = label;
        }

        /**
         * The moments of {@code kills} kills: a second instance joins and the first is killed in the rebalance, then
         * the first is killed during start-up and during restore while the second carries the sync; then the second is
         * killed as the first rejoins; then while syncing, during start-up, during restore again.
         */
        static List<Moment> schedule(int kills) {
            List<Moment> all = new ArrayList<>(List.of(REBALANCE_JOIN, START_UP, RESTORE, REBALANCE_LEAVE));
            for (int i = 0; all.size() < kills; i++) {
                all.add(List.of(SYNCING, START_UP, RESTORE).get(i % 3));
            }
            return all.subList(0, kills);
        }
    }

    /** One kill: its moment, seconds after the start, what /health said just before it, and the command killed. */
    record Kill(Moment moment, double atSeconds, String health, String command) {
        @Override
        public String toString() {
            return String.format("%s at %.1f s (health %s; killed %s)", moment.label, atSeconds, health, command);
        }
    }

    /** What a manager does in the CRM once an order's deal has settled, as the pair's last change. */
    enum ManagerEdit { STAGE, MOVE, AMOUNT }

    /** The size of a run: orders placed, deals made by hand, kills, the time between two placements, the seed. */
    record Size(int orders, int handMadeDeals, int kills, long placementSpacingMillis, long seed) {
    }

    /** What the hand-made deals came to: deals without an order, deals with several, and what is wrong with the rest. */
    record HandMadeVerdict(int deals, List<Long> withoutOrder, Map<Long, Integer> withSeveralOrders, Map<Long, String> inconsistent) {
        boolean exact() {
            return withoutOrder.isEmpty() && withSeveralOrders.isEmpty() && inconsistent.isEmpty();
        }

        @Override
        public String toString() {
            return deals + " hand-made deals; without an order " + withoutOrder + ", with several " + withSeveralOrders
                    + ", inconsistent " + inconsistent;
        }
    }

    /**
     * What a run did and what the verifier found. {@code managerEdits}: edits made by kind; {@code managerEditsSkipped}:
     * planned edits whose deal did not settle in time (they would not have been the pair's last change).
     * {@code strayOrders}: store orders neither placed by the shop nor made from a hand-made deal.
     */
    record Result(Size size, long statusChanges, long basketChanges, Map<ManagerEdit, Integer> managerEdits, int managerEditsSkipped,
                  List<Kill> kills, SyncScenario.Verdict verdict, HandMadeVerdict handMade, List<String> strayOrders,
                  List<DeadLetter> deadLetters, String childOutput, Set<String> secrets, long syncMillis, long quietMillis,
                  String stillMoving, String diagnosis) {
        boolean exact() {
            return verdict.exact() && handMade.exact() && strayOrders.isEmpty() && deadLetters.isEmpty() && secretsLeaked().isEmpty()
                    && quietMillis >= 0;
        }

        List<String> secretsLeaked() {
            String everything = childOutput + deadLetters;
            return secrets.stream().filter(everything::contains).map(s -> s.substring(0, Math.min(12, s.length())) + "…").toList();
        }

        /** Every figure of the run on a few lines, for the test's output and the long run's. */
        String figures() {
            StringBuilder kinds = new StringBuilder();
            for (SyncScenario.Wrong what : SyncScenario.Wrong.values()) {
                kinds.append(kinds.length() == 0 ? "" : ", ").append(what.label).append(' ').append(verdict.count(what));
            }
            StringBuilder out = new StringBuilder();
            out.append(String.format("crash loop through bin/dealbridge (seed %d): %d orders, %d status changes, %d basket changes,"
                            + " manager edits %s (%d skipped: deal not settled), %d hand-made deals, %d kills%n",
                    size.seed(), size.orders(), statusChanges, basketChanges, managerEdits, managerEditsSkipped, size.handMadeDeals(),
                    kills.size()));
            for (Kill kill : kills) {
                out.append("  kill ").append(kill).append('\n');
            }
            out.append(String.format("  -> %d deals; missing %d, duplicated %d, inconsistent %d (%s), stray deals %d; hand-made deals:"
                            + " without an order %d, with several %d, inconsistent %d; stray orders %d; dead letters %d; secrets leaked %d;"
                            + " synced in %d ms, quiet after %d ms more -> %s%n",
                    verdict.deals(), verdict.missing().size(), verdict.duplicated().size(), verdict.inconsistent().size(), kinds,
                    verdict.strayDeals().size(), handMade.withoutOrder().size(), handMade.withSeveralOrders().size(),
                    handMade.inconsistent().size(), strayOrders.size(), deadLetters.size(), secretsLeaked().size(), syncMillis, quietMillis,
                    exact() ? "EXACT" : "BROKEN")).append(stillMoving);
            if (!exact()) {
                out.append("  ").append(verdict).append("\n  ").append(handMade).append("\n  stray orders ").append(strayOrders)
                        .append("\n  dead letters ").append(deadLetters.stream().limit(5).toList()).append('\n').append(diagnosis);
            }
            return out.toString();
        }
    }

    /** The scenario's mapping plus orders made from deals of pipeline 2. */
    static final String MAPPING = SyncScenario.MAPPING + "dealToOrder:\n  pipelines: [2]\n";
    private static final CompiledMapping COMPILED = CompiledMapping.compile(MAPPING, 1);
    /** The manager who edits deals: not the webhook's user (1), so DealBridge tells the edits from its own writes. */
    private static final int MANAGER = 5;
    private static final long HAND_MADE_PIPELINE = 2;
    private static final long HAND_MADE_PRODUCT = 1201;
    private static final String STATUSES = "NPF";
    /** How long a change that waits for its order's deal waits at most: then it goes anyway (the verifier will tell). */
    private static final long MAX_WAIT_FOR_DEAL_MILLIS = 60_000;
    /**
     * How long a manager's edit waits for its deal to settle; then it is skipped (and counted). Long: after a kill the
     * long run's backlog takes minutes (90 s skipped 512 of 723 edits of a 3000-order run).
     */
    private static final long MAX_WAIT_TO_SETTLE_MILLIS = 300_000;

    private final String bootstrapServers;
    private final Path dir;
    private final Size size;

    CrashLoop(String bootstrapServers, Path dir, Size size) {
        this.bootstrapServers = bootstrapServers;
        this.dir = dir;
        this.size = size;
    }

    Result run(Duration convergence) throws Exception {
        // said first, so a run stopped before its figures can still be repeated
        System.out.printf("crash loop seed %d: %d orders, %d kills; DealBridge's logs in %s%n", size.seed(), size.orders(), size.kills(), dir);
        Random random = new Random(size.seed());
        OrderStream stream = new OrderStream(1, size.orders(), size.seed());
        // distinctive webhook codes and tokens, so the secret scan cannot miss them
        String crmCode = "crmsecret" + Long.toHexString(random.nextLong() & Long.MAX_VALUE);
        String storeCode = "storesecret" + Long.toHexString(random.nextLong() & Long.MAX_VALUE);
        String crmToken = "crmtoken" + Long.toHexString(random.nextLong() & Long.MAX_VALUE);
        String storeToken = "storetoken" + Long.toHexString(random.nextLong() & Long.MAX_VALUE);
        try (BitrixEmulator emulator = BitrixEmulator.start(EmulatorOptions.defaults().crmWebhookCode(crmCode).storeWebhookCode(storeCode)
                     .rateLimit(Portal.CRM, 50, 250).rateLimit(Portal.STORE, 100, 250));
             SyncScenario scenario = new SyncScenario(bootstrapServers, emulator)) {
            SyncScenario.seedCrm(emulator);
            emulator.crm().addUser(MANAGER, "Maria", "Manager", "maria@example.com", true);
            SyncScenario.seedStore(emulator);
            Map<String, String> settings = new TreeMap<>(Map.ofEntries(
                    Map.entry("kafka.bootstrap-servers", bootstrapServers),
                    Map.entry("kafka.topic.partitions", "3"),
                    Map.entry("crm.webhook-url", emulator.crmWebhookUrl()),
                    Map.entry("crm.application-token", crmToken),
                    Map.entry("crm.poll.interval", "2000"),
                    Map.entry("crm.rate.requests-per-second", "50"),
                    Map.entry("crm.rate.burst", "250"),
                    Map.entry("store.webhook-url", emulator.storeWebhookUrl()),
                    Map.entry("store.application-token", storeToken),
                    Map.entry("store.poll-interval", "PT2S"),
                    Map.entry("store.rate.requests-per-second", "100"),
                    Map.entry("store.rate.burst", "250"),
                    Map.entry("rest.allow-insecure-http", "true")));
            try (ChildDealBridge first = ChildDealBridge.launched(dir.resolve("first"), settings);
                 ChildDealBridge second = ChildDealBridge.launched(dir.resolve("second"), settings)) {
                for (ChildDealBridge instance : List.of(first, second)) {
                    String base = "http://127.0.0.1:" + instance.httpPort();
                    emulator.subscribeStore(base + "/hooks/store", storeToken, "ONSALEORDERSAVED");
                    emulator.subscribeCrm(base + "/hooks/bitrix24", crmToken, "ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE");
                }
                long started = System.currentTimeMillis();
                first.start();
                first.awaitHealthy(Duration.ofSeconds(180));
                scenario.publishMapping(MAPPING);

                // the shop and the managers go on while DealBridge dies and comes back, as real ones would
                Shop shop = new Shop(emulator, stream, size, new Random(random.nextLong()));
                AtomicReference<Exception> shopFailure = new AtomicReference<>();
                Thread shopThread = new Thread(() -> {
                    try {
                        shop.run();
                    } catch (Exception e) {
                        shopFailure.set(e);
                    }
                }, "shop-and-managers");
                shopThread.start();

                List<Kill> kills = new ArrayList<>();
                long window = Math.max(2_000, size.orders() * size.placementSpacingMillis() / Math.max(1, size.kills()));
                for (Moment moment : Moment.schedule(size.kills())) {
                    kills.add(kill(moment, first, second, random, window, started));
                }
                first.awaitHealthy(Duration.ofSeconds(180));
                shopThread.join();
                if (shopFailure.get() != null) {
                    throw new AssertionError("the shop's or a manager's action failed", shopFailure.get());
                }

                // settled: the verdict is exact, then nothing moves any more (no topic grows, no group lags)
                Verification verification = new Verification(emulator, shop);
                long deadline = System.currentTimeMillis() + convergence.toMillis();
                while (!verification.exact() && System.currentTimeMillis() < deadline) {
                    Thread.sleep(1_000);
                    verification = new Verification(emulator, shop);
                }
                long syncMillis = System.currentTimeMillis() - started;
                StringBuilder moving = new StringBuilder();
                long quietMillis = awaitQuiet(scenario, emulator, Duration.ofSeconds(60), moving);
                verification = new Verification(emulator, shop);  // anything late (a replayed command) shows now

                String output = first.output() + second.output() + "\n--- /metrics ---\n" + first.metrics().body()
                        + "\n--- /health ---\n" + first.health().body();
                return new Result(size, stream.statusChanges(), stream.basketChanges(), shop.managerEdits(), shop.managerEditsSkipped(),
                        kills, verification.verdict, verification.handMade, verification.strayOrders, scenario.deadLetters(), output,
                        Set.of(crmCode, storeCode, crmToken, storeToken, emulator.crmWebhookUrl(), emulator.storeWebhookUrl()),
                        syncMillis, quietMillis, quietMillis < 0 ? "  still moving: " + moving + "\n" : "",
                        verification.explain(scenario, first.output() + second.output()));
            }
        }
    }

    /**
     * Kills at the moment asked for and restarts the killed instance at once (the second instance stays down). The
     * first instance is running on entry (starting, after a kill before).
     */
    private static Kill kill(Moment moment, ChildDealBridge first, ChildDealBridge second, Random random, long window, long started)
            throws Exception {
        ChildDealBridge victim = first;
        String health = null;  // what /health said at the moment waited for, when there is one
        switch (moment) {
            case SYNCING -> {
                first.awaitHealthy(Duration.ofSeconds(180));
                Thread.sleep(window / 2 + (long) (random.nextDouble() * window));
            }
            case START_UP -> Thread.sleep(300 + random.nextInt(1_700));
            case RESTORE -> health = awaitHealth(first, body -> body.contains("REBALANCING"), Duration.ofSeconds(90));
            case REBALANCE_JOIN -> {
                first.awaitHealthy(Duration.ofSeconds(180));
                Thread.sleep((long) (random.nextDouble() * window / 2));
                second.start();
                // the second's Streams join the groups; the first goes REBALANCING as they do
                health = awaitHealth(first, body -> body.contains("REBALANCING"), Duration.ofSeconds(90));
            }
            case REBALANCE_LEAVE -> {
                if (!second.isAlive()) {
                    throw new IllegalStateException("REBALANCE_LEAVE needs the second instance running (after REBALANCE_JOIN)");
                }
                health = awaitHealth(second, body -> body.contains("REBALANCING"), Duration.ofSeconds(90));
                victim = second;
            }
            default -> throw new IllegalStateException(moment.name());
        }
        health = health == null ? healthNow(victim) : health;
        double at = (System.currentTimeMillis() - started) / 1000.0;
        String command = victim.kill();
        if (victim == first) {
            first.start();
        }
        return new Kill(moment, at, health, command);
    }

    /** What /health answers now, shortly: its status and the states of the Streams, or why it does not answer. */
    private static String healthNow(ChildDealBridge instance) {
        try {
            return summary(instance.health());
        } catch (Exception notListening) {
            return "no answer yet";
        }
    }

    /** A /health answer in short: its status code and the states it names (UP, REBALANCING (starting), ...). */
    private static String summary(HttpResponse<String> r) {
        java.util.regex.Matcher states = java.util.regex.Pattern.compile("(UP|DOWN|DEGRADED|RUNNING|REBALANCING[^\"]*|CREATED[^\"]*)")
                .matcher(r.body());
        Set<String> seen = new java.util.LinkedHashSet<>();
        while (states.find()) {
            seen.add(states.group(1));
        }
        return r.statusCode() + " " + seen;
    }

    /**
     * Polls /health every 50 ms until its body passes {@code test}; fails when the instance exits. When the time is up
     * the kill lands all the same: the health it records says where.
     */
    private static String awaitHealth(ChildDealBridge instance, java.util.function.Predicate<String> test, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!instance.isAlive()) {
                throw new AssertionError("DealBridge exited; log:\n" + instance.tail());
            }
            try {
                HttpResponse<String> r = instance.health();
                if (test.test(r.body())) {
                    return summary(r);
                }
            } catch (java.io.IOException notYetListening) {
                // starting
            }
            Thread.sleep(50);
        }
        return healthNow(instance) + " (waited " + timeout.toSeconds() + " s for the moment)";
    }

    /**
     * Waits until nothing moves: the end offsets of the sync's topics (changes, commands, links, outcomes, dead letters)
     * unchanged over three seconds, sampled every second. (Consumer-group lag cannot say it: a partition whose last
     * records are a killed instance's aborted transaction keeps a lag its consumer never commits away.) The portals'
     * webhook deliveries are let drain first: the emulator sends them from one thread, one at a time, to both
     * instances, so after 10 000 orders they run many minutes behind the portals'
     * changes (the 10:53 run on 7e44a38: 17 836 still pending after 10 minutes), and every one adds to the changes
     * topics. When they have not drained in {@link #DRAIN}, what is judged instead is that DealBridge writes nothing more
     * to either portal for {@link #NO_WRITES} while it takes them in (an echo loop writes). Returns how long that took,
     * or -1 when it did not come in {@code timeout}; {@code moving} then says what was still moving.
     */
    private static long awaitQuiet(SyncScenario scenario, BitrixEmulator emulator, Duration timeout, StringBuilder moving)
            throws Exception {
        long drainStarted = System.currentTimeMillis();
        boolean drained = emulator.events().awaitIdle(DRAIN);
        System.out.printf("  the portals' webhook deliveries %s after %d ms%n", drained ? "drained" : "still pending ("
                + emulator.events().pending() + ")", System.currentTimeMillis() - drainStarted);
        if (!drained) {
            return awaitNoWrites(emulator, timeout, moving);
        }
        long start = System.currentTimeMillis();
        Set<String> topics = Set.of(Topics.ORDER_CHANGES, Topics.DEAL_CHANGES, Topics.DEAL_COMMANDS, Topics.ORDER_COMMANDS,
                Topics.DEAL_LINKS, Topics.SYNC_OUTCOMES, Topics.DEAD_LETTERS);
        try (Admin admin = Admin.create(scenario.clientProperties())) {
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            admin.describeTopics(topics).allTopicNames().get().forEach((name, d) -> d.partitions()
                    .forEach(p -> latest.put(new TopicPartition(name, p.partition()), OffsetSpec.latest())));
            Map<TopicPartition, Long> before = Map.of();
            int unchanged = 0;
            while (System.currentTimeMillis() - start < timeout.toMillis()) {
                Map<TopicPartition, Long> ends = new HashMap<>();
                admin.listOffsets(latest).all().get().forEach((tp, info) -> ends.put(tp, info.offset()));
                if (ends.equals(before)) {
                    if (++unchanged == 3) {
                        return System.currentTimeMillis() - start;
                    }
                } else {
                    unchanged = 0;
                    moving.setLength(0);
                    Map<TopicPartition, Long> previous = before;
                    ends.forEach((tp, end) -> {
                        if (!end.equals(previous.get(tp))) {
                            moving.append(tp).append(" at ").append(end).append("; ");
                        }
                    });
                    moving.append("webhook deliveries pending ").append(emulator.events().pending()).append("; ");
                }
                before = ends;
                Thread.sleep(1_000);
            }
        }
        return -1;
    }

    static final Duration DRAIN = Duration.ofMinutes(5);
    static final Duration NO_WRITES = Duration.ofSeconds(30);

    /** Waits until DealBridge has written nothing to either portal for {@link #NO_WRITES}; -1 when not within {@code timeout}. */
    private static long awaitNoWrites(BitrixEmulator emulator, Duration timeout, StringBuilder moving) throws InterruptedException {
        long start = System.currentTimeMillis();
        long writes = writes(emulator);
        long since = start;
        while (System.currentTimeMillis() - start < timeout.toMillis()) {
            Thread.sleep(1_000);
            long now = writes(emulator);
            if (now != writes) {
                moving.setLength(0);
                moving.append(now - writes).append(" more write call(s) to the portals; webhook deliveries pending ")
                        .append(emulator.events().pending()).append("; ");
                writes = now;
                since = System.currentTimeMillis();
            } else if (System.currentTimeMillis() - since >= NO_WRITES.toMillis()) {
                System.out.printf("  no write to either portal for %d s while %d webhook deliveries were still taken in%n",
                        NO_WRITES.toSeconds(), emulator.events().pending());
                return System.currentTimeMillis() - start;
            }
        }
        return -1;
    }

    /** DealBridge's write calls to both portals so far (batch sub-commands each count; reads do not). */
    private static long writes(BitrixEmulator emulator) {
        return emulator.calls().all().stream().filter(c -> {
            String m = c.method();
            return m.endsWith(".add") || m.endsWith(".update") || m.endsWith(".set") || m.endsWith(".delete")
                    || m.endsWith(".modify");
        }).count();
    }

    /**
     * The shop and the managers, in one thread: places the stream's orders in the store at their pace, replaces their
     * baskets and changes their statuses as the shop's staff, then lets a manager edit some of their deals once the
     * deal has settled (the pair's last change), and makes the hand-made deals. Remembers what each pair must show.
     */
    private static final class Shop {
        private final BitrixEmulator emulator;
        private final OrderStream stream;
        private final Size size;
        private final Random random;
        /** Stream order id → store order id. */
        final Map<Long, Long> storeIds = new ConcurrentHashMap<>();
        /** Store order id → the manager's edit that was its pair's last change: kind → value (stage, pipeline, amount). */
        final Map<Long, Map<ManagerEdit, String>> edits = new ConcurrentHashMap<>();
        /** Hand-made deal ids → the stage a manager last put it at. */
        final Map<Long, String> handMadeDeals = new ConcurrentHashMap<>();
        private final Map<ManagerEdit, Integer> editCounts = new EnumMap<>(ManagerEdit.class);
        private int editsSkipped;

        Shop(BitrixEmulator emulator, OrderStream stream, Size size, Random random) {
            this.emulator = emulator;
            this.stream = stream;
            this.size = size;
            this.random = random;
        }

        synchronized Map<ManagerEdit, Integer> managerEdits() {
            return new EnumMap<>(editCounts);
        }

        synchronized int managerEditsSkipped() {
            return editsSkipped;
        }

        void run() throws InterruptedException {
            long first = System.currentTimeMillis();
            List<Long> ids = new ArrayList<>(stream.steps().keySet());
            Map<Long, Integer> next = new LinkedHashMap<>();  // stream order id -> index of its next step
            Map<Long, Long> due = new HashMap<>();
            Map<Long, ManagerEdit> planned = new HashMap<>();  // one order in four gets a manager's edit at the end
            Map<Long, Integer> choice = new HashMap<>();
            for (int i = 0; i < ids.size(); i++) {
                next.put(ids.get(i), 0);
                due.put(ids.get(i), first + i * size.placementSpacingMillis());
                if (random.nextInt(4) == 0) {
                    planned.put(ids.get(i), ManagerEdit.values()[random.nextInt(ManagerEdit.values().length)]);
                }
                choice.put(ids.get(i), random.nextInt(1_000));
            }
            long window = ids.size() * size.placementSpacingMillis();
            List<Long> handMadeAt = new ArrayList<>();
            for (int j = 0; j < size.handMadeDeals(); j++) {
                handMadeAt.add(first + window * (j + 1) / (size.handMadeDeals() + 1));
            }
            Map<Long, Long> handMadeStageDue = new HashMap<>();  // deal id -> when the manager moves it on
            Map<String, List<Map<String, Object>>> deals = Map.of();
            long dealsReadAt = 0;
            while (!next.isEmpty() || !handMadeAt.isEmpty() || !handMadeStageDue.isEmpty()) {
                long now = System.currentTimeMillis();
                if (now - dealsReadAt >= 250) {
                    deals = dealsByOrigin(emulator);
                    dealsReadAt = now;
                }
                for (var it = next.entrySet().iterator(); it.hasNext(); ) {
                    var order = it.next();
                    long id = order.getKey();
                    List<OrderStream.Step> steps = stream.steps().get(id);
                    long at = due.get(id);
                    if (now < at) {
                        continue;
                    }
                    if (order.getValue() < steps.size()) {
                        OrderStream.Step step = steps.get(order.getValue());
                        Long storeId = storeIds.get(id);
                        if (step.waitsForDeal() && (storeId == null || !deals.containsKey(storeId.toString()))
                                && now < at + MAX_WAIT_FOR_DEAL_MILLIS) {
                            continue;
                        }
                        act(id, order.getValue(), step.change());
                        order.setValue(order.getValue() + 1);
                        due.put(id, now + (order.getValue() < steps.size() ? steps.get(order.getValue()).delayMillis()
                                : OrderStream.MIN_GAP_MILLIS));
                        continue;
                    }
                    ManagerEdit edit = planned.get(id);
                    if (edit == null) {
                        it.remove();
                        continue;
                    }
                    long storeId = storeIds.get(id);
                    OrderChanged last = stream.lastChanges().get(id);
                    List<Map<String, Object>> of = deals.getOrDefault(Long.toString(storeId), List.of());
                    if (of.size() == 1 && settled(of.get(0), last)) {
                        edit(storeId, of.get(0), last, edit, choice.get(id));
                        it.remove();
                    } else if (now > at + MAX_WAIT_TO_SETTLE_MILLIS) {
                        synchronized (this) {
                            editsSkipped++;
                        }
                        it.remove();
                    }
                }
                while (!handMadeAt.isEmpty() && now >= handMadeAt.get(0)) {
                    handMadeAt.remove(0);
                    handMadeStageDue.put(makeDealByHand(), now + 3_000 + random.nextInt(5_000));
                }
                for (var it = handMadeStageDue.entrySet().iterator(); it.hasNext(); ) {
                    var deal = it.next();
                    if (now >= deal.getValue()) {
                        String stage = COMPILED.stageFor(HAND_MADE_PIPELINE, "P").orElseThrow();
                        emulator.crm().updateDealAsHuman(deal.getKey(), Map.of("STAGE_ID", stage, "byUserId", MANAGER));
                        handMadeDeals.put(deal.getKey(), stage);
                        it.remove();
                    }
                }
                Thread.sleep(20);
            }
        }

        /** The shop's staff do the stream's step in the store: place the order, replace its basket or change its status. */
        private void act(long streamId, int step, OrderChanged change) {
            if (step == 0) {
                NewOrder order = NewOrder.create().status(change.getStatusId().toString()).property("FIO", "Buyer " + streamId);
                for (BasketItem item : change.getItems()) {
                    order.item(item.getProductId(), item.getName().toString(), item.getPrice().toString(),
                            Double.parseDouble(item.getQuantity().toString()));
                }
                order.payment(1, new BigDecimal(change.getPrice().toString()), false);
                storeIds.put(streamId, emulator.store().addOrder(order));
                return;
            }
            long storeId = storeIds.get(streamId);
            OrderChanged before = stream.steps().get(streamId).get(step - 1).change();
            if (!before.getItems().equals(change.getItems())) {
                List<Map<String, Object>> lines = new ArrayList<>();
                for (BasketItem item : change.getItems()) {
                    lines.add(Map.of("productId", item.getProductId(), "name", item.getName().toString(),
                            "price", item.getPrice().toString(), "quantity", item.getQuantity().toString()));
                }
                emulator.store().updateOrderAsHuman(storeId, Map.of("basketItems", lines));
            } else {
                emulator.store().updateOrderAsHuman(storeId, Map.of("statusId", change.getStatusId().toString()));
            }
        }

        /** The deal shows the order's last state: the basket's pipeline and amount, the status's stage. */
        private static boolean settled(Map<String, Object> deal, OrderChanged last) {
            long pipeline = COMPILED.pipelineFor(last.getItems());
            return String.valueOf(pipeline).equals(String.valueOf(deal.get("CATEGORY_ID")))
                    && SyncScenario.decimal(last.getPrice()).compareTo(SyncScenario.decimal(deal.get("OPPORTUNITY"))) == 0
                    && COMPILED.isConsistent(pipeline, String.valueOf(deal.get("STAGE_ID")), last.getStatusId().toString());
        }

        /** A manager's edit of a settled deal, in the CRM's UI, as someone other than the webhook's user. */
        private void edit(long storeId, Map<String, Object> deal, OrderChanged last, ManagerEdit edit, int choice) {
            long dealId = Long.parseLong(String.valueOf(deal.get("ID")));
            long pipeline = Long.parseLong(String.valueOf(deal.get("CATEGORY_ID")));
            String status = last.getStatusId().toString();
            Map<ManagerEdit, String> made = new EnumMap<>(ManagerEdit.class);
            switch (edit) {
                case STAGE -> {
                    // another status's stage in the deal's pipeline: the order's status must follow
                    char other = STATUSES.charAt((STATUSES.indexOf(status) + 1 + choice % 2) % 3);
                    String stage = COMPILED.stageFor(pipeline, String.valueOf(other)).orElseThrow();
                    emulator.crm().updateDealAsHuman(dealId, Map.of("STAGE_ID", stage, "byUserId", MANAGER));
                    made.put(ManagerEdit.STAGE, stage);
                }
                case MOVE -> {
                    // another pipeline, at the stage of the order's status there: the pipeline is the manager's from now on
                    List<Long> others = COMPILED.pipelines().stream().filter(p -> p != pipeline).sorted().toList();
                    long target = others.get(choice % others.size());
                    emulator.crm().updateDealAsHuman(dealId, Map.of("CATEGORY_ID", target,
                            "STAGE_ID", COMPILED.stageFor(target, status).orElseThrow(), "byUserId", MANAGER));
                    made.put(ManagerEdit.MOVE, Long.toString(target));
                }
                case AMOUNT -> {
                    String amount = SyncScenario.decimal(last.getPrice()).add(BigDecimal.valueOf(100 + choice, 2)).toPlainString();
                    emulator.crm().updateDealAsHuman(dealId, Map.of("OPPORTUNITY", amount, "byUserId", MANAGER));
                    made.put(ManagerEdit.AMOUNT, amount);
                }
                default -> throw new IllegalStateException(edit.name());
            }
            edits.put(storeId, made);
            synchronized (this) {
                editCounts.merge(edit, 1, Integer::sum);
            }
        }

        /** A manager makes a deal by hand in the pipeline that creates orders, with one catalog product, and saves it. */
        private long makeDealByHand() {
            int quantity = 1 + random.nextInt(3);
            String price = BigDecimal.valueOf(50_000 + random.nextInt(500_000), 2).toPlainString();
            String amount = new BigDecimal(price).multiply(BigDecimal.valueOf(quantity)).toPlainString();
            long dealId = emulator.crm().addDealAsHuman(Map.of("TITLE", "Walk-in buyer", "CATEGORY_ID", Long.toString(HAND_MADE_PIPELINE),
                    "STAGE_ID", COMPILED.stageFor(HAND_MADE_PIPELINE, "N").orElseThrow(), "OPPORTUNITY", amount, "CURRENCY_ID", "RUB",
                    "ASSIGNED_BY_ID", "9", "byUserId", 9));
            emulator.crm().setProductRowsAsHuman(dealId, List.of(Map.of("PRODUCT_ID", HAND_MADE_PRODUCT,
                    "PRODUCT_NAME", "Product " + HAND_MADE_PRODUCT, "PRICE", price, "QUANTITY", quantity)));
            handMadeDeals.put(dealId, COMPILED.stageFor(HAND_MADE_PIPELINE, "N").orElseThrow());
            return dealId;
        }
    }

    /** DealBridge's deals by ORIGIN_ID (deals are found by ORIGINATOR_ID+ORIGIN_ID, as the connector does). */
    private static Map<String, List<Map<String, Object>>> dealsByOrigin(BitrixEmulator emulator) {
        Map<String, List<Map<String, Object>>> byOrigin = new HashMap<>();
        for (Map<String, Object> deal : emulator.crm().deals()) {
            if (SyncScenario.ORIGINATOR.equals(deal.get("ORIGINATOR_ID")) && deal.get("ORIGIN_ID") != null) {
                byOrigin.computeIfAbsent(String.valueOf(deal.get("ORIGIN_ID")), o -> new ArrayList<>()).add(deal);
            }
        }
        return byOrigin;
    }

    /**
     * Both sides against what the shop and the managers did. Per placed order: exactly one deal; its pipeline is the
     * manager's when one moved it, else the last basket's; its amount the manager's when one typed it, else the last
     * basket's total; its rows the last basket; the order's status the shop's last one, or the status of the stage a
     * manager set last, and then the deal still at that stage; the deal's stage maps to the order's status. Per
     * hand-made deal: exactly one order made from it, at the status its stage maps to, for the deal's amount. Any
     * other deal of DealBridge's or store order is stray.
     */
    private static final class Verification {
        final SyncScenario.Verdict verdict;
        final HandMadeVerdict handMade;
        final List<String> strayOrders = new ArrayList<>();

        Verification(BitrixEmulator emulator, Shop shop) {
            Map<String, List<Map<String, Object>>> byOrigin = dealsByOrigin(emulator);
            List<Map<String, Object>> allDeals = emulator.crm().deals();
            Map<Long, Map<String, Object>> orders = new HashMap<>();
            for (Map<String, Object> order : emulator.store().orders()) {
                orders.put(Long.parseLong(String.valueOf(order.get("id"))), order);
            }
            List<Long> missing = new ArrayList<>();
            Map<Long, Integer> duplicated = new TreeMap<>();
            Map<Long, String> inconsistent = new TreeMap<>();
            Map<SyncScenario.Wrong, List<Long>> wrong = new EnumMap<>(SyncScenario.Wrong.class);
            Set<String> placed = new java.util.HashSet<>();
            shop.storeIds.forEach((streamId, storeId) -> {
                placed.add(storeId.toString());
                OrderChanged last = shop.stream.lastChanges().get(streamId);
                List<Map<String, Object>> of = byOrigin.getOrDefault(storeId.toString(), List.of());
                if (of.isEmpty()) {
                    missing.add(storeId);
                    return;
                }
                if (of.size() > 1) {
                    duplicated.put(storeId, of.size());
                }
                Map<String, Object> deal = of.get(0);
                Map<ManagerEdit, String> edit = shop.edits.getOrDefault(storeId, Map.of());
                long dealId = Long.parseLong(String.valueOf(deal.get("ID")));
                String stage = String.valueOf(deal.get("STAGE_ID"));
                String pipeline = String.valueOf(deal.get("CATEGORY_ID"));
                long expectedPipeline = edit.containsKey(ManagerEdit.MOVE) ? Long.parseLong(edit.get(ManagerEdit.MOVE))
                        : COMPILED.pipelineFor(last.getItems());
                String expectedAmount = edit.getOrDefault(ManagerEdit.AMOUNT, last.getPrice().toString());
                String expectedStatus = edit.containsKey(ManagerEdit.STAGE)
                        ? COMPILED.statusFor(expectedPipeline, edit.get(ManagerEdit.STAGE)).orElseThrow() : last.getStatusId().toString();
                String orderStatus = String.valueOf(orders.getOrDefault(storeId, Map.of()).get("statusId"));
                List<String> rows = SyncScenario.rowsOfDeal(emulator.crm().dealProductRows(dealId));
                java.util.EnumSet<SyncScenario.Wrong> what = java.util.EnumSet.noneOf(SyncScenario.Wrong.class);
                if (SyncScenario.decimal(expectedAmount).compareTo(SyncScenario.decimal(deal.get("OPPORTUNITY"))) != 0) {
                    what.add(SyncScenario.Wrong.AMOUNT);
                }
                if (!Long.toString(expectedPipeline).equals(pipeline)) {
                    what.add(SyncScenario.Wrong.PIPELINE);
                }
                if (!COMPILED.isConsistent(expectedPipeline, stage, expectedStatus)
                        || edit.containsKey(ManagerEdit.STAGE) && !edit.get(ManagerEdit.STAGE).equals(stage)) {
                    what.add(SyncScenario.Wrong.STAGE);
                }
                if (!SyncScenario.rowsOfBasket(last.getItems()).equals(rows)) {
                    what.add(SyncScenario.Wrong.ROWS);
                }
                if (!expectedStatus.equals(orderStatus)) {
                    what.add(SyncScenario.Wrong.ORDER_STATUS);
                }
                if (!what.isEmpty()) {
                    what.forEach(w -> wrong.computeIfAbsent(w, w2 -> new ArrayList<>()).add(storeId));
                    inconsistent.put(storeId, what.stream().map(w -> w.label).toList() + ": order " + storeId + " at " + orderStatus
                            + " (expected " + expectedStatus + ", pipeline " + expectedPipeline + ", amount " + expectedAmount
                            + (edit.isEmpty() ? "" : ", manager's " + edit) + ") but deal " + dealId + " is at " + pipeline + "/"
                            + stage + " for " + deal.get("OPPORTUNITY") + " " + rows);
                }
            });
            java.util.Collections.sort(missing);
            wrong.values().forEach(java.util.Collections::sort);

            // orders made from the hand-made deals, and every store order that is neither placed nor made from one
            Map<Long, List<Map<String, Object>>> madeFrom = new HashMap<>();
            orders.forEach((id, order) -> {
                java.util.OptionalLong dealId = OrderFromDeal.dealId(order.get("xmlId") == null ? null : String.valueOf(order.get("xmlId")));
                if (dealId.isPresent() && shop.handMadeDeals.containsKey(dealId.getAsLong())) {
                    madeFrom.computeIfAbsent(dealId.getAsLong(), d -> new ArrayList<>()).add(order);
                } else if (!placed.contains(id.toString())) {
                    strayOrders.add("order " + id + " (xmlId " + order.get("xmlId") + ")");
                }
            });
            List<Long> withoutOrder = new ArrayList<>();
            Map<Long, Integer> withSeveral = new TreeMap<>();
            Map<Long, String> handMadeWrong = new TreeMap<>();
            shop.handMadeDeals.forEach((dealId, managersStage) -> {
                List<Map<String, Object>> made = madeFrom.getOrDefault(dealId, List.of());
                Map<String, Object> deal = emulator.crm().deal(dealId);
                if (made.isEmpty()) {
                    withoutOrder.add(dealId);
                    return;
                }
                if (made.size() > 1) {
                    withSeveral.put(dealId, made.size());
                }
                Map<String, Object> order = made.get(0);
                String stage = String.valueOf(deal.get("STAGE_ID"));
                String status = COMPILED.statusFor(HAND_MADE_PIPELINE, managersStage).orElseThrow();
                if (!managersStage.equals(stage) || !status.equals(String.valueOf(order.get("statusId")))
                        || SyncScenario.decimal(deal.get("OPPORTUNITY")).compareTo(SyncScenario.decimal(order.get("price"))) != 0) {
                    handMadeWrong.put(dealId, "deal at " + stage + " for " + deal.get("OPPORTUNITY") + " (the manager's stage "
                            + managersStage + ") but order " + order.get("id") + " at " + order.get("statusId") + " for " + order.get("price"));
                }
            });
            java.util.Collections.sort(withoutOrder);
            List<String> stray = new ArrayList<>();
            for (Map<String, Object> deal : allDeals) {
                boolean ours = SyncScenario.ORIGINATOR.equals(deal.get("ORIGINATOR_ID"));
                long id = Long.parseLong(String.valueOf(deal.get("ID")));
                if (ours ? !placed.contains(String.valueOf(deal.get("ORIGIN_ID"))) : !shop.handMadeDeals.containsKey(id)) {
                    stray.add("deal " + id + " (" + deal.get("ORIGINATOR_ID") + "/" + deal.get("ORIGIN_ID") + ")");
                }
            }
            verdict = new SyncScenario.Verdict(shop.storeIds.size(), allDeals.size(), missing, duplicated, inconsistent, wrong, stray);
            handMade = new HandMadeVerdict(shop.handMadeDeals.size(), withoutOrder, withSeveral, handMadeWrong);
        }

        boolean exact() {
            return verdict.exact() && handMade.exact() && strayOrders.isEmpty();
        }

        /**
         * For every wrong pair (at most 15): what DealBridge said about it on {@code sync-outcomes} and the lines of its
         * log that name the order or the deal.
         */
        String explain(SyncScenario scenario, String log) {
            Set<Long> orders = new java.util.TreeSet<>(verdict.wrongOrders());
            Set<Long> deals = new java.util.TreeSet<>(handMade.withoutOrder());
            deals.addAll(handMade.withSeveralOrders().keySet());
            deals.addAll(handMade.inconsistent().keySet());
            if (orders.isEmpty() && deals.isEmpty()) {
                return "";
            }
            orders = orders.stream().limit(15).collect(java.util.stream.Collectors.toCollection(java.util.TreeSet::new));
            StringBuilder out = new StringBuilder("  wrong orders " + orders + ", wrong hand-made deals " + deals + ":\n");
            Set<Long> o = orders;
            for (var outcome : scenario.readAll(scenario.topics().syncOutcomes().name(), scenario.topics().syncOutcomes().valueSerde().deserializer())) {
                if (outcome.getOrderId() != null && o.contains(outcome.getOrderId()) || outcome.getDealId() != null && deals.contains(outcome.getDealId())) {
                    out.append("    outcome ").append(java.time.Instant.ofEpochMilli(outcome.getAt().toEpochMilli())).append(" order ")
                            .append(outcome.getOrderId()).append(" deal ").append(outcome.getDealId()).append(' ').append(outcome.getOutcome())
                            .append(' ').append(outcome.getReason()).append('\n');
                }
            }
            // where the order's way stopped: its events on order-changes, its commands on deal-commands, the cursors
            for (var event : scenario.readAll(scenario.topics().orderChanges().name(), scenario.topics().orderChanges().valueSerde().deserializer())) {
                if (event != null && o.contains(event.getOrderId())) {
                    out.append("    order-changes order ").append(event.getOrderId()).append(" dateUpdate ").append(event.getDateUpdate())
                            .append(" version ").append(event.getVersion()).append(" status ").append(event.getStatusId())
                            .append(" price ").append(event.getPrice()).append(" lines ").append(event.getItems().size())
                            .append(" by ").append(event.getCause().getSource()).append('\n');
                }
            }
            for (var command : scenario.readAll(scenario.topics().dealCommands().name(), scenario.topics().dealCommands().valueSerde().deserializer())) {
                if (command != null && o.contains(command.getOrderId())) {
                    out.append("    deal-commands order ").append(command.getOrderId()).append(' ').append(command.getKind())
                            .append(" deal ").append(command.getDealId()).append(" fields ").append(command.getFields() == null ? "-" : command.getFields().keySet())
                            .append(" source time ").append(command.getSourceTime()).append('\n');
                }
            }
            List<String> cursors = scenario.readAll(scenario.topics().ingestCursors().name(), scenario.topics().ingestCursors().valueSerde().deserializer());
            out.append("    ingest-cursors, the last ones: ").append(cursors.subList(Math.max(0, cursors.size() - 4), cursors.size())).append('\n');
            List<String> names = new ArrayList<>();
            o.forEach(id -> names.add(OrderStream.SITE + ":" + id + " "));
            o.forEach(id -> names.add("order " + id + " "));
            deals.forEach(id -> names.add("deal " + id + " "));
            log.lines().filter(line -> names.stream().anyMatch(line::contains)).limit(60)
                    .forEach(line -> out.append("    log ").append(line).append('\n'));
            return out.toString();
        }
    }
}
