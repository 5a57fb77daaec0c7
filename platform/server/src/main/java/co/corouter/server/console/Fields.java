package co.corouter.server.console;

import co.corouter.server.accounts.Passwords;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/** Reads and checks the fields of one request body, collecting every problem before failing with them all. */
final class Fields {

    private static final Pattern EMAIL = Pattern.compile("[^\\s@]+@[^\\s@]+\\.[^\\s@]+");
    private static final Pattern LOCALE = Pattern.compile("[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})?");

    private final JsonObject body;
    private final Map<String, String> errors = new LinkedHashMap<>();

    Fields(JsonObject body) {
        this.body = body;
    }

    /** A required string; null (and an error) when it is missing, not a string, blank or longer than {@code max}. */
    String string(String field, int max) {
        Object value = body.getValue(field);
        if (!(value instanceof String text) || text.isBlank()) {
            errors.put(field, "is required");
            return null;
        }
        if (text.length() > max) {
            errors.put(field, "must be at most " + max + " characters");
            return null;
        }
        if (text.chars().anyMatch(Character::isISOControl)) {
            errors.put(field, "must not contain control characters");
            return null;
        }
        return text;
    }

    /** An optional string: null when absent; an error when present but not a valid one. */
    String optionalString(String field, int max) {
        if (body.getValue(field) == null) {
            return null;
        }
        if (body.getValue(field) instanceof String text && text.isEmpty()) {
            return "";
        }
        return string(field, max);
    }

    String email(String field) {
        String email = string(field, 254);
        if (email != null && !EMAIL.matcher(email.trim()).matches()) {
            errors.put(field, "is not an email address");
            return null;
        }
        return email == null ? null : email.trim();
    }

    /** A new password: at least {@link Passwords#MIN_LENGTH} characters. */
    String newPassword(String field) {
        Object value = body.getValue(field);
        if (!(value instanceof String text) || text.length() < Passwords.MIN_LENGTH) {
            errors.put(field, "must be at least " + Passwords.MIN_LENGTH + " characters");
            return null;
        }
        if (text.length() > Passwords.MAX_LENGTH) {
            errors.put(field, "must be at most " + Passwords.MAX_LENGTH + " characters");
            return null;
        }
        return text;
    }

    /** A password to check against a stored one: any string up to the maximum length. */
    String password(String field) {
        Object value = body.getValue(field);
        if (!(value instanceof String text) || text.isEmpty() || text.length() > Passwords.MAX_LENGTH) {
            errors.put(field, "is required");
            return null;
        }
        return text;
    }

    String locale(String field) {
        String locale = optionalString(field, 16);
        if (locale != null && !LOCALE.matcher(locale).matches()) {
            errors.put(field, "is not a language tag (e.g. en, de-CH)");
            return null;
        }
        return locale;
    }

    void requireTrue(String field) {
        if (!Boolean.TRUE.equals(body.getValue(field))) {
            errors.put(field, "must be true");
        }
    }

    /** Fails with a 400 naming every field at fault, if there is one. */
    void check() {
        if (!errors.isEmpty()) {
            throw ConsoleHttp.fieldErrors(errors);
        }
    }
}
