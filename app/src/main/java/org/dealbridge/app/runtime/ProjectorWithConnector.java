package org.dealbridge.app.runtime;

import org.dealbridge.connector.CommandConnector;

/**
 * One direction as the runtime runs it: its projector (a Streams app, always: it only needs Kafka, and its commands
 * wait in their topic) and, when the side it writes is configured, the connector that executes them. Started and
 * stopped together, both reported to /health.
 */
final class ProjectorWithConnector implements AutoCloseable {

    private final StreamsApp projector;
    private final CommandConnector<?, ?> connector;

    /** @param connector null when the side the commands are for is not configured */
    ProjectorWithConnector(String projectorName, StreamsApp projector, CommandConnector<?, ?> connector, HealthRegistry health) {
        this.projector = projector;
        this.connector = connector;
        health.register(projectorName, projector::health);
        if (connector != null) {
            health.register(connector.component(), () -> health(connector));
        }
    }

    private static Health health(CommandConnector<?, ?> connector) {
        return switch (connector.state()) {
            // the side is away: its commands wait (none is dead-lettered), so ready but degraded until it is back
            case RUNNING -> connector.unreachableSince()
                    .map(since -> Health.degraded("waiting: the side it writes has been unreachable since " + since + " ("
                            + connector.unreachableReason() + "); its commands wait and run once it is back"))
                    .orElseGet(() -> Health.up("running"));
            case RESTARTING -> Health.down("restarting after a failure (see the log and dealbridge_connector_restarts_total)");
            case NEW -> Health.down("not started");
            case STOPPED -> Health.down("stopped");
        };
    }

    void start() {
        projector.start();
        if (connector != null) {
            connector.start();
        }
    }

    /** Stops the connector first: it finishes and commits the poll in progress. */
    @Override
    public void close() throws Exception {
        if (connector != null) {
            connector.close();
        }
        projector.close();
    }
}
