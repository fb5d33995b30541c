package org.dealbridge.bitrix;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import java.io.IOException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

/**
 * How dates go TO the portal (reference §0, §13.11): datetimes as {@code YYYY-MM-DDThh:mm:ss±hh:mm} — whole seconds
 * (the portal stores seconds; truncating a {@code >} filter bound can only re-include, never skip) and a numeric offset,
 * never {@code Z} — and dates as {@code YYYY-MM-DD}. {@link Instant}s are written in UTC.
 */
public final class BitrixDateTimes {
    private static final DateTimeFormatter DATE_TIME = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ssxxx");

    private BitrixDateTimes() {
    }

    public static String format(OffsetDateTime t) {
        return t.truncatedTo(ChronoUnit.SECONDS).format(DATE_TIME);
    }

    public static String format(ZonedDateTime t) {
        return format(t.toOffsetDateTime());
    }

    public static String format(Instant t) {
        return format(t.atOffset(ZoneOffset.UTC));
    }

    public static String format(LocalDate d) {
        return d.toString();
    }

    /** The portal text of a supported temporal value, or null when {@code value} is not one. */
    static String formatIfTemporal(Object value) {
        if (value instanceof OffsetDateTime t) {
            return format(t);
        }
        if (value instanceof ZonedDateTime t) {
            return format(t);
        }
        if (value instanceof Instant t) {
            return format(t);
        }
        if (value instanceof LocalDate d) {
            return format(d);
        }
        return null;
    }

    /** Jackson serializers for the same types, so parameters may carry java.time values directly. */
    static SimpleModule jacksonModule() {
        SimpleModule module = new SimpleModule("bitrix-date-times");
        JsonSerializer<Object> asText = new JsonSerializer<>() {
            @Override
            public void serialize(Object value, JsonGenerator gen, SerializerProvider serializers) throws IOException {
                gen.writeString(formatIfTemporal(value));
            }
        };
        module.addSerializer(OffsetDateTime.class, cast(asText));
        module.addSerializer(ZonedDateTime.class, cast(asText));
        module.addSerializer(Instant.class, cast(asText));
        module.addSerializer(LocalDate.class, cast(asText));
        return module;
    }

    @SuppressWarnings("unchecked")
    private static <T> JsonSerializer<T> cast(JsonSerializer<Object> s) {
        return (JsonSerializer<T>) (JsonSerializer<?>) s;
    }
}
