package co.corouter.provider.mock;

import co.corouter.plugin.api.ChatRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.OptionalInt;

/**
 * Makes up a deterministic answer: the same model and messages always give the same words, so tests can
 * compare a stream with a whole completion and benchmarks do the same work on every run.
 *
 * <p>Words come from a fixed list, chosen by a SplitMix64 sequence seeded from {@link String#hashCode()}
 * of the model, roles and contents — both are specified, so the text is the same on every JVM.
 */
final class AnswerGenerator {

    private static final String[] WORDS = {
        "the", "router", "sends", "each", "request", "to", "a", "model", "that", "answers", "with", "tokens",
        "and", "streams", "them", "back", "as", "events", "while", "credit", "is", "held", "for", "the",
        "longest", "reply", "it", "could", "give", "every", "provider", "has", "its", "own", "latency",
        "so", "we", "measure", "time", "from", "first", "byte", "until", "last", "chunk", "then", "usage",
        "becomes", "cost", "in", "one", "ledger", "row", "which", "settles", "against", "an", "account",
        "balance", "quickly", "without", "locks", "or", "retries"
    };
    private static final String[] CAPITALIZED = capitalize(WORDS);
    private static final int SENTENCE_ODDS = 9;
    private static final int TOKENS_PER_MESSAGE = 4;
    private static final int BYTES_PER_TOKEN = 4;

    private final int completionTokens;
    private final OptionalInt fixedPromptTokens;

    AnswerGenerator(MockOptions options) {
        this.completionTokens = options.completionTokens();
        this.fixedPromptTokens = options.promptTokens();
    }

    /**
     * @param maxDeltas how many pieces to split the answer into at most (never more pieces than tokens,
     *                  always at least one piece)
     */
    MockAnswer answer(ChatRequest request, int maxDeltas) {
        long seed = 0x5DEECE66DL ^ request.upstreamModel().hashCode();
        int promptBytes = 0;
        int messageCount = 0;
        JsonArray messages = request.body().getJsonArray("messages");
        if (messages != null) {
            for (int i = 0; i < messages.size(); i++) {
                if (!(messages.getValue(i) instanceof JsonObject message)) {
                    continue;
                }
                messageCount++;
                String role = message.getString("role", "");
                seed = seed * 31 + role.hashCode();
                Object content = message.getValue("content");
                if (content instanceof String text) {
                    seed = seed * 31 + text.hashCode();
                    promptBytes += utf8Length(text);
                } else if (content instanceof JsonArray parts) {
                    for (int p = 0; p < parts.size(); p++) {
                        if (parts.getValue(p) instanceof JsonObject part
                                && part.getValue("text") instanceof String text) {
                            seed = seed * 31 + text.hashCode();
                            promptBytes += utf8Length(text);
                        }
                    }
                }
            }
        }
        int promptTokens = fixedPromptTokens.orElse(
                (promptBytes + BYTES_PER_TOKEN - 1) / BYTES_PER_TOKEN + TOKENS_PER_MESSAGE * messageCount);
        int tokens = Math.max(0, Math.min(completionTokens, request.maxTokens()));
        String finishReason = tokens < completionTokens ? "length" : "stop";
        return new MockAnswer(words(seed, tokens, maxDeltas, finishReason.equals("stop")), promptTokens, tokens,
                finishReason);
    }

    /** Token {@code t} goes to delta {@code t * deltas / tokens}, so deltas differ in size by one at most. */
    private static String[] words(long seed, int tokens, int maxDeltas, boolean endSentence) {
        int deltaCount = Math.max(1, Math.min(maxDeltas, tokens));
        String[] deltas = new String[deltaCount];
        StringBuilder text = new StringBuilder(tokens * 8);
        long state = seed;
        boolean sentenceStart = true;
        int delta = 0;
        for (int t = 0; t < tokens; t++) {
            int deltaOfToken = (int) ((long) t * deltaCount / tokens);
            if (deltaOfToken != delta) {
                deltas[delta] = text.toString();
                text.setLength(0);
                delta = deltaOfToken;
            }
            state += 0x9E3779B97F4A7C15L;
            long random = mix(state);
            int word = (int) Long.remainderUnsigned(random, WORDS.length);
            if (t > 0) {
                text.append(' ');
            }
            text.append(sentenceStart ? CAPITALIZED[word] : WORDS[word]);
            boolean last = t == tokens - 1;
            sentenceStart = !last && Long.remainderUnsigned(random >>> 32, SENTENCE_ODDS) == 0;
            if (sentenceStart || (last && endSentence)) {
                text.append('.');
            }
        }
        deltas[delta] = text.toString();
        return deltas;
    }

    /** SplitMix64's finalizer. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    static int utf8Length(String text) {
        int bytes = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }

    private static String[] capitalize(String[] words) {
        String[] capitalized = new String[words.length];
        for (int i = 0; i < words.length; i++) {
            capitalized[i] = Character.toUpperCase(words[i].charAt(0)) + words[i].substring(1);
        }
        return capitalized;
    }
}
