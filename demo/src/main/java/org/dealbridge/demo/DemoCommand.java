package org.dealbridge.demo;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.dealbridge.app.cli.DealBridgeCli;
import org.dealbridge.app.config.DealBridgeConfig;
import org.dealbridge.app.runtime.DealBridgeRuntime;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.mapping.DocumentCheck;
import org.dealbridge.mapping.MappingPublisher;
import org.dealbridge.mapping.MappingTopics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code bin/dealbridge demo}: DealBridge's whole job on the embedded default. Starts the Bitrix emulators seeded with
 * a small shop ({@link DemoShop}), runs DealBridge against them on an embedded broker, publishes the demo mapping,
 * then plays a short story of orders and manager edits ({@link DemoStory}) and prints what DealBridge decides and
 * does, read from the {@code sync-outcomes} topic. The emulators stay up (and inspectable over HTTP) until Ctrl-C.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run DealBridge against emulated Bitrix24 and 1C-Bitrix portals on an embedded Kafka, and watch it sync a small shop.")
public final class DemoCommand implements Callable<Integer> {
    @ParentCommand
    DealBridgeCli cli;

    @Option(names = "--emulator-port", defaultValue = "8090", description = "Port of the emulators' HTTP server (0: any free port). Default: ${DEFAULT-VALUE}.")
    int emulatorPort;

    @Option(names = "--duration", defaultValue = "0", description = "Stop after this many seconds (0: run until Ctrl-C).")
    long durationSeconds;

    @Option(names = "--step", defaultValue = "3", description = "Seconds between the story's steps. Default: ${DEFAULT-VALUE}.")
    long stepSeconds;

    @Option(names = "--exit-after-story", description = "Stop once the story is told and its last outcomes are printed "
            + "(for scripts; --duration still bounds the whole run).")
    boolean exitAfterStory;

    /** The last outcomes of the story arrive shortly after its last step: stop once none came for this long. */
    private static final Duration QUIET_AFTER_STORY = Duration.ofSeconds(2);
    private static final Duration MAX_WAIT_AFTER_STORY = Duration.ofSeconds(15);

    private final PrintStream out = System.out;

