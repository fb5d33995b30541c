package org.dealbridge.mapping.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import org.dealbridge.mapping.DocumentCheck;
import org.dealbridge.mapping.LiveMappingValidator;
import org.dealbridge.mapping.MappingDocument;
import org.dealbridge.mapping.MappingError;
import org.dealbridge.mapping.MappingInvalidException;
import org.dealbridge.mapping.MappingPublisher;
import org.dealbridge.mapping.MappingScaffold;
import org.dealbridge.mapping.MappingTopicReader;
import org.dealbridge.mapping.MappingTopics;
import org.dealbridge.mapping.MappingValidator;
import org.dealbridge.schemas.MappingProfile;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code dealbridge mapping ...}: validate, publish, inspect and roll back mapping documents.
 * Exit codes: 0 done, 2 the document is invalid (nothing was published), 1 any other failure.
 *
 * <p>The launcher registers it with {@code addSubcommand("mapping", new MappingCommand(contextSupplier))}.
 */
@Command(name = "mapping", mixinStandardHelpOptions = true,
        description = "Validate, publish, inspect and roll back the per-site mapping documents (see MAPPING.md).",
        subcommands = {
            MappingCommand.Validate.class, MappingCommand.Publish.class, MappingCommand.Show.class,
            MappingCommand.History.class, MappingCommand.Rollback.class, MappingCommand.Export.class,
            MappingCommand.Scaffold.class, MappingCommand.Withdraw.class})
public final class MappingCommand implements Runnable {

    /** Exit code for an invalid document. */
    public static final int INVALID_DOCUMENT = 2;
    /** Exit code for every other failure. */
    public static final int FAILED = 1;

    private final Supplier<MappingCliContext> contexts;
    private final Clock clock;

    @Spec
    CommandSpec spec;

    public MappingCommand(Supplier<MappingCliContext> contexts) {
        this(contexts, Clock.systemUTC());
    }

    public MappingCommand(Supplier<MappingCliContext> contexts, Clock clock) {
        this.contexts = contexts;
        this.clock = clock;
    }

    /** A command line for this command with its exit-code mapping (what the launcher gets from addSubcommand too). */
    public CommandLine commandLine() {
        CommandLine cli = new CommandLine(this);
        cli.setExecutionExceptionHandler(MappingCommand::handle);
        return cli;
    }

