package org.dealbridge.reliability;

import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.Layout;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.ConfigurationFactory;
import org.apache.logging.log4j.core.config.ConfigurationSource;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.logging.log4j.core.config.Property;

/**
 * Every message logged in this JVM while attached: to check that an error names what was wrong (and no secret).
 * {@link #attachRendering} also writes each event as the launcher's own log configurations would print it (every
 * layout DealBridge ships, stack traces included), with chosen loggers turned up to DEBUG.
 */
final class CapturedLog extends AbstractAppender implements AutoCloseable {
    /** The log configurations DealBridge ships (app/src/main/resources): text, and JSON for {@code log.format=json}. */
    static final List<String> SHIPPED_CONFIGURATIONS = List.of("/log4j2.xml", "/log4j2-json.xml");

    private final List<String> messages = new ArrayList<>();
    private final List<Layout<?>> layouts;
    private final StringBuilder rendered = new StringBuilder();
    private final boolean levelsChanged;

    private CapturedLog(List<Layout<?>> layouts, boolean levelsChanged) {
        super("reliability-captured", null, null, true, Property.EMPTY_ARRAY);
        this.layouts = layouts;
        this.levelsChanged = levelsChanged;
    }

    static CapturedLog attach() {
        return attach(new CapturedLog(List.of(), false));
    }

    /**
     * Captures as {@link #attach()} does, and renders every event through each layout of {@link #SHIPPED_CONFIGURATIONS}
     * into {@link #rendered()}; {@code debugLoggers} log at DEBUG until {@link #close()} (which restores the test
     * configuration).
     */
    static CapturedLog attachRendering(String... debugLoggers) {
        List<Layout<?>> layouts = SHIPPED_CONFIGURATIONS.stream().<Layout<?>>map(CapturedLog::shippedLayout).toList();
        for (String logger : debugLoggers) {
            Configurator.setLevel(logger, Level.DEBUG);
        }
        return attach(new CapturedLog(layouts, debugLoggers.length > 0));
    }

    /** The layout of the console appender of a shipped configuration, built as log4j builds it at start. */
    private static Layout<?> shippedLayout(String resource) {
        try {
            var source = ConfigurationSource.fromUri(CapturedLog.class.getResource(resource).toURI());
            Configuration shipped = ConfigurationFactory.getInstance().getConfiguration(new LoggerContext("shipped" + resource), source);
            shipped.initialize();
            return shipped.getAppenders().values().iterator().next().getLayout();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static CapturedLog attach(CapturedLog log) {
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
        for (Layout<?> layout : layouts) {
            rendered.append(layout.toSerializable(event)).append('\n');
        }
    }

    /** Every event as the shipped layouts print it (empty unless attached by {@link #attachRendering}). */
    synchronized String rendered() {
        return rendered.toString();
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
        if (levelsChanged) {
            context.reconfigure();  // back to the test configuration's levels
        }
    }
}
