package org.dealbridge.bitrix;

import java.util.ArrayList;
import java.util.List;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;

/** Captures every log line of {@code org.dealbridge.bitrix} at DEBUG and above, with stack traces, while open. */
final class CapturedLogs extends AbstractAppender implements AutoCloseable {
    private static final String LOGGER = "org.dealbridge.bitrix";
    private final List<String> lines = new ArrayList<>();
    private final LoggerContext context = (LoggerContext) LogManager.getContext(false);
    private final LoggerConfig previous;

    CapturedLogs() {
        super("captured", null, null, true, Property.EMPTY_ARRAY);
        start();
        Configuration config = context.getConfiguration();
        previous = config.getLoggerConfig(LOGGER);
        LoggerConfig capture = new LoggerConfig(LOGGER, Level.DEBUG, true);
        capture.addAppender(this, Level.DEBUG, null);
        config.addLogger(LOGGER, capture);
        context.updateLoggers();
    }

    @Override
    public synchronized void append(LogEvent event) {
        StringBuilder sb = new StringBuilder(event.getMessage().getFormattedMessage());
        for (Throwable t = event.getThrown(); t != null; t = t.getCause()) {
            sb.append(" | ").append(t);
        }
        lines.add(sb.toString());
    }

    synchronized List<String> lines() {
        return List.copyOf(lines);
    }

    @Override
    public void close() {
        Configuration config = context.getConfiguration();
        config.removeLogger(LOGGER);
        if (previous.getName().equals(LOGGER)) {
            config.addLogger(LOGGER, previous);
        }
        context.updateLoggers();
        stop();
    }
}
