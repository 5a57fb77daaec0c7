package co.corouter.plugin.api;

import io.vertx.core.Vertx;

/**
 * What the host gives a provider instance. Built by the host; plugins never implement it.
 *
 * @param vertx        the host's Vert.x instance; create HTTP clients from it
 * @param instanceName the operator's name for this instance (e.g. {@code "groq"}), for logs and metrics
 * @param secrets      looks up secrets (API keys) by name from the environment or secret files; never log
 *                     what it returns
 */
public record ProviderContext(Vertx vertx, String instanceName, SecretResolver secrets) {

    /** Resolves a named secret. Returns {@code null} when it is not set. */
    @FunctionalInterface
    public interface SecretResolver {
        String resolve(String name);
    }
}
