package co.corouter.plugin.api;

/**
 * Token counts of one completion. Cost is never computed by plugins: the host prices usage from its catalog.
 *
 * @param promptTokens     input tokens
 * @param completionTokens output tokens (including reasoning tokens)
 * @param cachedTokens     input tokens served from the provider's prompt cache (subset of promptTokens)
 * @param reasoningTokens  output tokens spent on reasoning (subset of completionTokens)
 * @param cacheWriteTokens input tokens written to the provider's prompt cache (a subset of promptTokens, disjoint from
 *                         cachedTokens; Anthropic's {@code cache_creation_input_tokens}), priced at the catalog's cache
 *                         write price (since 1.4.0)
 * @param estimated        true when the upstream reported no usage: {@code completionTokens} were counted by the provider
 *                         over the output it received ({@link TokenCounter}); a {@code promptTokens} of 0 then asks
 *                         the host to count the prompt itself (it holds the request; the provider should not count
 *                         a large prompt on the event loop)
 */
public record Usage(int promptTokens, int completionTokens, int cachedTokens, int reasoningTokens, boolean estimated,
        int cacheWriteTokens) {

    public Usage {
        if (promptTokens < 0 || completionTokens < 0 || cachedTokens < 0 || reasoningTokens < 0
                || cacheWriteTokens < 0) {
            throw new IllegalArgumentException("token counts must not be negative");
        }
        if ((long) cachedTokens + cacheWriteTokens > promptTokens && !estimated) {
            throw new IllegalArgumentException("cached and cache-write tokens are part of the prompt tokens");
        }
    }

    /** A usage without cache writes (the 1.x form before 1.4.0). */
    public Usage(int promptTokens, int completionTokens, int cachedTokens, int reasoningTokens, boolean estimated) {
        this(promptTokens, completionTokens, cachedTokens, reasoningTokens, estimated, 0);
    }

    public static Usage of(int promptTokens, int completionTokens) {
        return new Usage(promptTokens, completionTokens, 0, 0, false);
    }

    /**
     * Output counted by the provider when the upstream reported no usage; the host counts the prompt.
     *
     * @since 1.2.0
     */
    public static Usage estimatedCompletion(int completionTokens) {
        return new Usage(0, completionTokens, 0, 0, true);
    }

    public int totalTokens() {
        return promptTokens + completionTokens;
    }
}
