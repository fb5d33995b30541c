package org.dealbridge.app.config;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/** Durations as ISO-8601 ({@code PT30S}) or the short forms admins write ({@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}). */
final class DurationValidator implements ConfigDef.Validator {
    private static final Pattern SHORT = Pattern.compile("(\\d+)\\s*(ms|s|m|h)");
    private final Duration minimum;

    DurationValidator(Duration minimum) {
        this.minimum = minimum;
    }

    static Duration parse(String text) {
        String s = text.trim();
        Matcher m = SHORT.matcher(s.toLowerCase());
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofHours(n);
            };
        }
        return Duration.parse(s);
    }

    @Override
    public void ensureValid(String name, Object value) {
        Duration d;
        try {
            d = parse(String.valueOf(value));
        } catch (DateTimeParseException e) {
            throw new ConfigException(name, value, "not a duration: use ISO-8601 like PT30S, or 500ms, 30s, 5m, 1h");
        }
        if (d.compareTo(minimum) < 0) {
            throw new ConfigException(name, value, "must be at least " + minimum);
        }
    }

    @Override
    public String toString() {
        return "a duration of at least " + minimum + " (PT30S, 30s, 5m, 1h)";
    }
}
