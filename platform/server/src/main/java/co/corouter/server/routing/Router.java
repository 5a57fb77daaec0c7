package co.corouter.server.routing;

import co.corouter.plugin.api.ProviderEndpoint;
import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import io.vertx.core.json.JsonObject;

/**
 * Picks the provider endpoint for a model. Called in-process on the ingress event loop: a map lookup, no hop.
 * Fallbacks, retries and circuit breakers come with the routing issue; today one model has one provider.
 */
public final class Router {

    /** Where a request goes. */
    public record Route(ModelCatalog.Model model, ProviderEndpoint endpoint) {
    }

    private final ModelCatalog catalog;
    private final ProviderRegistry providers;

    public Router(ModelCatalog catalog, ProviderRegistry providers) {
        this.catalog = catalog;
        this.providers = providers;
    }

    public ModelCatalog catalog() {
        return catalog;
    }

    /** The model, or a 400 when it is not in the catalog. */
    public ModelCatalog.Model model(String id) {
        ModelCatalog.Model model = catalog.find(id);
        if (model == null) {
            throw new ApiException(ErrorCodes.BAD_REQUEST, "model '" + sanitize(id) + "' is not a valid model ID",
                    new JsonObject().put("model", sanitize(id)));
        }
        return model;
    }

    /** The endpoint serving the model, or a 503 when its provider is not up. */
    public Route route(ModelCatalog.Model model) {
        ProviderEndpoint endpoint = providers.endpoint(model.provider());
        if (endpoint == null) {
            throw new ApiException(ErrorCodes.UNAVAILABLE, "no provider is available for model " + model.id(),
                    new JsonObject().put("provider_name", model.provider()));
        }
        return new Route(model, endpoint);
    }

    private static String sanitize(String id) {
        String trimmed = id.length() > 100 ? id.substring(0, 100) : id;
        return trimmed.replaceAll("[^A-Za-z0-9._:/@+-]", "?");
    }
}
