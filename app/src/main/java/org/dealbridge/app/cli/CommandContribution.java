package org.dealbridge.app.cli;

/**
 * A command a module adds to {@code bin/dealbridge}, found with {@link java.util.ServiceLoader}
 * (file {@code META-INF/services/org.dealbridge.app.cli.CommandContribution}).
 */
public interface CommandContribution {
    /** The subcommand name, e.g. {@code demo}. */
    String name();

    /** A picocli command object (annotated with {@code @Command}). */
    Object command();
}
