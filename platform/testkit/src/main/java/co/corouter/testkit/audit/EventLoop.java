package co.corouter.testkit.audit;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Calls a plugin on one Vert.x event loop, as the host calls audit destinations, from a test thread. A call that
 * throws instead of failing its future fails the returned future.
 */
public final class EventLoop {

    private static final long AWAIT_SECONDS = 60;

    private final Context context;

    /** Creates the context from a non-Vert.x thread, so it is a new event-loop context. */
    public EventLoop(Vertx vertx) {
        this.context = vertx.getOrCreateContext();
    }

    public <T> Future<T> call(Supplier<Future<T>> call) {
        Promise<T> promise = Promise.promise();
        context.runOnContext(ignored -> {
            try {
                call.get().onComplete(promise);
            } catch (RuntimeException e) {
                promise.fail(e);
            }
        });
        return promise.future();
    }

    /** {@link #call}, then blocks the test thread (never an event loop) for the result; a failure is rethrown. */
    public <T> T await(Supplier<Future<T>> call) throws ExecutionException, InterruptedException, TimeoutException {
        return call(call).toCompletionStage().toCompletableFuture().get(AWAIT_SECONDS, TimeUnit.SECONDS);
    }

    /**
     * {@link #call}, then blocks the test thread for the failure, which must be a {@code type}.
     *
     * @throws AssertionError when the call succeeds or fails otherwise
     */
    public <X extends Throwable> X failure(Class<X> type, Supplier<Future<?>> call)
            throws InterruptedException, TimeoutException {
        try {
            call(call::get).toCompletionStage().toCompletableFuture().get(AWAIT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (type.isInstance(e.getCause())) {
                return type.cast(e.getCause());
            }
            throw new AssertionError("expected a " + type.getName() + ", the call failed with " + e.getCause(),
                    e.getCause());
        }
        throw new AssertionError("the call succeeded, a " + type.getName() + " was expected");
    }
}
