package org.dealbridge.benchmarks;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code dealbridge bench <name>}: each benchmark prints a table and writes {@code bench-results/<name>.json}. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks against the emulators and an in-process broker; each prints a table and writes bench-results/NAME.json.",
        subcommands = {BenchCommand.ApiBudget.class, BenchCommand.Coalescing.class, BenchCommand.ProjectorThroughput.class,
                BenchCommand.Latency.class, BenchCommand.State.class, BenchCommand.EndToEnd.class})
public final class BenchCommand implements Runnable {

    @Option(names = "--out", defaultValue = "bench-results", description = "Folder for the JSON results. Default: ${DEFAULT-VALUE}.")
    Path out;

    @Spec
    CommandSpec spec;

    /** Without a benchmark name: the usage, which lists them all. */
    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** A benchmark command: runs, then prints its table and writes its JSON into the parent's {@code --out}. */
    abstract static class Benchmark implements Callable<Integer> {
        @ParentCommand
        BenchCommand bench;

        abstract BenchResult run() throws Exception;

        @Override
        public Integer call() throws Exception {
            BenchResult result = run();
            result.print(System.out);
            System.out.println("written: " + result.write(bench.out).toAbsolutePath());
            return 0;
        }
    }

    /** {@code --window-ms}, for the benchmarks that go through the deal projector's coalescing. */
    static final class CoalesceWindow {
        @Option(names = "--window-ms", defaultValue = "500", description = "Coalesce window. Default: ${DEFAULT-VALUE} (the projector's default).")
        long windowMs;

        Duration duration() {
            return Duration.ofMillis(windowMs);
        }
    }

    @Command(name = "api-budget", mixinStandardHelpOptions = true,
            description = "N new orders of new buyers, a status change each, N new orders of the same (returning) buyers: "
                    + "steady-state status updates/s and new deals/s over the budget, sub-commands per write, 503s after the "
                    + "burst, and a naive one-call-per-order sync.")
    static final class ApiBudget extends Benchmark {
        @Option(names = "--orders", defaultValue = "3000", description = "Orders per phase. Default: ${DEFAULT-VALUE}.")
        int orders;

        @Option(names = "--baseline-seconds", defaultValue = "30", description = "Longest the naive sync runs. Default: ${DEFAULT-VALUE}.")
        int baselineSeconds;

        @Option(names = "--rate", defaultValue = "2", description = "The portal's calls/s after the burst (Enterprise: 5). Default: ${DEFAULT-VALUE}.")
        double rate;

        @Option(names = "--burst", defaultValue = "50", description = "The portal's burst (Enterprise: 250). Default: ${DEFAULT-VALUE}.")
        int burst;

        @Override
        BenchResult run() {
            if (!(rate > 0)) {
                throw new IllegalArgumentException("--rate must be > 0, was " + rate);
            }
            return ApiBudgetBenchmark.run(positive("--orders", orders), Duration.ofSeconds(positive("--baseline-seconds", baselineSeconds)),
                    rate, positive("--burst", burst));
        }
    }

    @Command(name = "coalescing", mixinStandardHelpOptions = true,
            description = "Many status changes per order within one coalesce window: CRM deal writes per order.")
    static final class Coalescing extends Benchmark {
        @Option(names = "--orders", defaultValue = "500", description = "Orders. Default: ${DEFAULT-VALUE}.")
        int orders;

        @Option(names = "--changes", defaultValue = "10", description = "Status changes per order. Default: ${DEFAULT-VALUE}.")
        int changes;

        @Mixin
        CoalesceWindow window;

        @Override
        BenchResult run() {
            return CoalescingBenchmark.run(positive("--orders", orders), positive("--changes", changes), window.duration());
        }
    }

    @Command(name = "projector-throughput", mixinStandardHelpOptions = true,
            description = "Order events/s through the deal projector ÷ a raw consume→produce copy, exactly-once on and off.")
    static final class ProjectorThroughput extends Benchmark {
        @Option(names = "--orders", defaultValue = "100000", description = "Order events. Default: ${DEFAULT-VALUE}.")
        int orders;

        @Option(names = "--rounds", defaultValue = "2", description = "Rounds of all four passes; the last one's figures count (the first warms up). Default: ${DEFAULT-VALUE}.")
        int rounds;

        @Mixin
        CoalesceWindow window;

        @Override
        BenchResult run() throws InterruptedException {
            return ProjectorThroughputBenchmark.run(positive("--orders", orders), window.duration(), positive("--rounds", rounds));
        }
    }

    @Command(name = "latency", mixinStandardHelpOptions = true,
            description = "Order → CRM call latency p50/p99/max at about half the API budget.")
    static final class Latency extends Benchmark {
        @Option(names = "--rate", defaultValue = "10", description = "New orders per second (10 ≈ half the budget). Default: ${DEFAULT-VALUE}.")
        double rate;

        @Option(names = "--seconds", defaultValue = "30", description = "How long orders are sent. Default: ${DEFAULT-VALUE}.")
        int seconds;

        @Mixin
        CoalesceWindow window;

        @Override
        BenchResult run() {
            if (!(rate > 0)) {
                throw new IllegalArgumentException("--rate must be > 0, was " + rate);
            }
            return LatencyBenchmark.run(rate, Duration.ofSeconds(positive("--seconds", seconds)), window.duration());
        }
    }

    @Command(name = "state", mixinStandardHelpOptions = true,
            description = "N order↔deal links in the projector's state: load time, heap, RocksDB size, restart and restore time.")
    static final class State extends Benchmark {
        @Option(names = "--links", defaultValue = "1000000", description = "Links. Default: ${DEFAULT-VALUE}.")
        int links;

        @Override
        BenchResult run() throws Exception {
            return StateBenchmark.run(positive("--links", links));
        }
    }

    @Command(name = "end-to-end", mixinStandardHelpOptions = true,
            description = "Orders placed in the emulated store, DealBridge's real runtime, until every deal exists: deals/s, time to the last deal, "
                    + "store and CRM requests and sub-commands per deal (ingestion included), then the idle store's requests.")
    static final class EndToEnd extends Benchmark {
        @Option(names = "--orders", defaultValue = "300", description = "Orders placed. Default: ${DEFAULT-VALUE}.")
        int orders;

        @Option(names = "--burst", defaultValue = "300", description = "Orders placed at once first. Default: ${DEFAULT-VALUE}.")
        int burst;

        @Option(names = "--rate", defaultValue = "10", description = "Orders per second after the burst. Default: ${DEFAULT-VALUE}.")
        double rate;

        @Option(names = "--idle-seconds", defaultValue = "25", description = "How long the idle store is watched afterwards (0: not). Default: ${DEFAULT-VALUE}.")
        int idleSeconds;

        @Override
        BenchResult run() throws Exception {
            if (!(rate > 0)) {
                throw new IllegalArgumentException("--rate must be > 0, was " + rate);
            }
            if (burst < 0 || idleSeconds < 0) {
                throw new IllegalArgumentException("--burst and --idle-seconds must be >= 0, were " + burst + " and " + idleSeconds);
            }
            return EndToEndBenchmark.run(positive("--orders", orders), rate, burst, Duration.ofSeconds(idleSeconds));
        }
    }

    static int positive(String option, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(option + " must be > 0, was " + value);
        }
        return value;
    }
}
