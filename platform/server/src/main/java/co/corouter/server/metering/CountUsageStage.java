package co.corouter.server.metering;

import co.corouter.plugin.api.ContentJson;
import co.corouter.plugin.api.Usage;
import co.corouter.server.pipeline.Exchange;
import co.corouter.server.pipeline.ParsedChat;
import co.corouter.server.pipeline.Stage;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/**
 * End stage "count usage": completes the token counts of a request the upstream did not report usage for. A stream
 * its client left (or that was cut off) carries the provider's count of the output it received; this stage counts the
 * prompt itself, from the request, with the {@link Tokenizer} — inline for small bodies, on a worker thread for large
 * ones so a 3 MB prompt never stalls the event loop. A stream cancelled before any output still has its prompt
 * counted (the upstream received it); other failures without output have nothing to count.
 */
public final class CountUsageStage implements Stage {

    /** Bodies up to this size are counted on the event loop (well under a millisecond). */
    static final int INLINE_BYTES = 16 * 1024;

    private final Vertx vertx;
    private final Tokenizer tokenizer;

    public CountUsageStage(Vertx vertx, Tokenizer tokenizer) {
        this.vertx = vertx;
        this.tokenizer = tokenizer;
    }

    @Override
    public Future<Void> run(Exchange exchange) {
        if (!exchange.providerCalled()) {
            return DONE;
        }
        ParsedChat chat = exchange.chat();
        Usage usage = exchange.usage();
        if (usage == null) {
            if (!(exchange.clientGone() && chat.stream())) {
                return DONE;
            }
            usage = Usage.estimatedCompletion(0);
        }
        if (!usage.estimated() || usage.promptTokens() > 0) {
            return DONE;
        }
        Usage output = usage;
        if (chat.embedding() != null) {
            return count(exchange, output, () -> {
                int tokens = 0;
                for (String input : chat.embedding().inputs()) {
                    tokens += tokenizer.count(input);
                }
                return tokens;
            });
        }
        return count(exchange, output, () -> tokenizer.countChatPrompt(chat.raw()));
    }

    /** Counts inline for small bodies, on a worker thread for large ones. */
    private Future<Void> count(Exchange exchange, Usage output, java.util.function.IntSupplier prompt) {
        if (exchange.chat().raw().length() <= INLINE_BYTES) {
            exchange.usage(withPrompt(output, prompt.getAsInt()));
            return DONE;
        }
        return vertx.<Integer>executeBlocking(() -> {
            try {
                return prompt.getAsInt();
            } finally {
                ContentJson.forget(); // the prompt, parsed on this worker, gone from its heap
            }
        }, false).map(tokens -> {
            exchange.usage(withPrompt(output, tokens));
            return null;
        });
    }

    private static Usage withPrompt(Usage output, int promptTokens) {
        return new Usage(promptTokens, output.completionTokens(), 0, output.reasoningTokens(), true);
    }
}
