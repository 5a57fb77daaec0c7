package co.corouter.server.routing;

import co.corouter.plugin.api.ChatCompletion;
import co.corouter.plugin.api.ChatRequest;
import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.StreamOutcome;
import co.corouter.server.pipeline.Exchange;
import co.corouter.server.pipeline.ParsedChat;
import co.corouter.server.pipeline.Stage;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

/**
 * Stage "call": asks the routed provider for the completion, streaming its events to the client's sink as they
 * arrive. What stops it early:
 * <ul>
 *   <li>the client of a <b>stream</b> leaves → the provider is cancelled at once (it resets the upstream request) and
 *       reports the usage of what it received, which is billed;</li>
 *   <li>the client of a <b>whole</b> completion leaves → nothing: the call runs to its end and is billed in full, as
 *       the upstream bills it;</li>
 *   <li>the request's deadline passes (set by ingress a little after the provider's own timeout) → the provider is
 *       cancelled and, if it does not answer within {@value #GRACE_MILLIS} ms, the call fails as a timeout.</li>
 * </ul>
 * A provider that throws instead of failing its future is contained: the call fails, the server carries on.
 */
public final class CallStage implements Stage {

    static final long GRACE_MILLIS = 1_000;

    private final Vertx vertx;
    private final long timeoutMillis;

    /** @param timeoutMillis the budget handed to the provider ({@link ChatRequest#timeoutMillis()}) */
    public CallStage(Vertx vertx, long timeoutMillis) {
        this.vertx = vertx;
        this.timeoutMillis = timeoutMillis;
    }

    @Override
    public Future<Void> run(Exchange exchange) {
        Router.Route route = exchange.get(RouteStage.ROUTE);
        ParsedChat chat = exchange.chat();
        Promise<Void> stop = Promise.promise();
        Promise<Void> done = Promise.promise();
        ChatRequest request = ChatRequest.ofRaw(exchange.id(), chat.model().upstreamModel(), chat.raw(),
                chat.maxTokens(), timeoutMillis, stop.future());
        exchange.onAbort(why -> {
            if (why == Exchange.Abort.DEADLINE) {
                stop.tryComplete();
                vertx.setTimer(GRACE_MILLIS, t -> done.tryFail(new ProviderException(ProviderException.Kind.TIMEOUT,
                        "the provider did not finish within the request's deadline")));
            } else if (chat.stream()) {
                stop.tryComplete();
            }
        });
        exchange.providerCalled(route.model().provider());
        Future<?> call;
        try {
            call = chat.stream() ? route.endpoint().stream(request, exchange.sink())
                    : route.endpoint().complete(request);
        } catch (RuntimeException e) {
            call = null;
        }
        if (call == null) {
            call = Future.failedFuture(new ProviderException(ProviderException.Kind.UPSTREAM_ERROR,
                    "the provider plugin failed to start the call"));
        }
        call.onComplete(result -> {
            if (done.future().isComplete()) {
                return;
            }
            if (result.succeeded()) {
                if (result.result() instanceof ChatCompletion completion) {
                    exchange.completion(completion);
                } else {
                    exchange.streamOutcome((StreamOutcome) result.result());
                }
                done.complete();
            } else {
                Throwable cause = result.cause();
                if (cause instanceof ProviderException failure && failure.usage() != null) {
                    exchange.usage(failure.usage());
                }
                done.fail(exchange.deadlinePassed() ? new ProviderException(ProviderException.Kind.TIMEOUT,
                        "the provider did not finish within the request's deadline") : cause);
            }
        });
        return done.future();
    }
}
