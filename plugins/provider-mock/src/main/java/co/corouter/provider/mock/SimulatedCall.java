package co.corouter.provider.mock;

import co.corouter.plugin.api.ChatRequest;
import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.Usage;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

/**
 * What every simulated call shares: a delay before its first step, the request's time limits, and
 * cancellation. It runs on the caller's event loop and its timers fire there too, so its state needs no
 * locking.
 *
 * <p>The time limits ({@link ChatRequest#timeoutMillis()}, {@link ChatRequest#firstByteTimeoutMillis()},
 * {@link ChatRequest#idleTimeoutMillis()}) are checked against the call's plan: a simulated upstream knows when it
 * will write, so one deadline timer is set, and only when the plan breaks a limit — most calls need none.
 *
 * <p>When the host cancels the call ({@link ChatRequest#cancelled()}: the client of a stream went away, or the
 * host's deadline passed), pending timers are cancelled and the call fails with
 * {@link ProviderException.Kind#CANCELLED}, carrying the usage of what it had written: completing the future
 * (rather than leaving it pending) lets the host bill it and release what it holds for the request right away.
 */
abstract class SimulatedCall<T> {

    private static final long NO_TIMER = -1;
    /** A delay that never ends: the upstream of a {@link MockBehaviour#HANG} call never answers. */
    static final long NEVER = Long.MAX_VALUE;

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
     * @param firstDelayMs delay before {@link #step()} first runs (the first byte); 0 runs it before this method
     *                     returns, {@link #NEVER} never runs it
     * @param plannedMs    how long the call will take if nothing stalls it
     * @param gapMs        the pause between two writes after the first; 0 when there is one write at most
     */
    final Future<T> start(long firstDelayMs, long plannedMs, long gapMs) {
        if (request.cancelled().isComplete()) {
            fail(cancelled());
            return result.future();
        }
        setDeadline(firstDelayMs, plannedMs, gapMs);
        request.cancelled().onComplete(cancelled -> fail(cancelled()));
        after(firstDelayMs, this::step);
        return result.future();
    }

    /** One timer at the first limit the plan breaks, if it breaks any. */
    private void setDeadline(long firstDelayMs, long plannedMs, long gapMs) {
        long at = NEVER;
        String broken = null;
        long budget = request.timeoutMillis();
        if (budget > 0 && plannedMs >= budget) {
            at = budget;
            broken = "mock upstream did not finish within " + budget + " ms";
        }
        long firstByte = request.firstByteTimeoutMillis();
        if (firstByte > 0 && firstDelayMs >= firstByte && firstByte < at) {
            at = firstByte;
            broken = "mock upstream did not start answering within " + firstByte + " ms";
        }
        long idle = request.idleTimeoutMillis();
        if (idle > 0 && gapMs >= idle && firstDelayMs < NEVER && firstDelayMs + idle < at) {
            at = firstDelayMs + idle;
            broken = "mock upstream sent nothing for " + idle + " ms mid-stream";
        }
        if (broken != null) {
            String message = broken;
            deadline = vertx.setTimer(Math.max(1, at), id -> {
                deadline = NO_TIMER;
                fail(new ProviderException(ProviderException.Kind.TIMEOUT, message));
            });
        }
    }

    /** Does the next piece of work; called on the event loop, never after the call is done. */
    protected abstract void step();

    protected final void after(long delayMs, Runnable action) {
        if (delayMs == NEVER) {
            return;
        }
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
            Usage delivered = deliveredUsage();
            result.fail(delivered != null && failure instanceof ProviderException error
                    ? error.withUsage(delivered) : failure);
        }
    }

    /** Usage of the output already written when the call fails, or null when nothing was written. */
    protected Usage deliveredUsage() {
        return null;
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
        return new ProviderException(ProviderException.Kind.CANCELLED, "request cancelled by the host");
    }
}
