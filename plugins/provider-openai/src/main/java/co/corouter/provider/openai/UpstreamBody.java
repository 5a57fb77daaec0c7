package co.corouter.provider.openai;

import co.corouter.plugin.api.ChatRequest;
import io.vertx.core.json.JsonObject;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Turns the client's request body into the body sent upstream. */
final class UpstreamBody {

    /** OpenRouter-only fields: strict upstreams (OpenAI itself) reject unknown parameters with a 400. */
    private static final List<String> ROUTER_ONLY_FIELDS = List.of("models", "provider", "route", "transforms",
            "plugins", "usage", "debug");

    private UpstreamBody() {
    }

    /**
     * A shallow copy of the client's body (nested values are shared, never mutated) with {@code model}
     * replaced, {@code stream} set, and the token cap enforced.
     */
    static JsonObject of(ChatRequest request, boolean stream) {
        Map<String, Object> fields = new LinkedHashMap<>(request.body().getMap());
        ROUTER_ONLY_FIELDS.forEach(fields::remove);
        JsonObject body = new JsonObject(fields);
        body.put("model", request.upstreamModel());
        body.put("stream", stream);
        if (stream) {
            JsonObject streamOptions = body.getValue("stream_options") instanceof JsonObject given
                    ? given.copy() : new JsonObject();
            body.put("stream_options", streamOptions.put("include_usage", true));
        } else {
            // OpenAI answers 400 to stream_options on a non-streaming request
            body.remove("stream_options");
        }
        capTokens(body, request.maxTokens());
        return body;
    }

    /**
     * Caps the completion budget at what the host reserved credit for. Reasoning models accept only
     * {@code max_completion_tokens}, so that field is capped when the client used it; otherwise
     * {@code max_tokens} is set.
     */
    private static void capTokens(JsonObject body, int cap) {
        if (cap <= 0) {
            return;
        }
        boolean capped = false;
        for (String field : List.of("max_completion_tokens", "max_tokens")) {
            if (body.containsKey(field) && body.getValue(field) != null) {
                body.put(field, body.getValue(field) instanceof Number n ? (int) Math.min(n.longValue(), cap) : cap);
                capped = true;
            }
        }
        if (!capped) {
            body.put("max_tokens", cap);
        }
    }
}
