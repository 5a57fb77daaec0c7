package co.corouter.provider.gemini;

import java.util.Set;

/**
 * Gemini's {@code finishReason} as an OpenAI {@code finish_reason} (spec §3, after LiteLLM's map). Gemini has no reason
 * for "tool call": a candidate that called a function finishes with {@code STOP}, which becomes {@code tool_calls}.
 */
final class FinishReasons {

    static final String CONTENT_FILTER = "content_filter";
    private static final Set<String> FILTERED = Set.of("SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT",
            "SPII", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "IMAGE_OTHER", "NO_IMAGE",
            "LANGUAGE", "OTHER");

    private FinishReasons() {
    }

    /**
     * The OpenAI reason for {@code reason} (null counts as {@code STOP}); unknown and malformed-call reasons
     * ({@code MALFORMED_FUNCTION_CALL}, {@code FINISH_REASON_UNSPECIFIED}, …) are {@code stop}.
     */
    static String of(String reason, boolean calledFunctions) {
        if ("MAX_TOKENS".equals(reason)) {
            return "length";
        }
        if (reason != null && FILTERED.contains(reason)) {
            return CONTENT_FILTER;
        }
        return calledFunctions ? "tool_calls" : "stop";
    }
}
