package org.dealbridge.bitrix.bench;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.dealbridge.bitrix.BatchCommand;
import org.dealbridge.bitrix.BatchResult;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.bitrix.PortalRateLimiter;
import org.dealbridge.bitrix.crm.CrmApi;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.Call;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.emulator.Portal;

/**
 * Drives batched {@code crm.deal.add} writes through {@link BitrixClient} against the emulator's leaky bucket and prints
 * the sustained request rate as a fraction of the portal limit, and the 503s the portal sent after the first burst.
 *
 * <p>Defaults: 1000 writes in batches of 7 (143 requests: a burst, then about a minute at 2/s), 4 caller threads sharing
 * one client, emulator and client at the cloud default 2/s burst 50. Arguments: {@code writes batchSize rate burst threads}.
 *
 * <p>The first burst is what the limiter lets through before it makes anyone wait (it assumes a half-full portal bucket
 * at start, so 24 requests at the defaults). The sustained rate is measured on the emulator's arrival times, from the
 * last request of that burst to the last request of the run.
 *
 * <pre>
 * cd /work/main &amp;&amp; mvn -o -q -pl bitrix-rest test -Dtest=ClientThroughputBenchmarkSmokeTest       # small run
 * cd /work/main &amp;&amp; mvn -o -q -pl bitrix-rest test-compile
 * cd /work/main/bitrix-rest &amp;&amp; mvn -o -q dependency:build-classpath -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test \
 *   &amp;&amp; java -cp target/classes:target/test-classes:$(cat target/cp.txt) org.dealbridge.bitrix.bench.ClientThroughputBenchmark
 * </pre>
 */
public final class ClientThroughputBenchmark {

    /** What one run measured. {@code sustainedRatio} is sustained requests/s ÷ configured rate. */
    public record Result(int writes, int requests, int burstRequests, double sustainedRequestsPerSecond, double sustainedRatio,
                         long refusedAfterBurst, long refusedTotal, int dealsCreated, Duration elapsed) {
    }

    public static void main(String[] args) throws Exception {
        int writes = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int batchSize = args.length > 1 ? Integer.parseInt(args[1]) : 7;
        double rate = args.length > 2 ? Double.parseDouble(args[2]) : 2;
        int burst = args.length > 3 ? Integer.parseInt(args[3]) : 50;
        int threads = args.length > 4 ? Integer.parseInt(args[4]) : 4;
        Result r = run(writes, batchSize, rate, burst, threads);
        System.out.printf("writes: %d crm.deal.add in %d batch requests (batch size %d, %d caller threads), elapsed %.1f s%n",
                r.writes(), r.requests(), batchSize, threads, r.elapsed().toMillis() / 1000.0);
        System.out.printf("first burst: %d requests%n", r.burstRequests());
        System.out.printf("sustained after the burst: %.3f req/s; limit %.1f req/s; ratio %.3f (target >= 0.95)%n",
                r.sustainedRequestsPerSecond(), rate, r.sustainedRatio());
        System.out.printf("503 QUERY_LIMIT_EXCEEDED after the first burst: %d (target 0); in total: %d%n", r.refusedAfterBurst(), r.refusedTotal());
        System.out.printf("deals created: %d%n", r.dealsCreated());
    }

    public static Result run(int writes, int batchSize, double rate, int burst, int threads) throws Exception {
        try (BitrixEmulator emu = BitrixEmulator.start(EmulatorOptions.defaults().rateLimit(Portal.CRM, rate, burst))) {
            PortalRateLimiter limiter = new PortalRateLimiter("crm", PortalRateLimiter.Options.of(rate, burst));
            // the first burst: what the limiter lets through before it makes anyone wait (it assumes a half-full bucket)
            int freeAtStart = (int) Math.floor(burst - limiter.options().headroom() - limiter.currentLevel());
            BitrixClient client = BitrixClient.builder(emu.crmWebhookUrl()).portal("crm").meterRegistry(new SimpleMeterRegistry())
                    .rateLimiter(limiter)
                    .build();
            List<List<BatchCommand>> batches = new ArrayList<>();
            for (int from = 0; from < writes; from += batchSize) {
                List<BatchCommand> cmds = new ArrayList<>();
                for (int i = from; i < Math.min(writes, from + batchSize); i++) {
                    cmds.add(CrmApi.addDealCommand("w" + i, Map.of("TITLE", "bench " + i, "ORIGINATOR_ID", "bench", "ORIGIN_ID", Integer.toString(i))));
                }
                batches.add(cmds);
            }
            AtomicInteger next = new AtomicInteger();
            AtomicInteger failedCommands = new AtomicInteger();
            Instant start = Instant.now();
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<?>> futures = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    futures.add(pool.submit(() -> {
                        int i;
                        while ((i = next.getAndIncrement()) < batches.size()) {
                            BatchResult r = client.batch(batches.get(i));
                            failedCommands.addAndGet(r.errors().size() + r.notExecuted().size());
                        }
                        return null;
                    }));
                }
                for (Future<?> f : futures) {
                    f.get();
                }
            } finally {
                pool.shutdownNow();
            }
            Duration elapsed = Duration.between(start, Instant.now());
            if (failedCommands.get() > 0) {
                throw new IllegalStateException(failedCommands.get() + " batched writes failed");
            }

            List<Call> batchCalls = emu.calls().of(Portal.CRM, "batch").stream().filter(c -> !c.inBatch()).toList();
            List<Instant> accepted = batchCalls.stream().filter(c -> c.httpStatus() == 200).map(Call::time).sorted().toList();
            int burstEnd = Math.min(Math.max(1, freeAtStart), accepted.size());
            double sustainedRate = 0;
            if (burstEnd < accepted.size()) {
                double seconds = Duration.between(accepted.get(burstEnd - 1), accepted.get(accepted.size() - 1)).toNanos() / 1e9;
                sustainedRate = (accepted.size() - burstEnd) / seconds;
            }
            Instant burstOver = burstEnd == 0 ? start : accepted.get(burstEnd - 1);
            long refusedTotal = batchCalls.stream().filter(c -> c.httpStatus() == 503).count();
            long refusedAfter = batchCalls.stream().filter(c -> c.httpStatus() == 503 && c.time().isAfter(burstOver)).count();
            return new Result(writes, accepted.size(), burstEnd, sustainedRate, sustainedRate / rate, refusedAfter, refusedTotal,
                    emu.crm().deals().size(), elapsed);
        }
    }
}