    /** Exceptions out of a subcommand: the message only (no stack trace), exit 1. */
    static int handle(Exception e, CommandLine cmd, CommandLine.ParseResult parseResult) {
        cmd.getErr().println("error: " + e.getMessage());
        return FAILED;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    // ---- shared pieces ------------------------------------------------------------------------------------------

    abstract static class Subcommand implements Callable<Integer> {
        @CommandLine.ParentCommand
        MappingCommand parent;
        @Spec
        CommandSpec spec;

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        PrintWriter err() {
            return spec.commandLine().getErr();
        }

        @Override
        public Integer call() throws Exception {
            try (MappingCliContext context = parent.contexts.get()) {
                return call(context);
            } catch (MappingInvalidException e) {
                printErrors(e.errors());
                return INVALID_DOCUMENT;
            } catch (Exception e) {
                err().println("error: " + e.getMessage());
                return FAILED;
            }
        }

        abstract Integer call(MappingCliContext context) throws Exception;

        void printErrors(List<MappingError> errors) {
            err().println("invalid mapping document, " + errors.size() + (errors.size() == 1 ? " error:" : " errors:"));
            errors.forEach(e -> err().println("  " + e));
            err().println("nothing was published");
        }

        MappingTopics topics(MappingCliContext context) {
            return MappingTopics.of(context.schemaRegistry(), context.topicPrefix());
        }

        MappingPublisher publisher(MappingCliContext context) {
            return new MappingPublisher(context.kafkaClientProperties(), topics(context), parent.clock);
        }

        MappingTopicReader reader(MappingCliContext context) {
            return new MappingTopicReader(context.kafkaClientProperties(), topics(context));
        }

        /** Live validation when both portals are configured, unless the admin said --offline. */
        DocumentCheck liveCheck(MappingCliContext context, boolean offline) {
            if (offline) {
                err().println("live validation skipped (--offline)");
                return DocumentCheck.NONE;
            }
            if (context.crm().isEmpty() || context.store().isEmpty()) {
                err().println("live validation skipped: the CRM and the store are not both configured");
                return DocumentCheck.NONE;
            }
            return new LiveMappingValidator(context.crm().get(), context.store().get());
        }

        void printPublication(MappingPublisher.Publication publication, boolean dryRun) {
            MappingProfile profile = publication.profile();
            String site = profile.getSiteId();
            if (publication.unchanged()) {
                out().println("unchanged: site " + site + " version " + publication.previous().get().getVersion()
                        + " in force has the same document; nothing published");
                return;
            }
            out().println(publication.previous()
                    .map(p -> "changes against site " + site + " version " + p.getVersion() + " in force:")
                    .orElse("site " + site + " has no mapping in force; the whole document is new:"));
            publication.diff().forEach(out()::println);
            if (dryRun) {
                out().println("dry run: would publish site " + site + " version " + profile.getVersion());
            } else {
                out().println("published site " + site + " version " + profile.getVersion() + " by "
                        + profile.getAuthor() + " (sha256 " + profile.getContentHash() + ")");
            }
        }

        static String read(Path file) throws IOException {
            return Files.readString(file, StandardCharsets.UTF_8);
        }

        static String defaultAuthor() {
            return System.getProperty("user.name", "unknown");
        }

        MappingProfile latestOrFail(MappingCliContext context, String site) {
            Map<String, MappingProfile> latest = reader(context).latestBySite();
            MappingProfile profile = latest.get(site);
            if (profile == null) {
                throw new IllegalArgumentException("site " + site + " has no mapping; sites with one: "
                        + latest.keySet().stream().sorted().toList());
            }
            return profile;
        }
    }

    /** {@code -o/--output FILE}: where a command that prints a whole document puts it. */
    static final class DocumentOutput {
        @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write to FILE instead of standard output.")
        Path file;

        void write(String document, Subcommand command) throws IOException {
            if (file != null) {
                Files.writeString(file, document, StandardCharsets.UTF_8);
                command.err().println("wrote " + file);
            } else {
                command.out().print(document);
                command.out().flush();
            }
        }
    }

    // ---- subcommands --------------------------------------------------------------------------------------------

    @Command(name = "validate", mixinStandardHelpOptions = true,
            description = "Check a document offline and, with --live, against the CRM and the store. Exit 2 when invalid.")
    static final class Validate extends Subcommand {
        @Parameters(paramLabel = "FILE", description = "The mapping document (YAML).")
        Path file;
        @Option(names = "--live", description = "Also check every id against the live CRM and store.")
        boolean live;

        @Override
        public Integer call() throws Exception {
            if (!live) {  // offline validation needs nothing from the launcher
                try {
                    return validate(null);
                } catch (IOException e) {
                    err().println("error: cannot read " + file + ": " + e.getMessage());
                    return FAILED;
                }
            }
            return super.call();
        }

        @Override
        Integer call(MappingCliContext context) throws Exception {
            return validate(context);
        }

        private Integer validate(MappingCliContext context) throws IOException {
            String yaml = read(file);
            List<MappingError> errors = MappingValidator.validate(yaml);
            if (errors.isEmpty() && context != null) {
                if (context.crm().isEmpty() || context.store().isEmpty()) {
                    err().println("error: --live needs both the CRM and the store webhooks configured");
                    return FAILED;
                }
                errors = new LiveMappingValidator(context.crm().get(), context.store().get())
                        .check(MappingDocument.parse(yaml));
            }
            if (!errors.isEmpty()) {
                err().println(file + ": invalid, " + errors.size() + (errors.size() == 1 ? " error:" : " errors:"));
                errors.forEach(e -> err().println("  " + e));
                return INVALID_DOCUMENT;
            }
            MappingDocument doc = MappingDocument.parse(yaml);
            out().println(file + ": valid" + (context != null ? " (checked live)" : " (offline)") + ", site "
                    + doc.site() + ", pipelines " + doc.stages().keySet());
            return 0;
        }
    }

    @Command(name = "publish", mixinStandardHelpOptions = true,
            description = "Validate (live too when the CRM and store are configured), show the diff against the "
                    + "version in force and publish the next version. Exit 2 when invalid; nothing is published then.")
    static final class Publish extends Subcommand {
        @Parameters(paramLabel = "FILE", description = "The mapping document (YAML).")
        Path file;
        @Option(names = "--dry-run", description = "Validate and show the diff; publish nothing.")
        boolean dryRun;
        @Option(names = "--offline", description = "Skip live validation even when the CRM and store are configured.")
        boolean offline;
        @Option(names = "--author", paramLabel = "NAME", description = "Recorded as the author (default: the OS user).")
        String author;

        @Override
        Integer call(MappingCliContext context) throws Exception {
            String yaml = read(file);
            MappingPublisher.Publication publication = publisher(context).publish(yaml,
                    author == null ? defaultAuthor() : author, dryRun, liveCheck(context, offline));
            printPublication(publication, dryRun);
            return 0;
        }
    }

    // Not mixinStandardHelpOptions: its -V/--version would clash with --version N and picocli then drops -h/--help too.
    @Command(name = "show",
            description = "Show a site's mapping (the latest published, or --version N) with who published it and when.")
    static final class Show extends Subcommand {
        @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
        boolean help;
        @Parameters(paramLabel = "SITE")
        String site;
        @Option(names = "--version", paramLabel = "N", description = "A version from the history.")
        Long version;

        @Override
        Integer call(MappingCliContext context) {
            MappingProfile profile;
            if (version == null) {
                profile = latestOrFail(context, site);
            } else {
                List<MappingProfile> history = reader(context).history(site);
                profile = history.stream().filter(p -> p.getVersion() == version).findFirst()
                        .orElseThrow(() -> new IllegalArgumentException("site " + site + " has no version " + version
                                + "; its versions: " + history.stream().map(MappingProfile::getVersion).toList()));
            }
            out().println("# site " + profile.getSiteId() + " version " + profile.getVersion() + ", published "
                    + profile.getPublishedAt() + " by " + profile.getAuthor() + ", sha256 " + profile.getContentHash());
            out().print(profile.getDocument());
            if (!profile.getDocument().endsWith("\n")) {
                out().println();
            }
            return 0;
        }
    }

    @Command(name = "history", mixinStandardHelpOptions = true, description = "List every published version of a site.")
    static final class History extends Subcommand {
        @Parameters(paramLabel = "SITE")
        String site;

        @Override
        Integer call(MappingCliContext context) {
            MappingTopicReader reader = reader(context);
            List<MappingProfile> history = reader.history(site);
            if (history.isEmpty()) {
                throw new IllegalArgumentException("site " + site + " has never had a mapping published");
            }
            Optional<Long> latest = reader.latest(site).map(MappingProfile::getVersion);
            out().printf("%-8s %-24s %-20s %-12s%n", "VERSION", "PUBLISHED", "AUTHOR", "SHA256");
            for (MappingProfile p : history) {
                out().printf("%-8d %-24s %-20s %-12s%s%n", p.getVersion(), p.getPublishedAt(), p.getAuthor(),
                        p.getContentHash().substring(0, 12),
                        latest.isPresent() && latest.get() == p.getVersion() ? "  (latest)" : "");
            }
            if (latest.isEmpty()) {
                out().println("site " + site + " has no mapping now (it was withdrawn)");
            }
            return 0;
        }
    }

    @Command(name = "rollback", mixinStandardHelpOptions = true,
            description = "Publish an earlier version's document again, as a new version (versions only grow).")
    static final class Rollback extends Subcommand {
        @Parameters(paramLabel = "SITE")
        String site;
        @Option(names = "--to", paramLabel = "N", required = true, description = "The version to go back to.")
        long to;
        @Option(names = "--dry-run", description = "Show the diff; publish nothing.")
        boolean dryRun;
        @Option(names = "--offline", description = "Skip live validation.")
        boolean offline;
        @Option(names = "--author", paramLabel = "NAME", description = "Recorded as the author (default: the OS user).")
        String author;

        @Override
        Integer call(MappingCliContext context) {
            MappingPublisher.Publication publication = publisher(context).rollback(site, to,
                    author == null ? defaultAuthor() : author, dryRun, liveCheck(context, offline));
            printPublication(publication, dryRun);
            return 0;
        }
    }

    @Command(name = "export", mixinStandardHelpOptions = true,
            description = "Print the latest published document of a site exactly as published.")
    static final class Export extends Subcommand {
        @Parameters(paramLabel = "SITE")
        String site;
        @Mixin
        DocumentOutput output;

        @Override
        Integer call(MappingCliContext context) throws IOException {
            output.write(latestOrFail(context, site).getDocument(), this);
            return 0;
        }
    }

    @Command(name = "scaffold", mixinStandardHelpOptions = true,
            description = "Write a starting document from the live CRM and store: every pipeline with its stages, every status.")
    static final class Scaffold extends Subcommand {
        @Option(names = "--live", required = true, description = "Read the live CRM and store (required: there is no other source).")
        boolean live;
        @Option(names = "--site", paramLabel = "SITE", defaultValue = "s1", description = "Site id (default: ${DEFAULT-VALUE}).")
        String site;
        @Mixin
        DocumentOutput output;

        @Override
        Integer call(MappingCliContext context) throws IOException {
            if (context.crm().isEmpty() || context.store().isEmpty()) {
                throw new IllegalStateException("scaffold needs both the CRM and the store webhooks configured");
            }
            output.write(MappingScaffold.generate(site, context.crm().get(), context.store().get()), this);
            return 0;
        }
    }

    @Command(name = "withdraw", mixinStandardHelpOptions = true,
            description = "Remove a site's mapping (a tombstone): sync for the site stops. History is kept.")
    static final class Withdraw extends Subcommand {
        @Parameters(paramLabel = "SITE")
        String site;
        @Option(names = "--yes", required = true, description = "Confirm: sync for the site stops.")
        boolean yes;

        @Override
        Integer call(MappingCliContext context) {
            latestOrFail(context, site);
            publisher(context).withdraw(site);
            out().println("withdrew the mapping of site " + site + "; sync for it stops");
            return 0;
        }
    }
}
