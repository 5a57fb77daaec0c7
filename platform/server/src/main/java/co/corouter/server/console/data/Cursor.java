package co.corouter.server.console.data;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Base64;

/**
 * A keyset position in a list ordered newest first by (created_at, id): opaque to the client (base64url of
 * {@code <epoch micros>:<id>}). The next page holds what comes strictly after it.
 */
record Cursor(OffsetDateTime at, String id) {

    static Cursor of(OffsetDateTime at, String id) {
        return new Cursor(at, id);
    }

    static Cursor of(String createdAtIso, String id) {
        return new Cursor(OffsetDateTime.ofInstant(Instant.parse(createdAtIso), ZoneOffset.UTC), id);
    }

    String encode() {
        long micros = ChronoUnit.MICROS.between(Instant.EPOCH, at.toInstant());
        return Base64.getUrlEncoder().withoutPadding()
                .encodeToString((micros + ":" + id).getBytes(StandardCharsets.UTF_8));
    }

    /** The cursor the client sent, or null without one; a malformed one is a 400 on {@code cursor}. */
    static Cursor decode(String text) {
        if (text == null) {
            return null;
        }
        try {
            String plain = new String(Base64.getUrlDecoder().decode(text), StandardCharsets.UTF_8);
            int colon = plain.indexOf(':');
            long micros = Long.parseLong(plain.substring(0, colon));
            String id = plain.substring(colon + 1);
            if (id.isEmpty() || id.length() > 64) {
                throw new IllegalArgumentException();
            }
            Instant at = Instant.EPOCH.plus(micros, ChronoUnit.MICROS);
            return new Cursor(OffsetDateTime.ofInstant(at, ZoneOffset.UTC), id);
        } catch (RuntimeException e) {
            throw Replies.fieldError("cursor", "'cursor' is not a cursor this list gave out");
        }
    }
}
