package co.corouter.provider.mock;

import co.corouter.plugin.api.ChatCompletion;
import co.corouter.plugin.api.ChatRequest;
import co.corouter.plugin.api.ChunkSink;
import co.corouter.plugin.api.ProviderEndpoint;
import co.corouter.plugin.api.StreamOutcome;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/** A simulated upstream: answers from {@link AnswerGenerator}, paced by Vert.x timers, no network. */
final class MockEndpoint implements ProviderEndpoint {

    private final Vertx vertx;
    private final MockOptions options;
    private final AnswerGenerator generator;

    MockEndpoint(Vertx vertx, MockOptions options) {
        this.vertx = vertx;
        this.options = options;
        this.generator = new AnswerGenerator(options);
    }

    @Override
    public Future<ChatCompletion> complete(ChatRequest request) {
        return new CompletionCall(vertx, request, generator).start(options.latencyMs());
    }

    @Override
    public Future<StreamOutcome> stream(ChatRequest request, ChunkSink sink) {
        return new StreamCall(vertx, request, sink, options, generator).start(options.latencyMs());
    }
}