    @Override
    public Integer call() throws Exception {
        DealBridgeConfig userConfig = cli.config();
        String crmToken = UUID.randomUUID().toString().replace("-", "");
        String storeToken = UUID.randomUUID().toString().replace("-", "");
        CountDownLatch stop = new CountDownLatch(1);
        Thread hook = new Thread(stop::countDown, "dealbridge-demo-stop");
        Runtime.getRuntime().addShutdownHook(hook);

        try (BitrixEmulator emu = BitrixEmulator.start(EmulatorOptions.defaults().port(emulatorPort))) {
            DemoShop.seed(emu);
            Map<String, Object> values = new HashMap<>(userConfig.originalsStrings());
            values.put(DealBridgeConfig.CRM_WEBHOOK_URL, emu.crmWebhookUrl());
            values.put(DealBridgeConfig.CRM_APPLICATION_TOKEN, crmToken);
            values.put(DealBridgeConfig.STORE_WEBHOOK_URL, emu.storeWebhookUrl());
            values.put(DealBridgeConfig.STORE_APPLICATION_TOKEN, storeToken);
            values.putIfAbsent(DealBridgeConfig.STORE_POLL_INTERVAL, "10s");
            // the emulated portals start empty every time, so the demo's Kafka state must too: it lives in a folder of
            // its own below data.dir (never the data of a 'run' in the same folder) and is cleared at start
            Path demoData = userConfig.dataDir().resolve("demo");
            clear(demoData);
            values.put(DealBridgeConfig.DATA_DIR, demoData.toString());
            values.put(DealBridgeConfig.CONSOLE_ENABLED, "true");
            values.putIfAbsent(DealBridgeConfig.CONSOLE_TOKEN, UUID.randomUUID().toString().replace("-", ""));
            DealBridgeConfig config = new DealBridgeConfig(values);

            try (DealBridgeRuntime runtime = DealBridgeRuntime.start(config)) {
                String base = "http://127.0.0.1:" + runtime.httpPort();
                emu.subscribeStore(base + "/hooks/store", storeToken, "ONSALEORDERSAVED", "ONSALEBEFOREORDERDELETE");
                emu.subscribeCrm(base + "/hooks/bitrix24", crmToken, "ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE");
                out.println("== DealBridge demo ==");
                out.println("  emulated Bitrix24 + store: " + emu.baseUrl() + "/emulator/crm/deals, " + emu.baseUrl() + "/emulator/store/orders");
                out.println("  DealBridge:                " + base + "/health, " + base + "/metrics");
                out.println("  web console:               " + runtime.consoleSignInLink().orElseThrow() + "  (one-time sign-in link)");
                out.println("  Kafka:                     " + runtime.bootstrapServers() + " (data in " + config.dataDir()
                        + "; other commands meanwhile: DEALBRIDGE_DATA_DIR=" + config.dataDir() + " bin/dealbridge trace s1:1)");

                publishMapping(runtime);
                try (OutcomePrinter printer = OutcomePrinter.start(runtime.clientProperties(), runtime.topics(), out)) {
                    DemoStory story = new DemoStory(emu, out, Duration.ofSeconds(stepSeconds));
                    CountDownLatch told = new CountDownLatch(1);
                    Thread storyThread = new Thread(() -> {
                        story.play(stop);
                        told.countDown();
                    }, "dealbridge-demo-story");
                    storyThread.setDaemon(true);
                    storyThread.start();
                    long deadline = durationSeconds > 0 ? System.nanoTime() + TimeUnit.SECONDS.toNanos(durationSeconds) : Long.MAX_VALUE;
                    if (exitAfterStory) {
                        awaitUntil(told, deadline);
                        awaitQuiet(printer, stop, deadline);
                    } else {
                        awaitUntil(stop, deadline);
                    }
                    stop.countDown();
                    storyThread.join(5000);
                    out.println("== demo summary: " + story.summary() + "; " + printer.count() + " sync outcomes printed ==");
                }
            }
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C: the JVM is already stopping
            }
        }
        return 0;
    }

    /** Waits for the latch, at most until the deadline ({@link Long#MAX_VALUE}: no deadline). */
    private static void awaitUntil(CountDownLatch latch, long deadline) throws InterruptedException {
        if (deadline == Long.MAX_VALUE) {
            latch.await();
        } else {
            latch.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
    }

    /** After the story: until no new outcome was printed for {@link #QUIET_AFTER_STORY}, Ctrl-C or the deadline. */
    private static void awaitQuiet(OutcomePrinter printer, CountDownLatch stop, long deadline) throws InterruptedException {
        long until = Math.min(deadline, System.nanoTime() + MAX_WAIT_AFTER_STORY.toNanos());
        int seen = printer.count();
        long quietSince = System.nanoTime();
        while (System.nanoTime() < until && System.nanoTime() - quietSince < QUIET_AFTER_STORY.toNanos()) {
            if (stop.await(200, TimeUnit.MILLISECONDS)) {
                return;
            }
            int now = printer.count();
            if (now != seen) {
                seen = now;
                quietSince = System.nanoTime();
            }
        }
    }

    private void publishMapping(DealBridgeRuntime runtime) throws IOException {
        String yaml;
        try (InputStream in = DemoCommand.class.getResourceAsStream("/demo-mapping.yaml")) {
            yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Properties props = runtime.clientProperties();
        MappingPublisher publisher = new MappingPublisher(props, MappingTopics.of(runtime.schemaRegistry(), runtime.topics().prefix()), Clock.systemUTC());
        var publication = publisher.publish(yaml, "demo", false, DocumentCheck.NONE);
        out.println("  mapping for site s1: version " + publication.profile().getVersion()
                + (publication.published() ? " published" : " already in force") + " (pipeline 2 for section 12 Electronics)");
    }


    /** Deletes the demo's previous state (only ever the demo's own folder). */
    private static void clear(Path demoData) throws java.io.IOException {
        if (!Files.exists(demoData)) {
            return;
        }
        try (java.util.stream.Stream<Path> all = Files.walk(demoData)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
