package co.corouter.server.common;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;

/**
 * How every API answer writes a point in time: UTC, always with seconds and exactly six fractional digits
 * (PostgreSQL's precision), so equal instants are equal strings and the strings sort as the instants do.
 * {@link Instant#toString()} drops a zero fraction and {@link OffsetDateTime#toString()} even zero seconds.
 */
public final class Timestamps {

    private static final DateTimeFormatter ISO_MICROS = new DateTimeFormatterBuilder().appendInstant(6).toFormatter();

    private Timestamps() {
    }

    public static String iso(Instant instant) {
        return ISO_MICROS.format(instant);
    }

    public static String iso(OffsetDateTime time) {
        return time == null ? null : ISO_MICROS.format(time.toInstant());
    }
}
