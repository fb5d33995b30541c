package org.dealbridge.operations;

import java.util.Objects;
import java.util.concurrent.Callable;
import org.dealbridge.schemas.Keys;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code dealbridge trace s1:5001}: why has this order (no) deal. */
@Command(name = "trace", mixinStandardHelpOptions = true,
        description = {"Print the story of one order from the topics: events, decisions with reasons, commands, API results, the linked deal.",
                "Scans each topic from its beginning (no consumer group, nothing is changed)."})
public class TraceCommand implements Callable<Integer> {
    private final OperationsContext.Opener opener;

    @Parameters(index = "0", paramLabel = "ORDER", description = "The order key {siteId}:{orderId}, e.g. s1:5001.")
    String order;

    public TraceCommand(OperationsContext.Opener opener) {
        this.opener = Objects.requireNonNull(opener, "opener");
    }

    @Override
    public Integer call() {
        Keys.OrderKey key = Keys.parseOrder(order);
        try (OperationsContext ctx = opener.open()) {
            OrderTrace.Story story = new OrderTrace(ctx.kafkaClientProperties(), ctx.topics()).of(key);
            ctx.out().println("Order " + key);
            if (story.entries().isEmpty()) {
                ctx.out().println("  nothing on the topics: the order never reached DealBridge (check the store hook/poller and dlq list)");
                return 1;
            }
            for (OrderTrace.Entry e : story.entries()) {
                ctx.out().println(String.format("  %-24s %-14s %s", e.at(), e.topic(), e.text()));
            }
            ctx.out().println(story.linkedDeals().isEmpty()
                    ? "No deal is linked; the entries above say why."
                    : "Linked deal: " + story.linkedDeals().iterator().next());
            return 0;
        }
    }
}
