package co.corouter.provider.openai;

import co.corouter.plugin.api.ChatRequest;
import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import co.corouter.plugin.api.Usage;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientRequest;
import java.util.function.Supplier;

/**
 * The life of one upstream exchange: its outcome, the whole-request timer and the host's cancellation.
 * Whichever comes first settles the outcome; timeout, cancellation and failures also reset the upstream request
 * so the upstream stops generating and the connection is not returned to the pool half-read.
 *
 * <p>The outcome may settle before the exchange ends (a stream is complete at {@code [DONE]}); the timer keeps
 * running until {@link #exchangeEnded()} so an upstream that never finishes its response is still cut off.
 */
final class UpstreamCall<T> {

    private final Vertx vertx;
    private final Promise<T> outcome = Promise.promise();
    private final long timer;
    private volatile HttpClientRequest request;
    private volatile boolean exchangeEnded;
    private volatile Supplier<Usage> delivered;

    UpstreamCall(Vertx vertx, ChatRequest chat) {
        this.vertx = vertx;
        long budget = chat.timeoutMillis();
        timer = budget > 0 ? vertx.setTimer(budget, id -> onTimeout(budget)) : -1;
        if (chat.cancelled() != null) {
            chat.cancelled().onComplete(ignored -> fail(new ProviderException(Kind.UPSTREAM_ERROR,
                    "the host cancelled the call (its client went away or its deadline passed)")));
        }
    }

    Future<T> future() {
        return outcome.future();
    }

    boolean settled() {
        return outcome.future().isComplete();
    }

    /**
     * Adopts the upstream request. Fails with the call's failure when the call settled while a connection
     * was being obtained (timeout, cancellation), after resetting the request.
     */
    Future<HttpClientRequest> adopt(HttpClientRequest adopted) {
        request = adopted;
        if (settled()) {
            adopted.reset();
            return Future.failedFuture(outcome.future().cause());
        }
        return Future.succeededFuture(adopted);
    }

    void succeed(T value) {
        outcome.tryComplete(value);
    }

    /** From now on a failure carries the usage of what was already delivered (a stream that started). */
    void deliveredUsage(Supplier<Usage> usage) {
        delivered = usage;
    }

    /** Settles with a failure (if not settled yet) and stops the exchange. */
    void fail(Throwable failure) {
        if (!settled()) {
            ProviderException error = UpstreamErrors.ofConnection(failure);
            Supplier<Usage> usage = delivered;
            outcome.tryFail(usage == null ? error : error.withUsage(usage.get()));
        }
        reset();
    }

    /** The upstream response was read to its end; the connection goes back to the pool. */
    void exchangeEnded() {
        exchangeEnded = true;
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
    }

    private void onTimeout(long budget) {
        if (exchangeEnded) {
            return;
        }
        fail(new ProviderException(Kind.TIMEOUT, 0, "upstream did not finish within " + budget + " ms"));
    }

    /** Resets the upstream request; without one yet, {@link #adopt} resets it when it arrives. */
    private void reset() {
        HttpClientRequest current = request;
        if (!exchangeEnded) {
            exchangeEnded();
            if (current != null) {
                current.reset();
            }
        }
    }
}
