package org.dealbridge.operations;

import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.dealbridge.schemas.DeadLetter;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dealbridge dlq list [--site s1]} and {@code dealbridge dlq replay ID|--all}. */
@Command(name = "dlq", mixinStandardHelpOptions = true,
        description = "Dead letters: records DealBridge gave up on, with the reason. List them, fix the cause, replay them.")
public class DeadLetterCommand {
    private final OperationsContext.Opener opener;

    public DeadLetterCommand(OperationsContext.Opener opener) {
        this.opener = Objects.requireNonNull(opener, "opener");
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the current dead letters, oldest first.")
    int list(@Option(names = "--site", paramLabel = "SITE", description = "Only this store site, e.g. s1.") String site) {
        try (OperationsContext ctx = opener.open()) {
            List<DeadLetter> current = new DeadLetterQueue(ctx.kafkaClientProperties(), ctx.topics()).current(site);
            ctx.out().println(String.format(Locale.ROOT, "%-38s %-24s %-16s %-6s %-8s %s", "ID", "FAILED AT", "COMPONENT", "SITE", "ATTEMPTS", "REASON"));
            for (DeadLetter d : current) {
                ctx.out().println(String.format(Locale.ROOT, "%-38s %-24s %-16s %-6s %-8d %s", d.getId(), d.getFailedAt(), d.getComponent(),
                        d.getSiteId() == null ? "-" : d.getSiteId(), d.getAttempts(), reason(d)));
            }
            ctx.out().println(current.size() + " dead letter(s)" + (site == null ? "" : " for site " + site));
            return 0;
        }
    }

    static final class Selection {
        @Parameters(paramLabel = "ID", description = "The dead letter to replay (see dlq list).")
        String id;
        @Option(names = "--all", required = true, description = "Replay every current dead letter.")
        boolean all;
    }

    @Command(name = "replay", mixinStandardHelpOptions = true,
            description = {"Re-publish a dead letter's original record to its source topic and retire the dead letter, in one transaction.",
                    "Run it after fixing the cause. A replayed dead letter is gone, so running it again replays nothing;",
                    "a record arriving twice anyway is harmless because every write downstream is idempotent."})
    int replay(@ArgGroup(exclusive = true, multiplicity = "1") Selection selection,
               @Option(names = "--site", paramLabel = "SITE", description = "With --all: only this store site.") String site) {
        try (OperationsContext ctx = opener.open()) {
            DeadLetterQueue queue = new DeadLetterQueue(ctx.kafkaClientProperties(), ctx.topics());
            List<DeadLetter> current = queue.current(selection.all ? site : null);
            List<DeadLetter> chosen = selection.all ? current
                    : current.stream().filter(d -> d.getId().equals(selection.id)).toList();
            if (!selection.all && chosen.isEmpty()) {
                ctx.err().println("no current dead letter has id '" + selection.id + "' (already replayed, or never existed); see dlq list");
                return 1;
            }
            DeadLetterQueue.ReplayResult result = queue.replay(chosen);
            for (DeadLetter d : result.replayed()) {
                ctx.out().println("replayed " + d.getId() + " to " + d.getSourceTopic() + " (" + d.getComponent() + ": " + reason(d) + ")");
            }
            for (String r : result.refused()) {
                ctx.err().println("not replayed " + r);
            }
            ctx.out().println(result.replayed().size() + " replayed, " + result.refused().size() + " not replayed");
            return result.refused().isEmpty() ? 0 : 1;
        }
    }

    private static String reason(DeadLetter d) {
        return d.getErrorCode() == null ? d.getReason() : d.getReason() + " [" + d.getErrorCode() + "]";
    }
}
