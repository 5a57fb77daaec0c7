package co.corouter.server.pipeline;

import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The request pipeline: forward stages in order, then end stages once, whatever happened.
 *
 * <pre>
 * authenticate → validate → shed → route → limits → admit → call  ┊  count usage → settle → record
 *  (accounts)    (ingress)  (billing) (metering) (routing) (billing) (routing) ┊ (metering)  (billing)  (metering)
 * </pre>
 *
 * <p>A forward stage runs only while the client is still there and the request's deadline has not passed: otherwise
 * the run stops before the stage with a 499 (or a 504) — nothing is called upstream, nothing is charged. Once a stage fails, the later forward stages are
 * skipped. The end stages then run in order, each exactly once — they settle what the forward stages took
 * (a reservation) and record what happened — and the returned future completes after the last of them: ingress
 * renders the response only then, so a usage row is queued before the client holds its answer.
 *
 * <p>Completed futures are followed in a loop, so a run whose stages are synchronous costs no callback allocations.
 * Stateless and thread-safe: one instance serves every event loop.
 */
public final class Pipeline {

    private static final Logger log = LoggerFactory.getLogger(Pipeline.class);

    private final Stage[] forward;
    private final Stage[] end;

    public Pipeline(List<Stage> forward, List<Stage> end) {
        this.forward = forward.toArray(Stage[]::new);
        this.end = end.toArray(Stage[]::new);
    }

    /** Runs the exchange through every stage; completes (never fails) once the end stages are done. */
    public Future<Void> run(Exchange exchange) {
        Promise<Void> finished = Promise.promise();
        forward(exchange, 0, finished);
        return finished.future();
    }

    private void forward(Exchange exchange, int from, Promise<Void> finished) {
        for (int i = from; i < forward.length; i++) {
            if (exchange.clientGone()) {
                exchange.fail(new ApiException(ErrorCodes.CLIENT_CLOSED, "the client closed the connection"));
                break;
            }
            if (exchange.deadlinePassed()) {
                exchange.fail(new ApiException(ErrorCodes.GATEWAY_TIMEOUT, "the request took too long"));
                break;
            }
            Future<Void> step = start(forward[i], exchange);
            if (!step.isComplete()) {
                int next = i + 1;
                step.onComplete(result -> {
                    if (result.failed()) {
                        exchange.fail(result.cause());
                        end(exchange, 0, finished);
                    } else {
                        forward(exchange, next, finished);
                    }
                });
                return;
            }
            if (step.failed()) {
                exchange.fail(step.cause());
                break;
            }
        }
        end(exchange, 0, finished);
    }

    private void end(Exchange exchange, int from, Promise<Void> finished) {
        for (int i = from; i < end.length; i++) {
            Future<Void> step = start(end[i], exchange);
            if (!step.isComplete()) {
                int next = i + 1;
                step.onComplete(result -> {
                    if (result.failed()) {
                        endStageFailed(exchange, result.cause());
                    }
                    end(exchange, next, finished);
                });
                return;
            }
            if (step.failed()) {
                endStageFailed(exchange, step.cause());
            }
        }
        finished.tryComplete();
    }

    private static Future<Void> start(Stage stage, Exchange exchange) {
        try {
            return stage.run(exchange);
        } catch (RuntimeException e) {
            return Future.failedFuture(e);
        }
    }

    /** An end stage must not fail; if one does (a bug), the others still run and the failure is logged once. */
    private static void endStageFailed(Exchange exchange, Throwable cause) {
        log.error("[{}] an end stage failed: {}", exchange.id(), cause.toString());
    }
}
