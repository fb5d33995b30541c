package org.dealbridge.reliability;

import java.util.ArrayList;
import java.util.List;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;

/** Every message logged in this JVM while attached: to check that an error names what was wrong (and no secret). */
final class CapturedLog extends AbstractAppender implements AutoCloseable {
    private final List<String> messages = new ArrayList<>();

    private CapturedLog() {
        super("reliability-captured", null, null, true, Property.EMPTY_ARRAY);
    }

    static CapturedLog attach() {
        CapturedLog log = new CapturedLog();
        log.start();
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        context.getConfiguration().getRootLogger().addAppender(log, null, null);
        context.getConfiguration().getLoggers().values().forEach(l -> l.addAppender(log, null, null));
        context.updateLoggers();
        return log;
    }

    @Override
    public synchronized void append(LogEvent event) {
        StringBuilder line = new StringBuilder(event.getLevel() + " " + event.getLoggerName() + " - " + event.getMessage().getFormattedMessage());
        for (Throwable t = event.getThrown(); t != null; t = t.getCause()) {
            line.append(" | ").append(t);
        }
        messages.add(line.toString());
    }

    synchronized List<String> messages() {
        return List.copyOf(messages);
    }

    @Override
    public void close() {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        context.getConfiguration().getRootLogger().removeAppender(getName());
        context.getConfiguration().getLoggers().values().forEach(l -> l.removeAppender(getName()));
        context.updateLoggers();
        stop();
    }
}
