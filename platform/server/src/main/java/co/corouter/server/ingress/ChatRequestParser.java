package co.corouter.server.ingress;

import co.corouter.plugin.api.ContentJson;
import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import co.corouter.server.pipeline.ParsedChat;
import co.corouter.server.routing.ModelCatalog;
import co.corouter.server.routing.ProviderPreferences;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks a chat-completions body in one streaming pass, without building it into objects — the body travels on as
 * the client's bytes. Sampling numbers are range-checked (a value the upstream would reject, or silently clamp, is a
 * 400 here) and the token cap must fit the model. Error messages name fields, never echo content.
 */
final class ChatRequestParser {

    /** A number the client may set: its range and whether it must be integral. */
    private record Param(String name, double min, double max, boolean integer) {
        String rule() {
            return "'" + name + "' must be " + (integer ? "an integer" : "a number") + " between "
                    + format(min) + " and " + format(max);
        }

        private static String format(double bound) {
            return bound == Math.rint(bound) && Math.abs(bound) <= 9.3e18 ? Long.toString((long) bound)
                    : Double.toString(bound);
        }
    }

    private static final String[] TOKEN_CAPS = {"max_tokens", "max_completion_tokens"};
    private static final Param[] NUMBERS = {
        new Param("temperature", 0, 2, false),
        new Param("top_p", 0, 1, false),
        new Param("frequency_penalty", -2, 2, false),
        new Param("presence_penalty", -2, 2, false),
        new Param("repetition_penalty", 0, 2, false),
        new Param("min_p", 0, 1, false),
        new Param("top_a", 0, 1, false),
        new Param("top_k", 0, 1_000_000, true),
        new Param("top_logprobs", 0, 20, true),
        new Param("seed", -9.223372036854775808E18, 9.223372036854775807E18, true),
        // every choice is a whole completion: n > 1 would multiply the output the reservation covers
        new Param("n", 1, 1, true),
    };
    private static final double NOT_A_NUMBER = Double.NaN;

    private final java.util.function.Function<String, ModelCatalog.Model> models;

    /** @param models resolves a model id, failing with a 400 {@link ApiException} for an unknown one */
    ChatRequestParser(java.util.function.Function<String, ModelCatalog.Model> models) {
        this.models = models;
    }

    /** What one pass over the body found; checked afterwards in a fixed order, so errors do not depend on key order. */
    private static final class Scan {
        Object model;
        boolean messagesArray;
        int messageCount;
        String messageError;
        Object stream;
        /** The raw JSON of {@code models} and {@code provider} (read only when present), or WRONG_TYPE. */
        Object fallbackModels;
        Object provider;
        /** A bit per {@link ParsedChat#PARAMETERS} entry the body sets (not null). */
        long parameters;
        /** Token caps and numbers as read: absent (null), a double (NaN when not a number), integral or not. */
        final Double[] caps = new Double[TOKEN_CAPS.length];
        final Double[] numbers = new Double[NUMBERS.length];
    }

