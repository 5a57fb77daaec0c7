package co.corouter.server.routing;

import co.corouter.server.pipeline.Exchange;
import co.corouter.server.pipeline.Stage;
import io.vertx.core.Future;

/**
 * Stage "route": the endpoints that may serve the request, in the order to try them ({@link Router#candidates}) —
 * 503 when none meets the request's requirements. It runs before admission, which reserves for the most expensive
 * of them.
 */
public final class RouteStage implements Stage {

    private final Router router;

    public RouteStage(Router router) {
        this.router = router;
    }

    @Override
    public Future<Void> run(Exchange exchange) {
        exchange.routes(router.candidates(exchange.chat()));
        return DONE;
    }
}
