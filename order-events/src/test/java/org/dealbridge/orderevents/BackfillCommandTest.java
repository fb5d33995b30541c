package org.dealbridge.orderevents;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MeterRegistry;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.dealbridge.bitrix.store.StoreApi;
import org.dealbridge.emulator.NewOrder;
import org.dealbridge.emulator.Portal;
import org.dealbridge.kafka.embedded.EmbeddedKafkaCluster;
import org.dealbridge.schemas.ChangeSource;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.OrderChanged;
import org.dealbridge.schemas.Topics;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import picocli.CommandLine;

/** {@code backfill --site X [--since DATE]} through picocli, against the store emulator and a real broker. */
class BackfillCommandTest {
    @RegisterExtension
    static final EmbeddedKafkaCluster KAFKA = EmbeddedKafkaCluster.singleNode();

    private StoreFixture fx;
    private BackfillContext context;

    @BeforeAll
    static void topics() {
        StoreFixture.createTopics(KAFKA);
    }

    @BeforeEach
    void start() {
        fx = new StoreFixture();
        context = new BackfillContext() {
            @Override
            public StoreApi store() {
                return fx.store;
            }

            @Override
            public Map<String, Object> producerConfig() {
                return fx.producerConfig(KAFKA);
            }

            @Override
            public Topics topics() {
                return fx.topics;
            }

            @Override
            public MeterRegistry meterRegistry() {
                return fx.meters;
            }

            @Override
            public Clock clock() {
                return Clock.systemUTC();
            }
        };
    }

    @AfterEach
    void stop() {
        fx.close();
    }

    private record Run(int exitCode, String out, String err) {
    }

    private Run backfill(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = new CommandLine(new BackfillCommand(context)).setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private List<Long> seed(String site, int count) {
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            fx.clock.advance(Duration.ofSeconds(1));
            ids.add(fx.emulator.store().addOrder(NewOrder.create().site(site).item(202, "T-shirt L", "1600.00", 1)));
        }
        return ids;
    }

    private List<ConsumerRecord<String, OrderChanged>> events(String site, int atLeast) {
        return StoreFixture.withKeyPrefix(StoreFixture.read(KAFKA, fx.topics.orderChanges(),
                all -> StoreFixture.withKeyPrefix(all, site + ":").size() >= atLeast, Duration.ofSeconds(15)), site + ":");
    }

    @Test
    void publishesEveryOrderOfTheSiteWithAProgressLineAndIsSafeToRunAgain() {
        List<Long> ids = seed("b1", 75);
        seed("other", 3);

        Run first = backfill("--site", "b1");

        assertThat(first.exitCode()).as(first.err()).isZero();
        assertThat(first.err()).containsPattern("backfill b1: 75/75 orders, [0-9.]+ orders/s, ETA 00:00:00");
        assertThat(first.out()).contains("backfill b1 done: 75 orders, 75 published, 0 dead-lettered");
        List<ConsumerRecord<String, OrderChanged>> once = events("b1", 75);
        assertThat(once).hasSize(75);
        assertThat(once).extracting(ConsumerRecord::key).containsExactlyInAnyOrderElementsOf(ids.stream().map(id -> Keys.order("b1", id)).toList());
        assertThat(once).allSatisfy(r -> {
            assertThat(r.value().getCause().getSource()).isEqualTo(ChangeSource.BACKFILL);
            assertThat(r.value().getItems().get(0).getParentProductId()).isEqualTo(200L);
        });
        // walked by id with start=-1, never by offset
        assertThat(fx.emulator.calls().of(Portal.STORE, "sale.order.list")).extracting(c -> c.param("start")).contains("-1");

        Run second = backfill("--site", "b1");

        assertThat(second.exitCode()).isZero();
        List<ConsumerRecord<String, OrderChanged>> twice = events("b1", 150);
        assertThat(twice).hasSize(150);
        Map<String, List<OrderChanged>> perKey = twice.stream()
                .collect(Collectors.groupingBy(ConsumerRecord::key, Collectors.mapping(ConsumerRecord::value, Collectors.toList())));
        assertThat(perKey).hasSize(75);
        assertThat(perKey.values()).as("a re-run publishes the same full state again").allSatisfy(v -> assertThat(v.get(1)).isEqualTo(v.get(0)));
    }

    @Test
    void sinceLimitsTheRunToOrdersChangedOnOrAfterTheDate() {
        seed("b2", 3);
        fx.clock.advance(Duration.ofDays(40));
        String since = fx.clock.instant().atOffset(java.time.ZoneOffset.ofHours(3)).toLocalDate().toString();
        List<Long> recent = seed("b2", 2);

        Run run = backfill("--site", "b2", "--since", since);

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.err()).contains("backfill b2: 2/2 orders");
        assertThat(events("b2", 2)).extracting(ConsumerRecord::key)
                .containsExactlyInAnyOrderElementsOf(recent.stream().map(id -> Keys.order("b2", id)).toList());
    }

    @Test
    void aMissingSiteIsAUsageError() {
        Run run = backfill();
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("Missing required option: '--site=SITE'");
    }

    @Test
    void aBadDateIsNamed() {
        Run run = backfill("--site", "b3", "--since", "01.02.2026");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--since").contains("01.02.2026");
    }
}
