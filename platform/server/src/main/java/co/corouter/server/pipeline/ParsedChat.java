package co.corouter.server.pipeline;

import co.corouter.server.routing.ModelCatalog;
import co.corouter.server.routing.ProviderPreferences;
import io.vertx.core.buffer.Buffer;
import java.util.List;

/**
 * A validated chat-completions request: the client's bytes (forwarded as they are), the models to try (the request's
 * {@code model} first, then {@code models[]}), whether it streams, the completion cap the client set (0 when none),
 * its {@code provider} preferences and which optional parameters it sets (a bit per {@link #PARAMETERS} entry, for
 * {@code require_parameters}).
 */
public record ParsedChat(Buffer raw, ModelCatalog.Model model, List<ModelCatalog.Model> models, boolean stream,
        int requestedMaxTokens, int bodyBytes, ProviderPreferences preferences, long parameters,
        EmbeddingInput embedding) {

    /** What an embeddings request asks for (null on chat requests). */
    public record EmbeddingInput(List<String> inputs, int dimensions, boolean base64) {
    }

    /** A chat request (no embedding input). */
    public ParsedChat(Buffer raw, ModelCatalog.Model model, List<ModelCatalog.Model> models, boolean stream,
            int requestedMaxTokens, int bodyBytes, ProviderPreferences preferences, long parameters) {
        this(raw, model, models, stream, requestedMaxTokens, bodyBytes, preferences, parameters, null);
    }

    /** Request parameters an endpoint may or may not support (the catalog's {@code supported_parameters} names). */
    public static final List<String> PARAMETERS = List.of("tools", "tool_choice", "response_format", "seed", "stop",
            "logprobs", "top_logprobs", "logit_bias", "temperature", "top_p", "top_k", "frequency_penalty",
            "presence_penalty", "repetition_penalty", "min_p", "top_a", "max_tokens", "max_completion_tokens",
            "parallel_tool_calls", "structured_outputs", "reasoning", "include_reasoning", "web_search_options");

    /** The request's model (the first to try). */
    @Override
    public ModelCatalog.Model model() {
        return model;
    }

    /** The completion cap of the request's own model: what the client set, or that model's largest. */
    public int maxTokens() {
        return requestedMaxTokens > 0 ? requestedMaxTokens : model.maxOutputTokens();
    }

    /** The completion cap on one endpoint: what the client set, never beyond what the endpoint allows. */
    public int maxTokensFor(ModelCatalog.Endpoint endpoint) {
        if (embedding != null) {
            return 0;
        }
        return requestedMaxTokens > 0 ? Math.min(requestedMaxTokens, endpoint.maxOutputTokens())
                : endpoint.maxOutputTokens();
    }

    /** True when the endpoint supports every optional parameter the request sets. */
    public boolean supportedBy(ModelCatalog.Endpoint endpoint) {
        for (int i = 0; i < PARAMETERS.size(); i++) {
            if ((parameters & (1L << i)) != 0 && !endpoint.supports(PARAMETERS.get(i))) {
                return false;
            }
        }
        return true;
    }
}
