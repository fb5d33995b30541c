package org.dealbridge.orderevents;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.LocalDate;
import java.util.Objects;
import java.util.concurrent.Callable;
import org.dealbridge.bitrix.BitrixException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dealbridge backfill --site s1 [--since 2024-01-01]}: publishes every historical order of a site as an
 * OrderChanged (cause BACKFILL). Progress on stderr, a summary on stdout; exit 0 when every order was published or
 * dead-lettered, 1 when the run stopped (safe to run again).
 */
@Command(name = "backfill", mixinStandardHelpOptions = true,
        description = "Publish every historical store order of a site to order-changes. Safe to re-run.")
public final class BackfillCommand implements Callable<Integer> {
    @Option(names = "--site", required = true, paramLabel = "SITE", description = "store site id (lid), e.g. s1")
    String site;

    @Option(names = "--since", paramLabel = "DATE", description = "only orders changed on or after this date, YYYY-MM-DD (portal time zone)")
    LocalDate since;

    @Spec
    CommandSpec spec;

    private final BackfillContext context;

    public BackfillCommand(BackfillContext context) {
        this.context = Objects.requireNonNull(context, "context");
    }

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter out = spec.commandLine().getOut();
        IngestMetrics metrics = new IngestMetrics(context.meterRegistry());
        try (OrderPublisher publisher = new OrderPublisher(context.producerConfig(), context.topics(), metrics, context.clock())) {
            OrderReader reader = new OrderReader(context.store(), new ProductSections(context.store(), context.catalogCacheTtl(), context.clock()));
            Backfill backfill = new Backfill(context.store(), new OrderIngest(reader, publisher), err, context.clock(), Duration.ofSeconds(1));
            Backfill.Result result = backfill.run(site, since);
            out.printf("backfill %s done: %d orders, %d published, %d dead-lettered, in %d s%n",
                    site, result.total(), result.published(), result.deadLettered(), result.took().toSeconds());
            out.flush();
            return 0;
        } catch (BitrixException | org.apache.kafka.common.KafkaException e) {
            err.println("backfill " + site + " stopped: " + e.getMessage() + " (safe to run again)");
            err.flush();
            return 1;
        }
    }
}
