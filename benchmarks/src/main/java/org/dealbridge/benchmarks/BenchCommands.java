package org.dealbridge.benchmarks;

import org.dealbridge.app.cli.CommandContribution;

/** Adds {@code bench} to {@code bin/dealbridge}. */
public final class BenchCommands implements CommandContribution {
    @Override
    public String name() {
        return "bench";
    }

    @Override
    public Object command() {
        return new BenchCommand();
    }
}
