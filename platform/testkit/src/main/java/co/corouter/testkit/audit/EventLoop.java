package co.corouter.testkit.audit;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.function.Supplier;

/**
 * Calls a plugin on one Vert.x event loop, as the host calls audit destinations, from a test thread. A call that
 * throws instead of failing its future fails the returned future.
 */
public final class EventLoop {

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
}
