package co.corouter.plugin.api;

import io.vertx.core.Vertx;

/**
 * What the host gives a provider instance. Built by the host; plugins never implement it.
 *
 * @param vertx        the host's Vert.x instance; create HTTP clients from it
 * @param instanceName the operator's name for this instance (e.g. {@code "groq"}), for logs and metrics
 * @param secrets      looks up secrets (API keys) by name from the environment or secret files; never log
 *                     what it returns
 * @param tokens       the host's tokenizer, for output an upstream did not report usage for (since 1.2.0)
 */
public record ProviderContext(Vertx vertx, String instanceName, SecretResolver secrets, TokenCounter tokens) {

    /** Resolves a named secret. Returns {@code null} when it is not set. */
    @FunctionalInterface
    public interface SecretResolver {
        String resolve(String name);
    }
}
