package co.corouter.server.routing;

import co.corouter.plugin.api.ModelProvider;
import co.corouter.plugin.api.ProviderContext;
import co.corouter.plugin.api.ProviderEndpoint;
import co.corouter.plugin.api.TokenCounter;
import co.corouter.server.config.Secrets;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The configured provider instances ({@code providers:} in corouter.yaml), each built by the plugin that serves
 * its {@code type}. An instance whose plugin is missing or whose config is invalid is reported and left out:
 * models routed to it answer 503.
 */
public final class ProviderRegistry {

    private static final Logger log = LoggerFactory.getLogger(ProviderRegistry.class);

    /** One instance's state, for /ready and the operator. */
    public record InstanceStatus(String name, String type, boolean up, String error) {
    }

    private final Map<String, ProviderEndpoint> endpoints;
    private final List<InstanceStatus> statuses;

    private ProviderRegistry(Map<String, ProviderEndpoint> endpoints, List<InstanceStatus> statuses) {
        this.endpoints = Map.copyOf(endpoints);
        this.statuses = List.copyOf(statuses);
    }

    /** Builds every instance. Blocking-safe: called at boot, before verticles are deployed. */
    public static ProviderRegistry create(Vertx vertx, JsonObject providersConfig, Map<String, ModelProvider> types,
            Secrets secrets, TokenCounter tokens) {
        Map<String, ProviderEndpoint> endpoints = new LinkedHashMap<>();
        List<InstanceStatus> statuses = new ArrayList<>();
        for (String name : providersConfig.fieldNames()) {
            JsonObject section = providersConfig.getJsonObject(name, new JsonObject());
            String type = section.getString("type", "");
            ModelProvider provider = types.get(type);
            if (provider == null) {
                String error = "no loaded plugin provides type '" + type + "'";
                log.error("provider instance {}: {}", name, error);
                statuses.add(new InstanceStatus(name, type, false, error));
                continue;
            }
            try {
                ProviderEndpoint endpoint = provider.create(new ProviderContext(vertx, name, secrets::resolve, tokens),
                        section.getJsonObject("config", new JsonObject()));
                if (endpoint == null) {
                    throw new IllegalArgumentException("the plugin returned no endpoint");
                }
                endpoints.put(name, endpoint);
                statuses.add(new InstanceStatus(name, type, true, null));
            } catch (RuntimeException | LinkageError e) {
                String error = "invalid configuration: " + e.getMessage();
                log.error("provider instance {} ({}): {}", name, type, error);
                statuses.add(new InstanceStatus(name, type, false, error));
            }
        }
        return new ProviderRegistry(endpoints, statuses);
    }

    public ProviderEndpoint endpoint(String name) {
        return endpoints.get(name);
    }

    public List<InstanceStatus> statuses() {
        return statuses;
    }

    public boolean anyUp() {
        return !endpoints.isEmpty();
    }

    public Future<Void> close() {
        List<Future<Void>> closing = new ArrayList<>();
        endpoints.values().forEach(endpoint -> {
            try {
                closing.add(endpoint.close());
            } catch (RuntimeException e) {
                log.warn("closing a provider endpoint failed: {}", e.toString());
            }
        });
        return Future.join(closing).mapEmpty();
    }
}
