package co.corouter.provider.mock;

import io.vertx.core.json.JsonObject;

import java.util.OptionalInt;
import java.util.Set;

/**
 * The validated configuration of one mock provider instance.
 *
 * @param latencyMs        delay before the first byte of a stream, or before a whole answer
 * @param chunkCount       content deltas per stream (an upper bound: never more deltas than tokens)
 * @param chunkIntervalMs  delay between two stream writes; 0 writes the whole stream with one write
 * @param completionTokens tokens in an answer, capped by the request's {@code maxTokens}
 * @param promptTokens     a fixed prompt-token count, or empty to compute it from the messages
 */
public record MockOptions(
        long latencyMs,
        int chunkCount,
        long chunkIntervalMs,
        int completionTokens,
        OptionalInt promptTokens) {

    /** Beyond this, a typo rather than a wish: an hour-long simulated upstream is never useful. */
    static final long MAX_DELAY_MS = 3_600_000;
    static final int MAX_TOKENS = 1_000_000;
    static final int MAX_CHUNKS = 100_000;

    private static final Set<String> FIELDS =
            Set.of("latency_ms", "chunk_count", "chunk_interval_ms", "completion_tokens", "prompt_tokens");

    public MockOptions {
        requireRange("latency_ms", latencyMs, 0, MAX_DELAY_MS);
        requireRange("chunk_count", chunkCount, 1, MAX_CHUNKS);
        requireRange("chunk_interval_ms", chunkIntervalMs, 0, MAX_DELAY_MS);
        requireRange("completion_tokens", completionTokens, 0, MAX_TOKENS);
        if (promptTokens == null) {
            throw new IllegalArgumentException("prompt_tokens must not be null (use OptionalInt.empty())");
        }
        if (promptTokens.isPresent()) {
            requireRange("prompt_tokens", promptTokens.getAsInt(), 0, MAX_TOKENS);
        }
    }

    public static MockOptions defaults() {
        return new MockOptions(0, 8, 0, 16, OptionalInt.empty());
    }

    /**
     * Parses an instance's {@code config} section. Integers may be JSON numbers or decimal strings (values
     * overridden from the environment arrive as strings); unknown fields are refused so a typo does not
     * silently fall back to a default.
     *
     * @throws IllegalArgumentException naming the offending field
     */
    public static MockOptions from(JsonObject config) {
        JsonObject json = config == null ? new JsonObject() : config;
        for (String field : json.fieldNames()) {
            if (!FIELDS.contains(field)) {
                throw new IllegalArgumentException(
                        "unknown mock provider config field '" + field + "' (known: " + String.join(", ",
                                FIELDS.stream().sorted().toList()) + ")");
            }
        }
        MockOptions defaults = defaults();
        Long promptTokens = integer(json, "prompt_tokens");
        return new MockOptions(
                orDefault(integer(json, "latency_ms"), defaults.latencyMs()),
                intField(json, "chunk_count", defaults.chunkCount()),
                orDefault(integer(json, "chunk_interval_ms"), defaults.chunkIntervalMs()),
                intField(json, "completion_tokens", defaults.completionTokens()),
                promptTokens == null ? OptionalInt.empty() : OptionalInt.of(intField(json, "prompt_tokens", 0)));
    }

    private static Long integer(JsonObject json, String field) {
        Object value = json.getValue(field);
        if (value == null) {
            return null;
        }
        if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
            return ((Number) value).longValue();
        }
        if (value instanceof Number number) {
            double d = number.doubleValue();
            if (d == Math.rint(d) && !Double.isInfinite(d)) {
                return (long) d;
            }
        } else if (value instanceof String text) {
            try {
                return Long.parseLong(text.trim());
            } catch (NumberFormatException ignored) {
                // reported below, with the field name
            }
        }
        throw new IllegalArgumentException(field + " must be an integer, got '" + value + "'");
    }

    private static long orDefault(Long value, long fallback) {
        return value == null ? fallback : value;
    }

    /** Checks the range before narrowing, so an out-of-int value is reported as written, not wrapped. */
    private static int intField(JsonObject json, String field, int fallback) {
        Long value = integer(json, field);
        if (value == null) {
            return fallback;
        }
        requireRange(field, value, Integer.MIN_VALUE, Integer.MAX_VALUE);
        return value.intValue();
    }

    private static void requireRange(String field, long value, long min, long max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(
                    field + " must be between " + min + " and " + max + ", got " + value);
        }
    }
}
