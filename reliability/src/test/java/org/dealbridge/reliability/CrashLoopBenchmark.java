package org.dealbridge.reliability;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;

/**
 * The long crash loop: 10 000 orders (and their status changes and basket replacements), 10 SIGKILLs; prints the
 * counts and exits 1 when the CRM does not match the store. Arguments (all optional): orders, kills, seed.
 *
 * <pre>
 * mvn -o -q -pl reliability test-compile
 * java -cp "reliability/target/test-classes:$(cat /tmp/rel.cp)" org.dealbridge.reliability.CrashLoopBenchmark 10000 10
 * </pre>
 * ({@code /tmp/rel.cp} from {@code mvn -o -q -pl reliability dependency:build-classpath -Dmdep.outputFile=/tmp/rel.cp}.)
 */
public final class CrashLoopBenchmark {
    private CrashLoopBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int orders = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int kills = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        long seed = args.length > 2 ? Long.parseLong(args[2]) : System.nanoTime();
        EmbeddedKafkaCluster kafka = EmbeddedKafkaCluster.singleNode();
        kafka.start();
        Path dir = Files.createTempDirectory("dealbridge-crash-loop");
        boolean exact;
        try {
            CrashLoop.Result r = new CrashLoop(kafka.bootstrapServers(), dir, orders, kills, seed).run(Duration.ofMinutes(20));
            exact = r.verdict().exact() && r.deadLetters().isEmpty()
                    && r.secrets().stream().noneMatch(s -> r.childOutput().contains(s) || r.deadLetters().toString().contains(s));
            System.out.printf("crash loop seed=%d orders=%d statusChanges=%d basketChanges=%d basketChangesAroundKills=%d kills=%d commands=%s deals=%d"
                            + " missing=%d duplicated=%d inconsistent=%d wrongAmount=%d wrongPipeline=%d wrongStage=%d wrongRows=%d stray=%d"
                            + " deadLetters=%d secretsLeaked=%b elapsedMs=%d -> %s%n%s", seed, r.orders(), r.statusChanges(), r.basketChanges(),
                    r.basketChangesAroundKills(), r.kills(), r.commands(), r.verdict().deals(), r.verdict().missing().size(), r.verdict().duplicated().size(),
                    r.verdict().inconsistent().size(), r.verdict().count(SyncScenario.Wrong.AMOUNT), r.verdict().count(SyncScenario.Wrong.PIPELINE),
                    r.verdict().count(SyncScenario.Wrong.STAGE), r.verdict().count(SyncScenario.Wrong.ROWS), r.verdict().strayDeals().size(),
                    r.deadLetters().size(), r.secrets().stream().anyMatch(s -> r.childOutput().contains(s)), r.syncMillis(),
                    exact ? "EXACT" : "BROKEN: " + r.verdict(), r.diagnosis());
            System.out.println("child logs in " + dir);
        } finally {
            kafka.stop();
        }
        System.exit(exact ? 0 : 1);
    }
}
