package org.dealbridge.app.cli;

import java.nio.file.Path;
import org.dealbridge.app.config.ConfigLoader;
import org.dealbridge.app.config.DealBridgeConfig;
import picocli.CommandLine.Option;

/** {@code --config FILE}, shared by every command that needs the configuration. */
public final class ConfigOption {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "YAML configuration (nested or dotted keys); DEALBRIDGE_* environment variables override it. Without it: defaults and environment only.")
    Path file;

    public DealBridgeConfig load() {
        return ConfigLoader.load(file, System.getenv());
    }
}
