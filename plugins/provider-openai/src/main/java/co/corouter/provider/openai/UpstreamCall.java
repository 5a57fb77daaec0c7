package co.corouter.provider.openai;

import co.corouter.plugin.api.ChatRequest;
import co.corouter.plugin.api.EmbeddingRequest;
import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import co.corouter.plugin.api.Usage;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientRequest;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The life of one upstream exchange: its outcome, its time limits and the host's cancellation.
 * Whichever comes first settles the outcome; timeout, cancellation and failures also reset the upstream request
 * so the upstream stops generating and the connection is not returned to the pool half-read.
 *
 * <p>Three limits apply: the whole-request budget, the first-byte limit (until {@link #answerStarted()}) and, for a
 * stream, the idle limit (the longest gap between two {@link #upstreamRead()}s after the answer started). They
 * share ONE timer: a read only records its time, and when the timer fires it either fails the call or re-arms
 * itself for the limit that is now nearest — a stream of 1,000 reads arms a handful of timers, not 1,000.
 *
 * <p>The outcome may settle before the exchange ends (a stream is complete at {@code [DONE]}); the timer keeps
 * running until {@link #exchangeEnded()} so an upstream that never finishes its response is still cut off.
 */
final class UpstreamCall<T> {

    private static final long NO_TIMER = -1;
    private static final long NO_LIMIT = Long.MAX_VALUE;

    private final Vertx vertx;
    private final Promise<T> outcome = Promise.promise();
    private final long startedNanos = System.nanoTime();
    private final long budgetMillis;
    private final long firstByteMillis;
    private final long idleMillis;
    private volatile long timer = NO_TIMER;
    /** When the armed timer fires, as {@link System#nanoTime()}, or {@link #NO_LIMIT}. */
    private volatile long armedForNanos = NO_LIMIT;
    private volatile boolean answerStarted;
    private volatile long lastReadNanos;
    private volatile HttpClientRequest request;
    private volatile boolean exchangeEnded;
    private volatile Supplier<Usage> delivered;

    /** @param stream whether the idle limit applies (a whole completion's body is not read piece by piece here) */
    UpstreamCall(Vertx vertx, ChatRequest chat, boolean stream) {
        this(vertx, chat.timeoutMillis(), chat.firstByteTimeoutMillis(), stream ? chat.idleTimeoutMillis() : 0,
                chat.cancelled());
    }

    /** An embeddings call: only the whole-request budget applies. */
    UpstreamCall(Vertx vertx, EmbeddingRequest request) {
        this(vertx, request.timeoutMillis(), 0, 0, request.cancelled());
    }

    private UpstreamCall(Vertx vertx, long budgetMillis, long firstByteMillis, long idleMillis,
                         Future<Void> cancelled) {
        this.vertx = vertx;
        this.budgetMillis = budgetMillis;
        this.firstByteMillis = firstByteMillis;
        this.idleMillis = idleMillis;
        arm(startedNanos);
        if (cancelled != null) {
            cancelled.onComplete(ignored -> fail(new ProviderException(Kind.CANCELLED,
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

    /**
     * The upstream began answering — its response head for a whole completion, its first event for a stream: the
     * first-byte limit no longer applies, the idle limit does from now on.
     */
    void answerStarted() {
        if (answerStarted) {
            return;
        }
        long now = System.nanoTime();
        lastReadNanos = now;
        answerStarted = true;
        if (!exchangeEnded && dueNanos() < armedForNanos) {
            // the idle limit comes before the first-byte one the timer waits for: the one re-arm a call may need
            long current = timer;
            if (current != NO_TIMER) {
                vertx.cancelTimer(current);
            }
            arm(now);
        }
    }

    /** Bytes arrived from the upstream: the idle gap starts again. Only a field write, no timer. */
    void upstreamRead() {
        lastReadNanos = System.nanoTime();
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
        long current = timer;
        if (current != NO_TIMER) {
            vertx.cancelTimer(current);
        }
    }

    /** The nearest deadline now in force, as {@link System#nanoTime()}, or {@link #NO_LIMIT}. */
    private long dueNanos() {
        long due = NO_LIMIT;
        if (budgetMillis > 0) {
            due = startedNanos + TimeUnit.MILLISECONDS.toNanos(budgetMillis);
        }
        if (!answerStarted) {
            if (firstByteMillis > 0) {
                due = Math.min(due, startedNanos + TimeUnit.MILLISECONDS.toNanos(firstByteMillis));
            }
        } else if (idleMillis > 0) {
            due = Math.min(due, lastReadNanos + TimeUnit.MILLISECONDS.toNanos(idleMillis));
        }
        return due;
    }

    private void arm(long now) {
        long due = dueNanos();
        armedForNanos = due;
        if (due == NO_LIMIT) {
            timer = NO_TIMER;
            return;
        }
        long delayMillis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(due - now + 999_999));
        timer = vertx.setTimer(delayMillis, id -> onTimer());
    }

    private void onTimer() {
        timer = NO_TIMER;
        if (exchangeEnded) {
            return;
        }
        long now = System.nanoTime();
        ProviderException expired = expired(now);
        if (expired != null) {
            fail(expired);
        } else {
            arm(now);
        }
    }

    /** The limit that has passed at {@code now}, as the failure to report, or null when none has. */
    private ProviderException expired(long now) {
        long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(now - startedNanos);
        if (budgetMillis > 0 && elapsedMillis >= budgetMillis) {
            return timeout("upstream did not finish within " + budgetMillis + " ms");
        }
        if (!answerStarted) {
            if (firstByteMillis > 0 && elapsedMillis >= firstByteMillis) {
                return timeout("upstream did not start answering within " + firstByteMillis + " ms");
            }
        } else if (idleMillis > 0 && TimeUnit.NANOSECONDS.toMillis(now - lastReadNanos) >= idleMillis) {
            return timeout("upstream sent nothing for " + idleMillis + " ms mid-stream");
        }
        return null;
    }

    private static ProviderException timeout(String message) {
        return new ProviderException(Kind.TIMEOUT, 0, message);
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
