package co.corouter.plugin.api;

import io.vertx.core.json.JsonObject;
import org.pf4j.ExtensionPoint;

/**
 * Extension point for model providers: a factory that turns one validated configuration into a
 * {@link ProviderEndpoint} the router can call.
 *
 * <p>The host finds implementations with PF4J ({@code @Extension}), and calls {@link #create} once per
 * provider instance named in {@code conf/corouter.yaml} whose {@code type} equals {@link #type()}. Several
 * instances of one type may exist (say {@code groq} and {@code together}, both of type {@code openai}).
 *
 * <p>Threading: {@link #create} is called on a worker thread at start-up; it may do blocking set-up
 * (reading files) but must not start network calls. Invalid configuration must fail with an
 * {@link IllegalArgumentException} whose message names the offending field; never return {@code null}.
 *
 * <p>A plugin describes its configuration with a JSON schema at {@code META-INF/corouter/config.schema.json} in its
 * jar, which the console renders as a form.
 */
public interface ModelProvider extends ExtensionPoint {

    /** The {@code type} this factory serves, e.g. {@code "openai"} or {@code "mock"}. */
    String type();

    /**
     * Builds one endpoint from its configuration.
     *
     * @param context host services for this instance (Vert.x, the instance name)
     * @param config  the instance's {@code config} section, as written by the operator
     * @throws IllegalArgumentException when the configuration is invalid (message names the field)
     */
    ProviderEndpoint create(ProviderContext context, JsonObject config);
}
