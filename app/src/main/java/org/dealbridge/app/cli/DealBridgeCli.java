package org.dealbridge.app.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Properties;
import java.util.ServiceLoader;
import java.util.function.Consumer;
import org.dealbridge.app.config.ConfigLoader;
import org.dealbridge.app.config.DealBridgeConfig;
import org.dealbridge.mapping.cli.MappingCommand;
import org.dealbridge.operations.DeadLetterCommand;
import org.dealbridge.operations.TraceCommand;
import org.dealbridge.orderevents.BackfillCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * {@code bin/dealbridge}: the launcher. Built-in commands are registered here; modules that are not part of every
 * deployment (the demo and benchmarks, which need the emulators) contribute theirs through
 * {@link CommandContribution} service entries, so production never depends on them.
 */
@Command(name = "dealbridge", mixinStandardHelpOptions = true, versionProvider = DealBridgeCli.Version.class,
        description = "Keeps a 1C-Bitrix store and a Bitrix24 CRM in sync through Apache Kafka.",
        subcommands = {RunCommand.class, CommandLine.HelpCommand.class})
public final class DealBridgeCli {
    private Path configFile;
    private DealBridgeConfig config;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", scope = ScopeType.INHERIT,
            description = "YAML configuration (nested or dotted keys); DEALBRIDGE_* environment variables override it. "
                    + "Without it: defaults and environment only.")
    void setConfigFile(Path file) {
        this.configFile = file;
    }

    /** The configuration, loaded once when a command first needs it. */
    public synchronized DealBridgeConfig config() {
        if (config == null) {
            config = ConfigLoader.load(configFile, System.getenv());
        }
        return config;
    }

    public static void main(String[] args) {
        CommandLine cli = commandLine();
        int exit = cli.execute(args);
        // picocli's writers flush only on println: what a command print()s last would be lost in System.exit
        cli.getOut().flush();
        cli.getErr().flush();
        System.exit(exit);
    }

    public static CommandLine commandLine() {
        DealBridgeCli root = new DealBridgeCli();
        CommandLine cli = new CommandLine(root);
        cli.addSubcommand("mapping", new MappingCommand(() -> new LauncherContext(root::config).forMapping()));
        cli.addSubcommand("backfill", new BackfillCommand(new LauncherContext(root::config).forBackfill()));
        cli.addSubcommand("dlq", new DeadLetterCommand(() -> new LauncherContext(root::config).forOperations()));
        cli.addSubcommand("trace", new TraceCommand(() -> new LauncherContext(root::config).forOperations()));
        for (CommandContribution contribution : ServiceLoader.load(CommandContribution.class)) {
            cli.addSubcommand(contribution.name(), contribution.command());
        }
        cli.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            cmd.getErr().println(cmd.getColorScheme().errorText("error: " + ex.getMessage()));
            return ex instanceof org.apache.kafka.common.config.ConfigException ? 2 : 1;
        });
        // a subcommand's -V/--version printed an empty line: picocli gives the version provider to the root only
        everyCommand(cli, c -> c.getCommandSpec().versionProvider(new Version()));
        // one pair of writers for the whole tree (each command would otherwise make its own), so main can flush them
        cli.setOut(cli.getOut());
        cli.setErr(cli.getErr());
        return cli;
    }

    private static void everyCommand(CommandLine command, Consumer<CommandLine> action) {
        action.accept(command);
        command.getSubcommands().values().forEach(sub -> everyCommand(sub, action));
    }

    /** The project version Maven wrote into {@code version.properties} when it built these classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (InputStream in = DealBridgeCli.class.getResourceAsStream("version.properties")) {
                if (in == null) {
                    throw new IllegalStateException("version.properties is missing from the launcher's classes: rebuild");
                }
                p.load(in);
            }
            return new String[] {"DealBridge " + p.getProperty("version")};
        }
    }
}
