package co.corouter.server.routing;

import co.corouter.server.pipeline.Exchange;
import co.corouter.server.pipeline.Stage;
import io.vertx.core.Future;

/** Stage "route": picks the provider endpoint for the request's model (503 when its provider is not up). */
public final class RouteStage implements Stage {

    /** The endpoint {@link CallStage} calls. */
    static final Exchange.Key<Router.Route> ROUTE = new Exchange.Key<>("routing.route");

    private final Router router;

    public RouteStage(Router router) {
        this.router = router;
    }

    @Override
    public Future<Void> run(Exchange exchange) {
        exchange.put(ROUTE, router.route(exchange.chat().model()));
        return DONE;
    }
}
