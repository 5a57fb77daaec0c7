package co.corouter.provider.mock;

import co.corouter.plugin.api.ChatRequest;
import co.corouter.plugin.api.ProviderException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

/**
 * What every simulated call shares: a delay before its first step, the request's time budget, and
 * cancellation. It runs on the caller's event loop and its timers fire there too, so its state needs no
 * locking.
 *
 * <p>When the host cancels the call ({@link ChatRequest#cancelled()}: the client of a stream went away, or the
 * host's deadline passed), pending timers are cancelled and the call fails with
 * {@link ProviderException.Kind#UNAVAILABLE}, carrying the usage of what it had written: completing the future
 * (rather than leaving it pending) lets the host bill it and release what it holds for the request right away.
 */
abstract class SimulatedCall<T> {

    private static final long NO_TIMER = -1;

    private final Vertx vertx;
    private final ChatRequest request;
    private final Promise<T> result = Promise.promise();
    private long timer = NO_TIMER;
    private long deadline = NO_TIMER;
    private boolean done;

    SimulatedCall(Vertx vertx, ChatRequest request) {
        this.vertx = vertx;
        this.request = request;
    }

    /**
     * @param firstDelayMs delay before {@link #step()} first runs; 0 runs it before this method returns
     * @param plannedMs    how long the call will take if nothing stalls it; a deadline timer is set only
     *                     when this reaches the request's budget, so most calls need no extra timer
     */
    final Future<T> start(long firstDelayMs, long plannedMs) {
        if (request.cancelled().isComplete()) {
            fail(cancelled());
            return result.future();
        }
        long budget = request.timeoutMillis();
        if (budget > 0 && plannedMs >= budget) {
            deadline = vertx.setTimer(budget, id -> {
                deadline = NO_TIMER;
                fail(new ProviderException(ProviderException.Kind.TIMEOUT,
                        "mock upstream did not finish within " + budget + " ms"));
            });
        }
        request.cancelled().onComplete(cancelled -> fail(cancelled()));
        after(firstDelayMs, this::step);
        return result.future();
    }

    /** Does the next piece of work; called on the event loop, never after the call is done. */
    protected abstract void step();

    protected final void after(long delayMs, Runnable action) {
        if (delayMs == 0) {
            action.run();
            return;
        }
        timer = vertx.setTimer(delayMs, id -> {
            timer = NO_TIMER;
            if (!done) {
                action.run();
            }
        });
    }

    /** True once the call succeeded, failed, timed out or was cancelled: do nothing more. */
    protected final boolean done() {
        return done;
    }

    protected final void succeed(T value) {
        if (finish()) {
            result.complete(value);
        }
    }

    protected final void fail(Throwable failure) {
        if (finish()) {
            co.corouter.plugin.api.Usage delivered = deliveredUsage();
            result.fail(delivered != null && failure instanceof ProviderException error
                    ? error.withUsage(delivered) : failure);
        }
    }

    /** Usage of the output already written when the call fails, or null when nothing was written. */
    protected co.corouter.plugin.api.Usage deliveredUsage() {
        return null;
    }

    protected static ProviderException upstreamError() {
        return new ProviderException(ProviderException.Kind.UPSTREAM_ERROR, 500,
                "mock upstream failed, as its model name asked");
    }

    private boolean finish() {
        if (done) {
            return false;
        }
        done = true;
        if (timer != NO_TIMER) {
            vertx.cancelTimer(timer);
            timer = NO_TIMER;
        }
        if (deadline != NO_TIMER) {
            vertx.cancelTimer(deadline);
            deadline = NO_TIMER;
        }
        return true;
    }

    private static ProviderException cancelled() {
        return new ProviderException(ProviderException.Kind.UNAVAILABLE, "request cancelled by the host");
    }
}
