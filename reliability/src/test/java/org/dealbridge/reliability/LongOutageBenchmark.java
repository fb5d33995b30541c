package org.dealbridge.reliability;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.dealbridge.app.config.ConfigLoader;
import org.dealbridge.app.runtime.DealBridgeRuntime;
import org.dealbridge.dealprojector.crm.CrmConnector;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.emulator.Fault;
import org.dealbridge.emulator.Portal;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.schemas.DeadLetter;
import org.dealbridge.schemas.OrderChanged;

/**
 * A long CRM outage in the middle of a stream of orders and status changes, with the production retry settings: the
 * CRM's port is closed for the first half (connections refused), then it answers HTML 502 pages for the second; orders
 * and status changes are published throughout, from before the outage to after it. Prints the figures and exits 1
 * unless every order has exactly one correct deal (amount, pipeline, stage, rows) and the CRM connector dead-lettered
 * nothing. Not a CI test (it runs for the outage and then some). Arguments (all optional): orders, status changes,
 * outage minutes.
 *
 * <pre>
 * mvn -o -q -pl reliability -am test-compile
 * java -cp "reliability/target/test-classes:$(cat /tmp/rel.cp)" org.dealbridge.reliability.LongOutageBenchmark 1000 500 10
 * </pre>
 * ({@code /tmp/rel.cp} from {@code mvn -o -q -pl reliability dependency:build-classpath -Dmdep.outputFile=/tmp/rel.cp}.)
 */
public final class LongOutageBenchmark {
    private LongOutageBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int orders = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int statusChanges = args.length > 1 ? Integer.parseInt(args[1]) : 500;
        Duration outage = Duration.ofSeconds(Math.round((args.length > 2 ? Double.parseDouble(args[2]) : 10) * 60));
        Duration lead = Duration.ofSeconds(20);
        // the stream runs from `lead` before the outage to `lead` after it
        Duration placing = outage.plus(lead).plus(lead);
        EmbeddedKafkaCluster kafka = EmbeddedKafkaCluster.singleNode();
        kafka.start();
        Path dir = Files.createTempDirectory("dealbridge-long-outage");
        boolean exact;
        try (BitrixEmulator emulator = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled())) {
            SyncScenario.seedCrm(emulator);
            Map<String, String> env = new HashMap<>();
            env.put("DEALBRIDGE_DATA_DIR", dir.resolve("data").toString());
            env.put("DEALBRIDGE_HTTP_PORT", "0");
            env.put("DEALBRIDGE_KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
            env.put("DEALBRIDGE_KAFKA_TOPIC_PARTITIONS", "2");
            env.put("DEALBRIDGE_CRM_WEBHOOK_URL", emulator.crmWebhookUrl());
            env.put("DEALBRIDGE_REST_ALLOW_INSECURE_HTTP", "true");
            env.put("DEALBRIDGE_CRM_RATE_REQUESTS_PER_SECOND", "50");
            try (DealBridgeRuntime runtime = DealBridgeRuntime.start(ConfigLoader.load(null, env));
                 SyncScenario scenario = new SyncScenario(kafka.bootstrapServers(), emulator)) {
                scenario.publishMapping();
                Random random = new Random(42);
                Map<Long, OrderChanged> expected = new HashMap<>();
                List<Long> placed = new ArrayList<>();
                int events = orders + statusChanges;
                long start = System.nanoTime();
                Instant outageStarts = Instant.now().plus(lead);
                boolean outageStarted = false;
                int changed = 0;
                try (KafkaProducer<String, byte[]> producer = scenario.producer()) {
                    for (int i = 0; i < events; i++) {
                        long due = start + placing.toNanos() * i / events;
                        long sleep = due - System.nanoTime();
                        if (sleep > 0) {
                            Thread.sleep(sleep / 1_000_000);
                        }
                        if (!outageStarted && !Instant.now().isBefore(outageStarts)) {
                            emulator.faults().outage(Portal.CRM, outage, Fault.HTTP_502_HTML);
                            emulator.refuseConnections(outage.dividedBy(2));
                            outageStarted = true;
                        }
                        boolean change = !placed.isEmpty() && (placed.size() >= orders || random.nextInt(events) < statusChanges)
                                && changed < statusChanges;
                        OrderChanged next;
                        if (change) {
                            long id = placed.get(random.nextInt(placed.size()));
                            OrderChanged before = expected.get(id);
                            String status = "N".contentEquals(before.getStatusId()) ? "P" : "P".contentEquals(before.getStatusId()) ? "F" : "N";
                            next = OrderChanged.newBuilder(before).setStatusId(status).setDateUpdate(Instant.now()).build();
                            changed++;
                        } else {
                            long id = 10_000 + placed.size();
                            next = OrderStream.order(id, "N", id % 3 == 0 ? OrderStream.ELECTRONICS : OrderStream.BOOKS, 100 + (int) (id % 900),
                                    Instant.now());
                            placed.add(id);
                        }
                        producer.send(scenario.record(next));
                        expected.put(next.getOrderId(), next);
                    }
                    producer.flush();
                }
                Instant outageEnded = outageStarts.plus(outage);
                SyncScenario.Verdict verdict = scenario.awaitExact(expected, outage.plus(Duration.ofMinutes(10)));
                long convergedAfterOutageMs = Duration.between(outageEnded, Instant.now()).toMillis();
                Thread.sleep(5_000);  // a late duplicate would show up now
                verdict = scenario.verify(expected);
                List<DeadLetter> crmLetters = scenario.deadLetters().stream()
                        .filter(l -> CrmConnector.COMPONENT.contentEquals(l.getComponent())).toList();
                exact = verdict.exact() && crmLetters.isEmpty();
                System.out.printf("long CRM outage: %d s (refused %d s, then HTML 502) orders=%d statusChanges=%d deals=%d missing=%d duplicated=%d"
                                + " inconsistent=%d wrongAmount=%d wrongPipeline=%d wrongStage=%d wrongRows=%d stray=%d crmDeadLetters=%d"
                                + " allDeadLetters=%d syncedAfterOutageEndMs=%d elapsedMs=%d -> %s%n", outage.toSeconds(), outage.dividedBy(2).toSeconds(),
                        placed.size(), changed, verdict.deals(), verdict.missing().size(), verdict.duplicated().size(), verdict.inconsistent().size(),
                        verdict.count(SyncScenario.Wrong.AMOUNT), verdict.count(SyncScenario.Wrong.PIPELINE), verdict.count(SyncScenario.Wrong.STAGE),
                        verdict.count(SyncScenario.Wrong.ROWS), verdict.strayDeals().size(), crmLetters.size(), scenario.deadLetters().size(),
                        convergedAfterOutageMs, Duration.ofNanos(System.nanoTime() - start).toMillis(), exact ? "EXACT" : "BROKEN: " + verdict);
            }
        } finally {
            kafka.stop();
        }
        System.exit(exact ? 0 : 1);
    }
}
