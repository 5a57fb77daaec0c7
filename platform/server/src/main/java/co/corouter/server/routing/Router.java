package co.corouter.server.routing;

import co.corouter.plugin.api.ProviderEndpoint;
import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import co.corouter.server.config.ServerOptions.RoutingOptions;
import co.corouter.server.pipeline.ParsedChat;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Decides which endpoints may serve a request and in which order they are tried (OpenRouter's semantics,
 * specs/openrouter-api.md §2–3): the request's model, then each model of {@code models[]}; within a model its endpoints
 * filtered by {@code provider.only/ignore/max_price/require_parameters} and by which provider instances are up, and
 * ordered by {@code provider.order}, by {@code provider.sort}, or by default at random weighted by recent uptime over
 * the square of the price (cheaper and healthier endpoints get more traffic, none starves). Called in-process on the
 * request's event loop; a pure computation over the catalog and the node's endpoint health.
 */
public final class Router {

    /** One candidate: an endpoint of a model, its provider instance and its health. */
    public record Route(ModelCatalog.Model model, ModelCatalog.Endpoint endpoint, ProviderEndpoint provider,
            EndpointHealth health) {
    }

    private final ModelCatalog catalog;
    private final ProviderRegistry providers;
    private final Map<String, Map<String, EndpointHealth>> health = new HashMap<>();

    public Router(Vertx vertx, ModelCatalog catalog, ProviderRegistry providers, RoutingOptions options) {
        this.catalog = catalog;
        this.providers = providers;
        for (ModelCatalog.Model model : catalog.all()) {
            Map<String, EndpointHealth> byProvider = new HashMap<>();
            for (ModelCatalog.Endpoint endpoint : model.endpoints()) {
                int maxInFlight = endpoint.maxInFlight() > 0 ? endpoint.maxInFlight() : options.maxInFlight();
                byProvider.put(endpoint.provider(), new EndpointHealth(vertx, model.id(), endpoint.provider(),
                        maxInFlight, options));
            }
            health.put(model.id(), Map.copyOf(byProvider));
        }
    }

    public ModelCatalog catalog() {
        return catalog;
    }

    /** The model, or a 400 when it is not in the catalog. */
    public ModelCatalog.Model model(String id) {
        return catalog.require(id);
    }

    /** Every candidate for the request, in the order to try them; a 503 when none meets its requirements. */
    public List<Route> candidates(ParsedChat chat) {
        ProviderPreferences preferences = chat.preferences();
        List<Route> routes = new ArrayList<>(4);
        for (ModelCatalog.Model model : chat.models()) {
            List<Route> ofModel = new ArrayList<>(model.endpoints().size());
            for (ModelCatalog.Endpoint endpoint : model.endpoints()) {
                ProviderEndpoint provider = providers.endpoint(endpoint.provider());
                if (provider == null || !preferences.allowed(endpoint.provider()) || !preferences.affordable(endpoint)
                        || (preferences.requireParameters() && !chat.supportedBy(endpoint))) {
                    continue;
                }
                ofModel.add(new Route(model, endpoint, provider, health.get(model.id()).get(endpoint.provider())));
            }
            order(ofModel, preferences);
            routes.addAll(ofModel);
        }
        if (routes.isEmpty()) {
            throw new ApiException(ErrorCodes.UNAVAILABLE, "no provider meets the routing requirements for "
                    + chat.model().id(), new JsonObject().put("model", chat.model().id()));
        }
        return routes;
    }

    private static void order(List<Route> routes, ProviderPreferences preferences) {
        if (routes.size() > 1) {
            if (!preferences.order().isEmpty()) {
                List<Route> named = new ArrayList<>();
                for (String provider : preferences.order()) {
                    routes.stream().filter(r -> r.endpoint().provider().equals(provider)).findFirst()
                            .ifPresent(named::add);
                }
                List<Route> rest = new ArrayList<>(routes);
                rest.removeAll(named);
                balance(rest);
                routes.clear();
                routes.addAll(named);
                if (preferences.allowFallbacks()) {
                    routes.addAll(rest);
                }
                return;
            }
            if (preferences.sort() != null) {
                routes.sort(switch (preferences.sort()) {
                    case "price" -> Comparator.comparingLong(Router::price);
                    case "latency" -> Comparator.comparingDouble(r -> known(r.health().latencyMillis()));
                    default -> Comparator.comparingDouble(r -> -r.health().tokensPerSecond());
                });
            } else {
                balance(routes);
            }
        }
        if (!preferences.allowFallbacks() && routes.size() > 1) {
            routes.subList(1, routes.size()).clear();
        }
    }

    /**
     * Orders endpoints at random, each drawn with a weight of its recent uptime over the square of its price, so the
     * cheaper and the healthier get more of the traffic and every endpoint keeps getting some.
     */
    private static void balance(List<Route> routes) {
        if (routes.size() < 2) {
            return;
        }
        ThreadLocalRandom random = ThreadLocalRandom.current();
        List<Route> pool = new ArrayList<>(routes);
        routes.clear();
        while (!pool.isEmpty()) {
            double[] weights = new double[pool.size()];
            double total = 0;
            for (int i = 0; i < weights.length; i++) {
                double price = Math.max(1, price(pool.get(i))) / 1e9;
                weights[i] = Math.max(0.01, pool.get(i).health().uptime()) / (price * price);
                total += weights[i];
            }
            double draw = random.nextDouble(total);
            int chosen = 0;
            while (chosen < weights.length - 1 && (draw -= weights[chosen]) > 0) {
                chosen++;
            }
            routes.add(pool.remove(chosen));
        }
    }

    private static long price(Route route) {
        return route.endpoint().promptNanosPerMillion() + route.endpoint().completionNanosPerMillion();
    }

    private static double known(double value) {
        return value < 0 ? Double.MAX_VALUE : value;
    }

    /** Closes every breaker and forgets every endpoint's record (operator: after fixing a provider). */
    public void resetHealth() {
        health.values().forEach(byProvider -> byProvider.values().forEach(EndpointHealth::reset));
    }

    /** Every endpoint's health, for {@code /ready} and the operator. */
    public JsonArray health() {
        JsonArray all = new JsonArray();
        health.values().forEach(byProvider -> byProvider.values().forEach(h -> all.add(h.status()
                .put("up", providers.endpoint(h.provider()) != null))));
        return all;
    }

    /** The endpoints of one model, OpenRouter's {@code /models/{author}/{slug}/endpoints} shape, or null. */
    public JsonObject endpoints(String modelId) {
        ModelCatalog.Model model = catalog.find(modelId);
        if (model == null) {
            return null;
        }
        JsonArray endpoints = new JsonArray();
        for (ModelCatalog.Endpoint endpoint : model.endpoints()) {
            EndpointHealth h = health.get(model.id()).get(endpoint.provider());
            boolean up = providers.endpoint(endpoint.provider()) != null;
            endpoints.add(new JsonObject()
                    .put("name", endpoint.provider() + " | " + model.id())
                    .put("provider_name", endpoint.provider())
                    .put("context_length", endpoint.contextLength())
                    .put("max_completion_tokens", endpoint.maxOutputTokens())
                    .put("pricing", ModelCatalog.pricing(endpoint))
                    .put("supported_parameters", new JsonArray(new ArrayList<>(endpoint.supportedParameters())))
                    .put("status", up && !h.open() ? 0 : -1)
                    .put("uptime_last_30m", h.uptime())
                    .put("health", h.status()));
        }
        return new JsonObject().put("data", new JsonObject()
                .put("id", model.id())
                .put("name", model.name())
                .put("created", model.created())
                .put("endpoints", endpoints));
    }

}
