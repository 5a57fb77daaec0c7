package co.corouter.provider.gemini;

import co.corouter.plugin.api.Usage;
import io.vertx.core.json.JsonObject;

/**
 * Reads Gemini's {@code usageMetadata} (spec §3): every field is optional and {@code candidatesTokenCount} is left out
 * when 0. Completion tokens are the visible output plus the thoughts (which Gemini bills as output and counts against
 * {@code maxOutputTokens}); prompt tokens include server-side tool results ({@code toolUsePromptTokenCount}), so
 * prompt + completion is Gemini's {@code totalTokenCount}.
 */
final class GeminiUsage {

    private GeminiUsage() {
    }

    /** The usage reported, or null when {@code usageMetadata} is missing or names no prompt count. */
    static Usage reported(Object usageMetadata) {
        if (!(usageMetadata instanceof JsonObject u) || !(u.getValue("promptTokenCount") instanceof Number)) {
            return null;
        }
        int prompt = count(u, "promptTokenCount") + count(u, "toolUsePromptTokenCount");
        int thoughts = count(u, "thoughtsTokenCount");
        int completion = count(u, "candidatesTokenCount") + thoughts;
        int cached = Math.min(count(u, "cachedContentTokenCount"), prompt);
        return new Usage(prompt, completion, cached, thoughts, false);
    }

    /** The prompt count of a {@code usageMetadata}, or 0. */
    static int promptTokens(Object usageMetadata) {
        return usageMetadata instanceof JsonObject u ? count(u, "promptTokenCount") : 0;
    }

    private static int count(JsonObject usage, String field) {
        return usage.getValue(field) instanceof Number n && n.longValue() > 0
                ? (int) Math.min(n.longValue(), Integer.MAX_VALUE) : 0;
    }
}
