package org.dealbridge.reliability;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;

/**
 * The long crash loop through {@code bin/dealbridge run}: 10 000 orders and 10 SIGKILLs by default (every kind of
 * moment; see {@link CrashLoop.Moment#schedule}); prints the figures and exits 1 when a pair is wrong. Arguments (all
 * optional): orders, kills, seed, hand-made deals, milliseconds between two placements. Run from the project's root:
 *
 * <pre>
 * mvn -o -q -pl reliability -am test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/rel.cp
 * java -cp "reliability/target/test-classes:$(cat /tmp/rel.cp)" org.dealbridge.reliability.CrashLoopBenchmark 10000 10
 * </pre>
 */
public final class CrashLoopBenchmark {
    private CrashLoopBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int orders = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int kills = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        long seed = args.length > 2 ? Long.parseLong(args[2]) : System.nanoTime();
        int handMade = args.length > 3 ? Integer.parseInt(args[3]) : Math.max(2, orders / 500);
        long spacing = args.length > 4 ? Long.parseLong(args[4]) : 40;
        EmbeddedKafkaCluster kafka = EmbeddedKafkaCluster.singleNode();
        kafka.start();
        Path dir = Files.createTempDirectory("dealbridge-crash-loop");
        boolean exact;
        try {
            CrashLoop.Result r = new CrashLoop(kafka.bootstrapServers(), dir, new CrashLoop.Size(orders, handMade, kills, spacing, seed))
                    .run(Duration.ofMinutes(20));
            exact = r.exact();
            System.out.print(r.figures());
            System.out.println("DealBridge's logs in " + dir);
        } finally {
            kafka.stop();
        }
        System.exit(exact ? 0 : 1);
    }
}
