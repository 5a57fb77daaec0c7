package co.corouter.server.ingress;

import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import co.corouter.server.pipeline.ParsedChat;
import co.corouter.server.routing.ModelCatalog;
import co.corouter.server.routing.ProviderPreferences;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Checks an OpenAI {@code /v1/embeddings} body: {@code model} (an embedding model of the catalog), {@code input} (a
 * string or a non-empty array of at most {@value #MAX_INPUTS} strings; token arrays are refused), {@code dimensions},
 * {@code encoding_format} ({@code float} or {@code base64}) and the routing fields of chat. Errors name the field.
 */
final class EmbeddingsParser {

    static final int MAX_INPUTS = 2_048;

    private final Function<String, ModelCatalog.Model> models;

    EmbeddingsParser(Function<String, ModelCatalog.Model> models) {
        this.models = models;
    }

    ParsedChat parse(Buffer raw) {
        if (raw == null || raw.length() == 0) {
            throw bad("the request body is empty; send a JSON object");
        }
        JsonObject body;
        try {
            body = raw.toJsonObject();
        } catch (DecodeException | ClassCastException e) {
            throw bad("the request body must be a JSON object");
        }
        if (!(body.getValue("model") instanceof String id) || id.isBlank()) {
            throw bad("'model' is required and must be a string");
        }
        List<String> inputs = inputs(body.getValue("input"));
        int dimensions = 0;
        Object asked = body.getValue("dimensions");
        if (asked != null) {
            if (!(asked instanceof Integer number) || number < 1 || number > 100_000) {
                throw bad("'dimensions' must be an integer between 1 and 100000");
            }
            dimensions = number;
        }
        Object format = body.getValue("encoding_format");
        if (format != null && !"float".equals(format) && !"base64".equals(format)) {
            throw bad("'encoding_format' must be float or base64");
        }
        ModelCatalog.Model model = embeddingModel(id);
        List<ModelCatalog.Model> tried = new ArrayList<>(List.of(model));
        if (body.getValue("models") instanceof JsonArray fallbacks) {
            for (Object fallback : fallbacks) {
                if (!(fallback instanceof String text)) {
                    throw bad("'models' must be an array of model ids");
                }
                ModelCatalog.Model next = embeddingModel(text);
                if (!tried.contains(next)) {
                    tried.add(next);
                }
            }
        } else if (body.getValue("models") != null) {
            throw bad("'models' must be an array of model ids");
        }
        ProviderPreferences preferences = ProviderPreferences.NONE;
        if (body.getValue("provider") != null) {
            if (!(body.getValue("provider") instanceof JsonObject provider)) {
                throw bad("'provider' must be an object");
            }
            preferences = ProviderPreferences.parse(provider);
        }
        return new ParsedChat(raw, model, List.copyOf(tried), false, 0, raw.length(), preferences, 0,
                new ParsedChat.EmbeddingInput(inputs, dimensions, "base64".equals(format)));
    }

    private ModelCatalog.Model embeddingModel(String id) {
        ModelCatalog.Model model = models.apply(id);
        if (!model.embedding()) {
            throw bad("model '" + model.id() + "' is not an embedding model: send it to /v1/chat/completions");
        }
        return model;
    }

    private static List<String> inputs(Object input) {
        if (input instanceof String text) {
            return List.of(text);
        }
        if (!(input instanceof JsonArray array) || array.isEmpty() || array.size() > MAX_INPUTS) {
            throw bad("'input' is required: a string or an array of 1 to " + MAX_INPUTS + " strings");
        }
        List<String> texts = new ArrayList<>(array.size());
        for (Object item : array) {
            if (!(item instanceof String text)) {
                throw bad("'input' must hold strings (token arrays are not supported)");
            }
            texts.add(text);
        }
        return List.copyOf(texts);
    }

    private static ApiException bad(String message) {
        return new ApiException(ErrorCodes.BAD_REQUEST, message);
    }
}
