package org.dealbridge.app.runtime;

import java.net.URISyntaxException;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.LogManager;

/** Switches log4j to the JSON layout when {@code log.format=json}. */
public final class Logging {
    private Logging() {
    }

    public static void apply(String format) {
        if (!"json".equals(format)) {
            return;
        }
        try {
            LoggerContext context = (LoggerContext) LogManager.getContext(false);
            context.setConfigLocation(Logging.class.getResource("/log4j2-json.xml").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot load the JSON log configuration", e);
        }
    }
}
