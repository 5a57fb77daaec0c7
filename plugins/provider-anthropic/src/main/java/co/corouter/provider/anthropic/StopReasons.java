package co.corouter.provider.anthropic;

/** Anthropic's {@code stop_reason} as an OpenAI {@code finish_reason} (specs/anthropic-messages.md §6.2). */
final class StopReasons {

    private StopReasons() {
    }

    /**
     * {@code end_turn}, {@code stop_sequence} and {@code pause_turn} (no OpenAI equivalent) are {@code stop};
     * {@code max_tokens} and {@code model_context_window_exceeded} are {@code length}; {@code tool_use} is
     * {@code tool_calls}; {@code refusal} is {@code content_filter}. A missing or unknown reason is {@code stop}.
     */
    static String finishReason(String stopReason) {
        if (stopReason == null) {
            return "stop";
        }
        return switch (stopReason) {
            case "max_tokens", "model_context_window_exceeded" -> "length";
            case "tool_use" -> "tool_calls";
            case "refusal" -> "content_filter";
            default -> "stop";
        };
    }
}
