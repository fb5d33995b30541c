package org.dealbridge.demo;

import org.dealbridge.app.cli.CommandContribution;

/** Adds {@code demo} to {@code bin/dealbridge}. */
public final class DemoCommands implements CommandContribution {
    @Override
    public String name() {
        return "demo";
    }

    @Override
    public Object command() {
        return new DemoCommand();
    }
}
