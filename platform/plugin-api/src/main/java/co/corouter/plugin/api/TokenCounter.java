package co.corouter.plugin.api;

/**
 * Counts tokens the way the host meters them (a real BPE tokenizer, not a character estimate). Built by the host
 * and handed to providers in {@link ProviderContext#tokens()}; thread-safe.
 *
 * <p>Use it only for output an upstream produced but did not report usage for (a stream cancelled or cut off before
 * its usage chunk, an upstream that omits usage). Count the text you actually received and forwarded; the host
 * counts the prompt of an estimated usage itself, from the request it holds.
 * <pre>
 * GOOD: Usage.estimatedCompletion(tokens.count(textReceivedSoFar))     // when the upstream sent no usage
 * BAD:  Usage.of(0, (int) (chars / 4))                                  // a guess the host cannot stand behind
 * </pre>
 *
 * <p>Cost: linear in the text; output is bounded by the request's {@code maxTokens}, so counting it on the event loop
 * is fine. Do not count whole prompts on the event loop.
 *
 * @since 1.2.0
 */
@FunctionalInterface
public interface TokenCounter {

    /** Tokens of {@code text} (0 for an empty text). */
    int count(CharSequence text);
}
