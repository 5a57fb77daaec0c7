package co.corouter.plugin.api;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * A chat completion request as the host hands it to a provider.
 *
 * @param generationId  the host's id for this request (also the {@code X-Generation-Id} header); use it as
 *                      the completion {@code id} where a provider invents one
 * @param upstreamModel the model name to send upstream (the catalog maps public ids to upstream names)
 * @param body          the client's request body (OpenAI chat-completions shape), already validated; treat as
 *                      read-only — copy before changing
 * @param maxTokens     the completion-token cap the host reserved credit for; providers must not let the
 *                      upstream produce more
 * @param timeoutMillis the whole-request budget; fail with {@link ProviderException.Kind#TIMEOUT} after it
 * @param cancelled     completes when the client went away; stop the upstream call then
 */
public record ChatRequest(
        String generationId,
        String upstreamModel,
        JsonObject body,
        int maxTokens,
        long timeoutMillis,
        Future<Void> cancelled) {
}
