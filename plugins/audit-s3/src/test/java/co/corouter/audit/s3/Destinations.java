package co.corouter.audit.s3;

import co.corouter.plugin.api.audit.AuditContext;
import co.corouter.plugin.api.audit.AuditDestination;
import co.corouter.plugin.api.audit.AuditSink;
import co.corouter.plugin.api.audit.EndpointGuard;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Opens destinations the way the host does and calls them on an event loop, as the host does, checking that each
 * outcome comes back on the calling context. Closes them all at the end of a test.
 */
final class Destinations {

    static final String ACCESS_KEY = "AKIACOROUTERTEST0001";
    static final String SECRET = "s3cr3t/K3y+ThatMustNeverBeShown0000000000";
    static final long ACCOUNT = 42;

    private final Vertx vertx;
    private final AuditSink sink;
    private final List<AuditDestination> opened = new ArrayList<>();

    Destinations(Vertx vertx, AuditSink sink) {
        this.vertx = vertx;
        this.sink = sink;
    }

    /** Path-style static-credential config against {@code endpoint}. */
    static JsonObject config(String endpoint, String bucket, String prefix) {
        return new JsonObject().put("bucket", bucket).put("prefix", prefix).put("region", "us-east-1")
                .put("endpoint", endpoint).put("path_style", true)
                .put("access_key_id", ACCESS_KEY).put("secret_access_key", SECRET);
    }

    AuditDestination open(EndpointGuard guard, JsonObject config) {
        return adopt(sink.open(context(guard), config));
    }

    /** What the host hands {@code open}. */
    AuditContext context(EndpointGuard guard) {
        return new AuditContext(vertx, ACCOUNT, guard, Path.of("unused"));
    }

    /** Closes {@code destination} (built by the test itself) with the others. */
    AuditDestination adopt(AuditDestination destination) {
        opened.add(destination);
        return destination;
    }

    /** Calls {@code call} on a fresh event-loop context and waits for its outcome; a failure is thrown as it is. */
    <T> T onEventLoop(AuditDestination destination, Function<AuditDestination, Future<T>> call) throws Exception {
        return callOnEventLoop(destination, call).await(30, TimeUnit.SECONDS);
    }

    /**
     * Calls {@code call} on a fresh event-loop context and returns once the call has returned (not completed): its
     * outcome, failed when it comes back on another context.
     */
    <T> Future<T> callOnEventLoop(AuditDestination destination, Function<AuditDestination, Future<T>> call)
            throws Exception {
        Context context = vertx.getOrCreateContext();
        Promise<T> outcome = Promise.promise();
        Promise<Void> called = Promise.promise();
        context.runOnContext(v -> {
            call.apply(destination).onComplete(result -> {
                if (Vertx.currentContext() != context) {
                    outcome.fail(new AssertionError("the outcome came back on another context"));
                } else {
                    outcome.handle(result);
                }
            });
            called.complete();
        });
        called.future().await(30, TimeUnit.SECONDS);
        return outcome.future();
    }

    void closeAll() throws Exception {
        for (AuditDestination destination : opened) {
            destination.close().await(10, TimeUnit.SECONDS);
        }
        opened.clear();
    }
}
