package org.dealbridge.operations;

import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.dealbridge.schemas.DeadLetter;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dealbridge dlq list [--site s1]}, {@code dlq replay ID|--all} and {@code dlq retire ID --note "…"}. */
@Command(name = "dlq", mixinStandardHelpOptions = true,
        description = "Dead letters: records DealBridge gave up on, with the reason. List them, fix the cause, replay them (or retire them with a note).")
public class DeadLetterCommand {
    private final OperationsContext.Opener opener;

    public DeadLetterCommand(OperationsContext.Opener opener) {
        this.opener = Objects.requireNonNull(opener, "opener");
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the current dead letters, oldest first (with --gone, first those replayed or retired).")
    int list(@Option(names = "--site", paramLabel = "SITE", description = "Only this store site, e.g. s1.") String site,
             @Option(names = "--gone", description = {"Also list the dead letters replayed or retired (with the note and who wrote it),",
                     "as long as the topic keeps their tombstones (a day by default)."}) boolean gone) {
        try (OperationsContext ctx = opener.open()) {
            DeadLetterQueue queue = new DeadLetterQueue(ctx.kafkaClientProperties(), ctx.topics());
            if (gone) {
                List<DeadLetterQueue.Gone> done = queue.gone(site);
                for (DeadLetterQueue.Gone g : done) {
                    ctx.out().println(String.format(Locale.ROOT, "%-38s %-24s %s", g.letter().getId(), g.at(), g.replayed() ? "replayed"
                            : "retired by " + (g.by() == null ? "unknown" : g.by()) + ": " + g.note()));
                }
                ctx.out().println(done.size() + " replayed or retired" + (site == null ? "" : " for site " + site));
            }
            List<DeadLetter> current = queue.current(site);
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
            description = {"Replay a dead letter and retire it, in one transaction. Run it after fixing the cause.",
                    "A command the CRM or the store refused is not sent again (the order or deal may have changed since): the pair's",
                    "latest change event is published again, so the projector decides it against the current state. Any other record",
                    "goes back to its source topic as it was. A replayed dead letter is gone, so running it again replays nothing;",
                    "a record arriving twice anyway is harmless because every write downstream is idempotent."})
    int replay(@ArgGroup(exclusive = true, multiplicity = "1") Selection selection,
               @Option(names = "--site", paramLabel = "SITE", description = "With --all: only this store site.") String site) {
        try (OperationsContext ctx = opener.open()) {
            DeadLetterQueue queue = new DeadLetterQueue(ctx.kafkaClientProperties(), ctx.topics(), ctx.portalRereads());
            List<DeadLetter> current = queue.current(selection.all ? site : null);
            List<DeadLetter> chosen = selection.all ? current
                    : current.stream().filter(d -> d.getId().equals(selection.id)).toList();
            if (!selection.all && chosen.isEmpty()) {
                ctx.err().println("no current dead letter has id '" + selection.id + "' (already replayed, or never existed); see dlq list");
                return 1;
            }
            DeadLetterQueue.ReplayResult result = queue.replay(chosen);
            for (DeadLetter d : result.replayed()) {
                ctx.out().println("replayed " + d.getId() + " to " + result.sentTo().getOrDefault(d.getId(), d.getSourceTopic())
                        + " (" + d.getComponent() + ": " + reason(d) + ")");
            }
            for (String r : result.refused()) {
                ctx.err().println("not replayed " + r);
            }
            ctx.out().println(result.replayed().size() + " replayed, " + result.refused().size() + " not replayed");
            return result.refused().isEmpty() ? 0 : 1;
        }
    }

    @Command(name = "retire", mixinStandardHelpOptions = true,
            description = {"Retire a dead letter without replaying it, saying why (the order was fixed by hand, it was a test).",
                    "The note and who retired it stay on the dead letter's tombstone, and trace shows them."})
    int retire(@Parameters(paramLabel = "ID", description = "The dead letter to retire (see dlq list).") String id,
               @Option(names = "--note", required = true, paramLabel = "TEXT", description = "Why it is retired without a replay.") String note) {
        try (OperationsContext ctx = opener.open()) {
            DeadLetter d;
            try {
                d = new DeadLetterQueue(ctx.kafkaClientProperties(), ctx.topics()).retire(id, note, retiredBy());
            } catch (IllegalArgumentException e) {
                ctx.err().println("error: " + e.getMessage() + "; see dlq list");
                return 1;
            }
            ctx.out().println("retired " + d.getId() + " without replay (" + d.getComponent() + ": " + reason(d) + "): " + note.strip());
            return 0;
        }
    }

    /** Who retires from the command line: the operating-system user, as the console names its signed-in user. */
    private static String retiredBy() {
        return "cli:" + System.getProperty("user.name", "unknown");
    }

    private static String reason(DeadLetter d) {
        return d.getErrorCode() == null ? d.getReason() : d.getReason() + " [" + d.getErrorCode() + "]";
    }
}
