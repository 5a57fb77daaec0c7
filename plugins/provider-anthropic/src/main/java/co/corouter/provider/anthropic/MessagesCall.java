package co.corouter.provider.anthropic;

import co.corouter.plugin.api.ChatRequest;
import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import co.corouter.plugin.api.Usage;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientRequest;

import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One Messages exchange from the provider's side: the single owner of its outcome, its time limits, the host's
 * cancellation and the reset of the upstream request. Whichever comes first settles the outcome; a timeout, a
 * cancellation or a failure also resets the request, so Anthropic stops generating (and billing) and a half-read
 * connection never goes back to the pool.
 *
 * <p>Three limits: the whole-request budget ({@link ChatRequest#timeoutMillis()}), the first-byte limit until
 * {@link #answering()} ({@link ChatRequest#firstByteTimeoutMillis()}) and, for a stream, the idle limit between two
 * {@link #read()}s after that ({@link ChatRequest#idleTimeoutMillis()}). ONE timer serves them: a read only stores
 * its time; when the timer fires it fails the call if a limit has passed, or sets itself for the nearest limit now
 * in force. While the client is slow ({@link #clientSlow()}) the upstream is paused by us, not silent, so the idle
 * limit waits until {@link #clientCaughtUp()}.
 *
 * <p>Confined to the event loop that made it: the host's cancellation, wherever it is completed, is handled there.
 * The outcome may settle before the exchange ends (a stream is complete at {@code message_stop}); the timer runs on
 * until {@link #exchangeEnded()}, so an upstream that never finishes its response is still cut off.
 */
final class MessagesCall<T> {

    private static final long NONE = Long.MAX_VALUE;

    private final Vertx vertx;
    private final Context context;
    private final Promise<T> outcome = Promise.promise();
    private final long startedNanos = System.nanoTime();
    private final long budgetMillis;
    private final long firstByteMillis;
    private final long idleMillis;
    private long timer = -1;
    /** When the armed timer fires ({@link System#nanoTime()}), or {@link #NONE}. */
    private long timerDueNanos = NONE;
    private boolean answering;
    private boolean slowClient;
    private long lastReadNanos;
    private HttpClientRequest request;
    private boolean exchangeEnded;
    private Supplier<Usage> delivered;

    /** @param stream whether the idle limit applies (a whole Message's body is read at once) */
    MessagesCall(Vertx vertx, ChatRequest chat, boolean stream) {
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        this.budgetMillis = chat.timeoutMillis();
        this.firstByteMillis = chat.firstByteTimeoutMillis();
        this.idleMillis = stream ? chat.idleTimeoutMillis() : 0;
        schedule(startedNanos);
        if (chat.cancelled() != null) {
            chat.cancelled().onComplete(cancelled -> onContext(() -> fail(new ProviderException(Kind.CANCELLED,
                    "the host cancelled the call (its client went away or its deadline passed)"))));
        }
    }

    Future<T> future() {
        return outcome.future();
    }

    boolean settled() {
        return outcome.future().isComplete();
    }

    /** Takes the upstream request; when the call settled while it was being opened, resets it and fails. */
    Future<HttpClientRequest> adopt(HttpClientRequest opened) {
        request = opened;
        if (settled()) {
            opened.reset();
            return Future.failedFuture(outcome.future().cause());
        }
        return Future.succeededFuture(opened);
    }

    /**
     * The upstream began its answer (a whole Message's response head, a stream's {@code message_start}): the
     * first-byte limit is over, the idle limit starts.
     */
    void answering() {
        if (answering) {
            return;
        }
        answering = true;
        lastReadNanos = System.nanoTime();
        schedule(lastReadNanos);
    }

    /** Bytes arrived: the idle gap starts again. A field write, no timer. */
    void read() {
        lastReadNanos = System.nanoTime();
    }

    /** We paused the upstream for a slow client: its silence from now on is ours, not the upstream's. */
    void clientSlow() {
        slowClient = true;
    }

    /** The client caught up and the upstream is resumed: the idle limit applies again, from now. */
    void clientCaughtUp() {
        slowClient = false;
        lastReadNanos = System.nanoTime();
        schedule(lastReadNanos);
    }

    /** From now on a failure carries the usage of what was delivered (a stream that wrote). */
    void delivered(Supplier<Usage> usage) {
        delivered = usage;
    }

    void succeed(T value) {
        outcome.tryComplete(value);
    }

    /** Settles with a failure, if not settled yet, and stops the exchange. */
    void fail(Throwable failure) {
        if (!settled()) {
            ProviderException error = UpstreamErrors.ofConnection(failure);
            Supplier<Usage> usage = delivered;
            outcome.tryFail(usage == null ? error : error.withUsage(usage.get()));
        }
        if (!exchangeEnded) {
            exchangeEnded();
            if (request != null) {
                request.reset();
            }
        }
    }

    /** The upstream response was read to its end; the connection goes back to the pool and the timer stops. */
    void exchangeEnded() {
        exchangeEnded = true;
        if (timer != -1) {
            vertx.cancelTimer(timer);
            timer = -1;
            timerDueNanos = NONE;
        }
    }

    /** Arms the timer for the nearest limit now in force, unless it is already armed for that time or earlier. */
    private void schedule(long nowNanos) {
        long due = dueNanos();
        if (exchangeEnded || due == NONE || due >= timerDueNanos) {
            return;
        }
        if (timer != -1) {
            vertx.cancelTimer(timer);
        }
        timerDueNanos = due;
        long delayMillis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(due - nowNanos + 999_999));
        timer = vertx.setTimer(delayMillis, id -> onTimer());
    }

    private void onTimer() {
        timer = -1;
        timerDueNanos = NONE;
        if (exchangeEnded) {
            return;
        }
        long now = System.nanoTime();
        ProviderException expired = expired(now);
        if (expired != null) {
            fail(expired);
        } else {
            schedule(now);
        }
    }

    /** The nearest deadline in force, as {@link System#nanoTime()}, or {@link #NONE}. */
    private long dueNanos() {
        long due = NONE;
        if (budgetMillis > 0) {
            due = startedNanos + TimeUnit.MILLISECONDS.toNanos(budgetMillis);
        }
        if (!answering && firstByteMillis > 0) {
            due = Math.min(due, startedNanos + TimeUnit.MILLISECONDS.toNanos(firstByteMillis));
        }
        if (answering && !slowClient && idleMillis > 0) {
            due = Math.min(due, lastReadNanos + TimeUnit.MILLISECONDS.toNanos(idleMillis));
        }
        return due;
    }

    /** The limit that has passed at {@code now}, as the failure to report, or null. */
    private ProviderException expired(long now) {
        long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(now - startedNanos);
        if (budgetMillis > 0 && elapsedMillis >= budgetMillis) {
            return timeout("upstream did not finish within " + budgetMillis + " ms");
        }
        if (!answering && firstByteMillis > 0 && elapsedMillis >= firstByteMillis) {
            return timeout("upstream did not start answering within " + firstByteMillis + " ms");
        }
        if (answering && !slowClient && idleMillis > 0
                && TimeUnit.NANOSECONDS.toMillis(now - lastReadNanos) >= idleMillis) {
            return timeout("upstream sent nothing for " + idleMillis + " ms mid-stream");
        }
        return null;
    }

    private static ProviderException timeout(String message) {
        return new ProviderException(Kind.TIMEOUT, 0, message);
    }

    private void onContext(Runnable action) {
        if (Vertx.currentContext() == context) {
            action.run();
        } else {
            context.runOnContext(v -> action.run());
        }
    }
}
