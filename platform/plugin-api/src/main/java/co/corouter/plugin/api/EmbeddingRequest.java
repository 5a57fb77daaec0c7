package co.corouter.plugin.api;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * An embeddings request as the host hands it to a provider: the inputs to embed (texts; the host has validated the
 * OpenAI {@code /v1/embeddings} shape), the upstream model name and the options. Confined to the event loop that calls
 * the provider; its {@link #toString()} never shows the inputs.
 *
 * @param generationId  the host's id for the request
 * @param upstreamModel the model name to send upstream
 * @param inputs        the texts to embed, in order (the host turns a single string into a one-element list)
 * @param dimensions    the vector size asked for, or 0 for the model's own
 * @param raw           the client's body as it arrived (for providers that forward it)
 * @param timeoutMillis the whole call's budget (fail with {@link ProviderException.Kind#TIMEOUT} after it)
 * @param cancelled     completes when the host wants the call stopped
 * @since 1.4.0
 */
public record EmbeddingRequest(String generationId, String upstreamModel, List<String> inputs, int dimensions,
        Buffer raw, long timeoutMillis, Future<Void> cancelled) {

    /** The client's body parsed (off the hot path). */
    public JsonObject body() {
        return new JsonObject(raw);
    }

    @Override
    public String toString() {
        return "EmbeddingRequest[" + generationId + ", " + upstreamModel + ", " + inputs.size() + " inputs]";
    }
}
