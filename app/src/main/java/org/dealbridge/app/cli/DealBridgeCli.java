package org.dealbridge.app.cli;

import java.util.ServiceLoader;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code bin/dealbridge}: the launcher. Built-in commands live here; modules that are not part of every
 * deployment (the demo and benchmarks, which need the emulators) contribute theirs through
 * {@link CommandContribution} service entries, so production never depends on them.
 */
@Command(name = "dealbridge", mixinStandardHelpOptions = true, versionProvider = DealBridgeCli.Version.class,
        description = "Keeps a 1C-Bitrix store and a Bitrix24 CRM in sync through Apache Kafka.",
        subcommands = {RunCommand.class, CommandLine.HelpCommand.class})
public final class DealBridgeCli {

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new DealBridgeCli());
        for (CommandContribution contribution : ServiceLoader.load(CommandContribution.class)) {
            cli.addSubcommand(contribution.name(), contribution.command());
        }
        cli.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            cmd.getErr().println(cmd.getColorScheme().errorText("error: " + ex.getMessage()));
            return ex instanceof org.apache.kafka.common.config.ConfigException ? 2 : 1;
        });
        return cli;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = DealBridgeCli.class.getPackage().getImplementationVersion();
            return new String[] {"DealBridge " + (v == null ? "development build" : v)};
        }
    }
}
