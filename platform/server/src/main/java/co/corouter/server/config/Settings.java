package co.corouter.server.config;

import io.vertx.core.json.JsonObject;

/**
 * Typed reads of one configuration section that fail with the full key path when a value is missing or wrong.
 * Values may arrive as YAML numbers or as strings from environment overrides; both are accepted.
 */
public final class Settings {

    private final JsonObject section;
    private final String path;

    public Settings(JsonObject section, String path) {
        this.section = section == null ? new JsonObject() : section;
        this.path = path;
    }

    public static Settings of(JsonObject root, String name) {
        return new Settings(root.getJsonObject(name), name);
    }

    public Settings section(String name) {
        return new Settings(section.getJsonObject(name), path + "." + name);
    }

    public JsonObject raw() {
        return section;
    }

    public String string(String key, String fallback) {
        Object value = section.getValue(key);
        return value == null ? fallback : value.toString();
    }

    public String requiredString(String key) {
        String value = string(key, null);
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("configuration " + path + "." + key + " is required");
        }
        return value;
    }

    public long longValue(String key, long fallback, long min, long max) {
        Object value = section.getValue(key);
        if (value == null || value.toString().isBlank()) {
            return fallback;
        }
        long parsed;
        try {
            parsed = value instanceof Integer || value instanceof Long ? ((Number) value).longValue()
                    : new java.math.BigDecimal(value.toString().trim()).longValueExact();
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("configuration " + path + "." + key + " must be an integer, was '" + value + "'");
        }
        if (parsed < min || parsed > max) {
            throw new IllegalArgumentException(
                    "configuration " + path + "." + key + " must be between " + min + " and " + max + ", was " + parsed);
        }
        return parsed;
    }

    public int intValue(String key, int fallback, int min, int max) {
        return (int) longValue(key, fallback, min, max);
    }

    public boolean bool(String key, boolean fallback) {
        Object value = section.getValue(key);
        if (value == null) {
            return fallback;
        }
        if (value instanceof Boolean b) {
            return b;
        }
        String text = value.toString().trim();
        if (text.equalsIgnoreCase("true") || text.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(text);
        }
        throw new IllegalArgumentException("configuration " + path + "." + key + " must be true or false, was '" + value + "'");
    }
}
