package co.corouter.provider.anthropic;

import co.corouter.plugin.api.Usage;
import io.vertx.core.json.JsonObject;

/**
 * Anthropic's {@code usage} in corouter's terms. Anthropic's {@code input_tokens} is the uncached input only: the
 * prompt is {@code input_tokens + cache_read_input_tokens + cache_creation_input_tokens}, of which the reads are
 * {@link Usage#cachedTokens()} and the creations {@link Usage#cacheWriteTokens()} (specs/anthropic-messages.md §2).
 */
final class Usages {

    private Usages() {
    }

    /** The reported usage, or {@code null} when {@code usage} is missing or has no token counts. */
    static Usage reported(Object usage) {
        if (!(usage instanceof JsonObject u) || count(u, "input_tokens") < 0 || count(u, "output_tokens") < 0) {
            return null;
        }
        return usage(count(u, "input_tokens"), Math.max(0, count(u, "cache_read_input_tokens")),
                Math.max(0, count(u, "cache_creation_input_tokens")), count(u, "output_tokens"),
                thinkingTokens(u), false);
    }

    /**
     * A usage from its parts: {@code input} uncached, {@code cacheRead} and {@code cacheCreation} input tokens, and
     * {@code output} tokens of which {@code thinking} were reasoning.
     */
    static Usage usage(int input, int cacheRead, int cacheCreation, int output, int thinking, boolean estimated) {
        return new Usage(input + cacheRead + cacheCreation, output, cacheRead, Math.min(thinking, output), estimated,
                cacheCreation);
    }

    /** {@code output_tokens_details.thinking_tokens} (newer API versions), or 0. */
    static int thinkingTokens(JsonObject usage) {
        return usage.getValue("output_tokens_details") instanceof JsonObject details
                ? Math.max(0, count(details, "thinking_tokens")) : 0;
    }

    /** A non-negative integer field, or -1 when it is missing, null or not one. */
    static int count(JsonObject object, String field) {
        return object.getValue(field) instanceof Number n && n.longValue() >= 0 && n.longValue() <= Integer.MAX_VALUE
                ? n.intValue() : -1;
    }
}
