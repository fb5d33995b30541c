package org.dealbridge.emulator;

import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

/** The portal's notion of "now" and its date rendering: ISO-8601 with the portal offset, second precision. */
final class PortalTime {
    private static final DateTimeFormatter ISO = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ssxxx");
    final Clock clock;
    final ZoneOffset zone;

    PortalTime(Clock clock, ZoneOffset zone) {
        this.clock = clock;
        this.zone = zone;
    }

    Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.SECONDS);
    }

    String render(Instant instant) {
        return instant == null ? null : ISO.format(OffsetDateTime.ofInstant(instant, zone));
    }

    String nowText() {
        return render(now());
    }

    /**
     * A {@code date} field as classic CRM returns it: a datetime at midnight UTC of that day rendered in the portal
     * offset (the reference's example: {@code 2024-09-01} comes back as {@code 2024-09-01T03:00:00+03:00}).
     */
    String renderDate(LocalDate date) {
        return render(date.atStartOfDay().toInstant(ZoneOffset.UTC));
    }

    /** Parses a date input the way CRM does; unparseable input gives null and the field is silently not written. */
    LocalDate parseDate(Object value) {
        String text = Params.asString(value);
        if (text == null || text.isBlank()) {
            return null;
        }
        String s = text.trim();
        try {
            return OffsetDateTime.parse(s).toLocalDate();
        } catch (RuntimeException ignored) {
            // not an offset datetime
        }
        Instant instant = ListQuery.parseInstant(s, zone);
        return instant == null ? null : OffsetDateTime.ofInstant(instant, zone).toLocalDate();
    }

    LocalDate today() {
        return OffsetDateTime.ofInstant(now(), zone).toLocalDate();
    }
}
