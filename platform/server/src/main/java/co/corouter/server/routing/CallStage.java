package co.corouter.server.routing;

import co.corouter.plugin.api.ChatCompletion;
import co.corouter.plugin.api.ChatRequest;
import co.corouter.plugin.api.ChunkSink;
import co.corouter.plugin.api.EmbeddingRequest;
import co.corouter.plugin.api.Embeddings;
import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import co.corouter.plugin.api.StreamOutcome;
import co.corouter.server.config.ServerOptions.RoutingOptions;
import co.corouter.server.pipeline.Exchange;
import co.corouter.server.pipeline.Failure;
import co.corouter.server.pipeline.ParsedChat;
import co.corouter.server.pipeline.Stage;
import io.vertx.circuitbreaker.OpenCircuitException;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Stage "call": asks the routed endpoints, in order, for the completion until one serves it, streaming its events to
 * the client as they arrive.
 * <ul>
 *   <li><b>Fallback.</b> The next candidate is tried on a connection failure, a timeout before the first byte, a 5xx,
 *       408, 429, an overloaded or unauthorised upstream — never after an upstream byte reached the client (then the
 *       stream ends with an error event). An endpoint whose breaker is open, or whose bulkhead is full, is skipped
 *       without a call. Before moving on, a connection failure, 5xx or timeout is retried on the same endpoint
 *       ({@code routing.retries}, with jittered exponential back-off), within the request's deadline.</li>
 *   <li><b>Exhausted.</b> When every candidate was rate limited the client gets 429 with {@code Retry-After}; when
 *       none could be called, 503; otherwise the last failure.</li>
 *   <li><b>Early stops.</b> The client of a stream leaving cancels the attempt at once (billed for what it produced);
 *       the client of a whole completion leaving changes nothing for the attempt in progress (it runs to its end and
 *       is billed) but no new attempt is started; the request's deadline cancels the attempt and, if the provider
 *       does not answer within {@value #GRACE_MILLIS} ms, fails the call as a timeout.</li>
 * </ul>
 * Every call goes through the endpoint's circuit breaker, which counts only the endpoint's own failures. A provider
 * that throws instead of failing its future is contained.
 */
public final class CallStage implements Stage {

    static final long GRACE_MILLIS = 1_000;

    private final Vertx vertx;
    private final long timeoutMillis;
    private final RoutingOptions options;

    /** @param timeoutMillis the whole call's budget ({@link ChatRequest#timeoutMillis()} of the first attempt) */
    public CallStage(Vertx vertx, long timeoutMillis, RoutingOptions options) {
        this.vertx = vertx;
        this.timeoutMillis = timeoutMillis;
        this.options = options;
    }

    @Override
    public Future<Void> run(Exchange exchange) {
        return new Call(exchange).start();
    }

    /** The sink of one attempt: notes whether the attempt's upstream reached the client. */
    private static final class AttemptSink implements ChunkSink {
        private final ChunkSink client;
        long firstWriteNanos;

        AttemptSink(ChunkSink client) {
            this.client = client;
        }

        @Override
        public void write(Buffer events) {
            if (firstWriteNanos == 0) {
                firstWriteNanos = System.nanoTime();
            }
            client.write(events);
        }

        @Override
        public boolean writeQueueFull() {
            return client.writeQueueFull();
        }

        @Override
        public void drainHandler(Handler<Void> handler) {
            client.drainHandler(handler);
        }

        @Override
        public boolean started() {
            return client.started();
        }

        boolean delivered() {
            return firstWriteNanos != 0;
        }
    }

    /** One request's walk through its candidates. Confined to the request's event loop. */
    private final class Call {
        private final Exchange exchange;
        private final ParsedChat chat;
        private final List<Router.Route> routes;
        private final Promise<Void> done = Promise.promise();
        private final long started = System.nanoTime();
        private int index;
        private int retried;
        private Promise<Void> stop;
        private ProviderException lastFailure;
        private boolean onlyRateLimited = true;
        private long retryAfterMillis = -1;

        Call(Exchange exchange) {
            this.exchange = exchange;
            this.chat = exchange.chat();
            this.routes = exchange.routes();
        }

        Future<Void> start() {
            exchange.onAbort(this::aborted);
            next();
            return done.future();
        }

        private void aborted(Exchange.Abort why) {
            if (why == Exchange.Abort.DEADLINE) {
                stopAttempt();
                vertx.setTimer(GRACE_MILLIS, t -> done.tryFail(timedOut()));
            } else if (chat.stream()) {
                stopAttempt();
            }
        }

        private void stopAttempt() {
            if (stop != null) {
                stop.tryComplete();
            }
        }

        /** Tries the next candidate that can take a call, or ends the call when none is left. */
        private void next() {
            while (index < routes.size()) {
                Router.Route route = routes.get(index);
                if (!route.health().open() && route.health().enter()) {
                    attempt(route);
                    return;
                }
                exchange.attempted(new Exchange.Attempt(route.model().id(), route.endpoint().provider(),
                        route.health().open() ? 503 : 429, 0));
                index++;
                retried = 0;
            }
            done.tryFail(exhausted());
        }

        private void attempt(Router.Route route) {
            long remaining = timeoutMillis - (System.nanoTime() - started) / 1_000_000;
            if (remaining <= 0) {
                route.health().leave();
                done.tryFail(timedOut());
                return;
            }
            Promise<Void> attemptStop = Promise.promise();
            stop = attemptStop;
            ModelCatalog.Endpoint endpoint = route.endpoint();
            ChatRequest request = ChatRequest.ofRaw(exchange.id(), endpoint.upstreamModel(), chat.raw(),
                            chat.maxTokensFor(endpoint), remaining, attemptStop.future())
                    .responseModel(route.model().id())
                    .timeouts(options.firstByteTimeoutMillis(), options.idleTimeoutMillis());
            exchange.providerCalled(route);
            AttemptSink sink = chat.stream() ? new AttemptSink(exchange.sink()) : null;
            long attemptStarted = System.nanoTime();
            boolean[] called = new boolean[1];
            route.health().breaker().<AsyncResult<Object>>execute(() -> {
                called[0] = true;
                return invoke(route, request, sink).transform(result -> result.failed()
                        && endpointFault(result.cause()) ? Future.failedFuture(result.cause())
                        : Future.succeededFuture(result));
            }).onComplete(outcome -> {
                route.health().leave();
                if (!called[0]) {
                    // the breaker turned away this call (a half-open breaker lets one probe through): skip it
                    exchange.attempted(new Exchange.Attempt(route.model().id(), endpoint.provider(), 503, 0));
                    index++;
                    retried = 0;
                    next();
                    return;
                }
                Throwable failure = outcome.succeeded() ? (outcome.result().failed() ? outcome.result().cause() : null)
                        : outcome.cause() instanceof OpenCircuitException ? null : outcome.cause();
                ended(route, sink, attemptStarted, outcome.succeeded() && outcome.result().succeeded()
                        ? outcome.result().result() : null, failure);
            });
        }

        private Future<Object> invoke(Router.Route route, ChatRequest request, AttemptSink sink) {
            try {
                ParsedChat.EmbeddingInput embedding = chat.embedding();
                Future<?> call = embedding != null
                        ? route.provider().embed(new EmbeddingRequest(exchange.id(), request.upstreamModel(),
                                embedding.inputs(), embedding.dimensions(), chat.raw(), request.timeoutMillis(),
                                request.cancelled()))
                        : sink != null ? route.provider().stream(request, sink) : route.provider().complete(request);
                if (call != null) {
                    return call.map(result -> result);
                }
            } catch (RuntimeException e) {
                // contained below: a buggy plugin fails its request, not the server
            }
            return Future.failedFuture(new ProviderException(Kind.UPSTREAM_ERROR,
                    "the provider plugin failed to start the call"));
        }

        private void ended(Router.Route route, AttemptSink sink, long attemptStarted, Object result, Throwable failure) {
            long now = System.nanoTime();
            int latency = (int) ((now - attemptStarted) / 1_000_000);
            if (failure == null) {
                long firstByte = sink != null && sink.delivered() ? sink.firstWriteNanos : now;
                route.health().record(false, (firstByte - attemptStarted) / 1_000_000, null);
                exchange.attempted(new Exchange.Attempt(route.model().id(), route.endpoint().provider(), 200, latency));
                if (result instanceof ChatCompletion completion) {
                    exchange.completion(completion);
                } else if (result instanceof Embeddings embeddings) {
                    if (embeddings.vectors().size() != chat.embedding().inputs().size()) {
                        ended(route, sink, attemptStarted, null, new ProviderException(Kind.BAD_RESPONSE,
                                "the provider returned " + embeddings.vectors().size() + " vectors for "
                                        + chat.embedding().inputs().size() + " inputs"));
                        return;
                    }
                    exchange.embeddings(embeddings);
                } else {
                    StreamOutcome outcome = (StreamOutcome) result;
                    exchange.streamOutcome(outcome);
                    if (sink != null && sink.delivered()) {
                        route.health().throughput(outcome.usage().completionTokens(),
                                (now - sink.firstWriteNanos) / 1_000_000);
                    }
                }
                done.tryComplete();
                return;
            }
            ProviderException error = failure instanceof ProviderException known ? known
                    : new ProviderException(Kind.UPSTREAM_ERROR, 0, "the provider failed", failure);
            boolean fault = endpointFault(error);
            route.health().record(fault, latency, error.kind().name().toLowerCase(java.util.Locale.ROOT));
            exchange.attempted(new Exchange.Attempt(route.model().id(), route.endpoint().provider(),
                    Failure.of(error, exchange.id()).code(), latency));
            if (error.usage() != null) {
                exchange.usage(error.usage());
            }
            if (exchange.deadlinePassed()) {
                done.tryFail(timedOut());
                return;
            }
            boolean delivered = sink != null && sink.delivered();
            if (delivered || exchange.clientGone() || !fault) {
                done.tryFail(error);
                return;
            }
            lastFailure = error;
            if (error.kind() == Kind.RATE_LIMITED) {
                if (error.retryAfterMillis() >= 0) {
                    retryAfterMillis = retryAfterMillis < 0 ? error.retryAfterMillis()
                            : Math.min(retryAfterMillis, error.retryAfterMillis());
                }
            } else {
                onlyRateLimited = false;
            }
            if (retried < options.retries() && retryHere(error)) {
                retried++;
                long backoff = options.retryBackoffMillis() << (retried - 1);
                long jittered = backoff / 2 + ThreadLocalRandom.current().nextLong(backoff / 2 + 1);
                long remaining = timeoutMillis - (System.nanoTime() - started) / 1_000_000;
                if (jittered < remaining) {
                    vertx.setTimer(Math.max(1, jittered), t -> {
                        if (done.future().isComplete() || exchange.clientGone()) {
                            done.tryFail(lastFailure);
                        } else if (!route.health().open() && route.health().enter()) {
                            attempt(route);
                        } else {
                            index++;
                            retried = 0;
                            next();
                        }
                    });
                    return;
                }
            }
            index++;
            retried = 0;
            next();
        }

        private Throwable exhausted() {
            if (lastFailure == null) {
                return new ProviderException(Kind.UNAVAILABLE, "every endpoint for " + chat.model().id()
                        + " is unavailable now (circuit open or at capacity)");
            }
            if (onlyRateLimited) {
                return ProviderException.rateLimited(429, "every provider for " + chat.model().id()
                        + " is rate limited", retryAfterMillis);
            }
            return lastFailure;
        }

        private ProviderException timedOut() {
            return new ProviderException(Kind.TIMEOUT, "the provider did not finish within the request's deadline");
        }
    }

    /** Failures that are the endpoint's, counted by its breaker and worth another endpoint. */
    static boolean endpointFault(Throwable failure) {
        if (!(failure instanceof ProviderException error)) {
            return true;
        }
        return switch (error.kind()) {
            case TIMEOUT, RATE_LIMITED, OVERLOADED, UNAVAILABLE, AUTH, BAD_RESPONSE -> true;
            case UPSTREAM_ERROR -> error.upstreamStatus() == 0 || error.upstreamStatus() >= 500
                    || error.upstreamStatus() == 408;
            case BAD_REQUEST, CANCELLED -> false;
        };
    }

    /** Failures worth one more try on the same endpoint: a lost connection, a 5xx, a timeout. */
    private static boolean retryHere(ProviderException error) {
        return error.kind() == Kind.TIMEOUT || error.kind() == Kind.BAD_RESPONSE
                || (error.kind() == Kind.UPSTREAM_ERROR
                && (error.upstreamStatus() == 0 || error.upstreamStatus() >= 500));
    }
}