    ParsedChat parse(Buffer raw) {
        if (raw == null || raw.length() == 0) {
            throw bad("the request body is empty; send a JSON object");
        }
        Scan scan = new Scan();
        byte[] bytes = raw.getBytes();
        try (JsonParser parser = ContentJson.parser(bytes)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw notAnObject(raw);
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                JsonToken value = parser.nextToken();
                if (value != JsonToken.VALUE_NULL) {
                    int parameter = ParsedChat.PARAMETERS.indexOf(name);
                    if (parameter >= 0) {
                        scan.parameters |= 1L << parameter;
                    }
                }
                member(name, value, parser, scan, bytes);
            }
            if (parser.currentToken() != JsonToken.END_OBJECT || parser.nextToken() != null) {
                throw bad("the request body is not valid JSON");
            }
        } catch (IOException e) {
            throw bad("the request body is not valid JSON");
        }
        if (!(scan.model instanceof String modelId) || modelId.isBlank()) {
            throw bad("'model' is required and must be a string");
        }
        if (!scan.messagesArray || scan.messageCount == 0) {
            throw bad("'messages' is required and must be a non-empty array");
        }
        if (scan.messageError != null) {
            throw bad(scan.messageError);
        }
        if (scan.stream != null && !(scan.stream instanceof Boolean)) {
            throw bad("'stream' must be a boolean");
        }
        boolean stream = Boolean.TRUE.equals(scan.stream);
        for (int i = 0; i < NUMBERS.length; i++) {
            Double value = scan.numbers[i];
            if (value != null && !within(value, NUMBERS[i].min(), NUMBERS[i].max(), NUMBERS[i].integer())) {
                throw bad(NUMBERS[i].rule());
            }
        }
        ModelCatalog.Model model = chatModel(modelId);
        List<ModelCatalog.Model> tried = fallbacks(model, scan.fallbackModels);
        ProviderPreferences preferences = ProviderPreferences.NONE;
        if (scan.provider != null) {
            if (!(scan.provider instanceof JsonObject provider)) {
                throw bad("'provider' must be an object");
            }
            preferences = ProviderPreferences.parse(provider);
        }
        int maxTokens = 0;
        for (int i = 0; i < TOKEN_CAPS.length; i++) {
            Double value = scan.caps[i];
            if (value == null) {
                continue;
            }
            if (!within(value, 1, model.maxOutputTokens(), true)) {
                throw new ApiException(ErrorCodes.BAD_REQUEST, "'" + TOKEN_CAPS[i] + "' must be an integer between 1 and "
                        + model.maxOutputTokens() + " (the most " + model.id() + " can produce)",
                        new JsonObject().put("param", TOKEN_CAPS[i]).put("max", model.maxOutputTokens()));
            }
            maxTokens = maxTokens == 0 ? value.intValue() : (int) Math.min(maxTokens, value.longValue());
        }
        return new ParsedChat(raw, model, tried, stream, maxTokens, raw.length(), preferences, scan.parameters);
    }

    /** A model of the catalog that serves chat (an embedding model is a 400 that says where to send it). */
    private ModelCatalog.Model chatModel(String id) {
        ModelCatalog.Model model = models.apply(id);
        if (model.embedding()) {
            throw bad("model '" + model.id() + "' is an embedding model: send it to /v1/embeddings");
        }
        return model;
    }

    /** The request's model, then each model of {@code models[]} not already in the list (at most 10). */
    private List<ModelCatalog.Model> fallbacks(ModelCatalog.Model model, Object listed) {
        if (listed == null) {
            return List.of(model);
        }
        if (!(listed instanceof JsonArray array) || array.size() > MAX_FALLBACK_MODELS) {
            throw bad("'models' must be an array of at most " + MAX_FALLBACK_MODELS + " model ids");
        }
        List<ModelCatalog.Model> tried = new ArrayList<>(array.size() + 1);
        tried.add(model);
        for (Object id : array) {
            if (!(id instanceof String text)) {
                throw bad("'models' must be an array of at most " + MAX_FALLBACK_MODELS + " model ids");
            }
            ModelCatalog.Model fallback = chatModel(text);
            if (!tried.contains(fallback)) {
                tried.add(fallback);
            }
        }
        return List.copyOf(tried);
    }

    /** One top-level member; the parser is on its value and is left on the value's last token. */
    private static void member(String name, JsonToken value, JsonParser parser, Scan scan, byte[] bytes)
            throws IOException {
        switch (name) {
            case "models" -> scan.fallbackModels = value == JsonToken.VALUE_NULL ? null
                    : value == JsonToken.START_ARRAY ? new JsonArray(slice(parser, bytes)) : skip(parser);
            case "provider" -> scan.provider = value == JsonToken.VALUE_NULL ? null
                    : value == JsonToken.START_OBJECT ? new JsonObject(slice(parser, bytes)) : skip(parser);
            case "model" -> scan.model = value == JsonToken.VALUE_STRING ? parser.getText() : skip(parser);
            case "messages" -> {
                scan.messagesArray = value == JsonToken.START_ARRAY;
                scan.messageCount = 0;
                scan.messageError = null;
                if (scan.messagesArray) {
                    messages(parser, scan);
                } else {
                    parser.skipChildren();
                }
            }
            case "stream" -> scan.stream = value == JsonToken.VALUE_TRUE ? Boolean.TRUE
                    : value == JsonToken.VALUE_FALSE ? Boolean.FALSE : value == JsonToken.VALUE_NULL ? null : skip(parser);
            default -> {
                for (int i = 0; i < TOKEN_CAPS.length; i++) {
                    if (TOKEN_CAPS[i].equals(name)) {
                        scan.caps[i] = number(value, parser);
                        return;
                    }
                }
                for (int i = 0; i < NUMBERS.length; i++) {
                    if (NUMBERS[i].name().equals(name)) {
                        scan.numbers[i] = number(value, parser);
                        return;
                    }
                }
                parser.skipChildren();
            }
        }
    }

    /** The messages array (parser on its START_ARRAY, left on its END_ARRAY); keeps the first error. */
    private static void messages(JsonParser parser, Scan scan) throws IOException {
        JsonToken token;
        while ((token = parser.nextToken()) != JsonToken.END_ARRAY) {
            int i = scan.messageCount++;
            if (token != JsonToken.START_OBJECT) {
                parser.skipChildren();
                error(scan, "'messages[" + i + "]' must be an object");
                continue;
            }
            String role = null;
            boolean contentOk = true;
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                JsonToken value = parser.nextToken();
                if ("role".equals(name)) {
                    role = value == JsonToken.VALUE_STRING ? parser.getText() : null;
                    parser.skipChildren();
                } else if ("content".equals(name)) {
                    contentOk = value == JsonToken.VALUE_STRING || value == JsonToken.START_ARRAY
                            || value == JsonToken.VALUE_NULL;
                    parser.skipChildren();
                } else {
                    parser.skipChildren();
                }
            }
            if (role == null || !(role.equals("system") || role.equals("user") || role.equals("assistant")
                    || role.equals("tool") || role.equals("developer") || role.equals("function"))) {
                error(scan, "'messages[" + i + "].role' must be one of system, developer, user, assistant, tool");
            } else if (!contentOk) {
                error(scan, "'messages[" + i + "].content' must be a string or an array of content parts");
            }
        }
    }

    private static void error(Scan scan, String message) {
        if (scan.messageError == null) {
            scan.messageError = message;
        }
    }

    /**
     * A numeric member's value as a double (a huge integer becomes a huge double or infinity, so it fails any range
     * rather than wrapping around), NaN for a value that is not a number, null for JSON null.
     */
    private static Double number(JsonToken value, JsonParser parser) throws IOException {
        if (value == JsonToken.VALUE_NULL) {
            return null;
        }
        if (value == JsonToken.VALUE_NUMBER_INT || value == JsonToken.VALUE_NUMBER_FLOAT) {
            return parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                    ? parser.getBigIntegerValue().doubleValue() : parser.getDoubleValue();
        }
        parser.skipChildren();
        return NOT_A_NUMBER;
    }

    private static boolean within(double value, double min, double max, boolean integer) {
        return !Double.isNaN(value) && value >= min && value <= max && (!integer || value == Math.rint(value));
    }

    /** The bytes of the structure the parser is on (left on its end), for the rare members read whole. */
    private static Buffer slice(JsonParser parser, byte[] bytes) throws IOException {
        int start = (int) parser.currentTokenLocation().getByteOffset();
        parser.skipChildren();
        int end = (int) parser.currentLocation().getByteOffset();
        return Buffer.buffer(end - start).appendBytes(bytes, start, end - start);
    }

    /** Skips a value whose type is wrong for its field, returning a marker that fails the field's check. */
    private static Object skip(JsonParser parser) throws IOException {
        parser.skipChildren();
        return WRONG_TYPE;
    }

    private static final Object WRONG_TYPE = new Object();
    static final int MAX_FALLBACK_MODELS = 10;

    /** Why a body that does not start with an object is refused: not JSON at all, or JSON of another kind. */
    private static ApiException notAnObject(Buffer raw) {
        try {
            raw.toJsonValue();
        } catch (DecodeException e) {
            return bad("the request body is not valid JSON");
        }
        return bad("the request body must be a JSON object");
    }

    private static ApiException bad(String message) {
        return new ApiException(ErrorCodes.BAD_REQUEST, message);
    }
}
