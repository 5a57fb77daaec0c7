package co.corouter.testkit.upstream;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * {@link FakeOpenAiUpstream}'s answer to {@code POST /v1/embeddings}, in OpenAI's shape:
 * {@code {"object":"list","data":[{"object":"embedding","index":i,"embedding":[…]}],"model":…,
 * "usage":{"prompt_tokens":n,"total_tokens":n}}}. {@code input} is a string, an array of strings, an array of token ids
 * or an array of such arrays (a token array is embedded as its JSON text and counts one token per id).
 *
 * <p>Of a {@link Behaviour} it honours the error status, hang and delay (handled by the fake), {@link
 * Behaviour#resetAfter} (closes the connection), {@link Behaviour#stallAfter} (never answers), {@link
 * Behaviour#malformedBody}, {@link Behaviour#missingChoices} (no {@code data}) and {@link Behaviour#omitUsage}.
 */
final class FakeOpenAiEmbeddings {

    private FakeOpenAiEmbeddings() {
    }

    static void answer(HttpServerRequest request, JsonObject body, Behaviour b, ResponseTrace trace) {
        HttpServerResponse response = request.response().putHeader("Content-Type", "application/json");
        switch (b.fault) {
            case RESET -> {
                request.connection().close();
                return;
            }
            case STALL -> {
                return;
            }
            default -> {
            }
        }
        String invalid = invalid(body);
        if (invalid != null) {
            FakeOpenAiUpstream.sendError(response, trace, 400, "invalid_request_error", null, invalid);
            return;
        }
        if (b.malformedBody) {
            FakeOpenAiUpstream.end(response, trace, Buffer.buffer(
                    "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\",\"index\":0,\"embedding\":[0.12"));
            return;
        }
        int dimensions = body.getValue("dimensions") instanceof Number n ? n.intValue()
                : FakeEmbeddings.DEFAULT_DIMENSIONS;
        boolean base64 = "base64".equals(body.getValue("encoding_format"));
        List<Input> inputs = inputs(body.getValue("input"));
        JsonObject answer = new JsonObject().put("object", "list");
        if (!b.missingChoices) {
            JsonArray data = new JsonArray();
            for (int i = 0; i < inputs.size(); i++) {
                float[] vector = FakeEmbeddings.vector(inputs.get(i).text(), dimensions);
                data.add(new JsonObject().put("object", "embedding").put("index", i)
                        .put("embedding", base64 ? base64(vector) : floats(vector)));
            }
            answer.put("data", data);
        }
        answer.put("model", body.getString("model"));
        if (!b.omitUsage) {
            int tokens = inputs.stream().mapToInt(Input::tokens).sum();
            answer.put("usage", new JsonObject().put("prompt_tokens", tokens).put("total_tokens", tokens));
        }
        FakeOpenAiUpstream.end(response, trace, answer.toBuffer());
    }

    /** One input: the text its vector derives from and its token count. */
    private record Input(String text, int tokens) {
    }

    /** OpenAI's 400 message for a body it refuses, or null. */
    private static String invalid(JsonObject body) {
        if (!(body.getValue("model") instanceof String model) || model.isBlank()) {
            return "you must provide a model parameter";
        }
        Object input = body.getValue("input");
        if (input == null) {
            return "'input' is a required property";
        }
        if (inputs(input) == null) {
            return "'$.input' is invalid. Please check the API reference: "
                    + "https://platform.openai.com/docs/api-reference.";
        }
        Object dimensions = body.getValue("dimensions");
        if (dimensions != null && !(dimensions instanceof Integer d && d > 0)) {
            return "Invalid value for 'dimensions': must be a positive integer.";
        }
        Object format = body.getValue("encoding_format");
        if (format != null && !"float".equals(format) && !"base64".equals(format)) {
            return "Invalid value for 'encoding_format': must be 'float' or 'base64'.";
        }
        return null;
    }

    /** The inputs of a valid {@code input}, or null when it has none of OpenAI's four shapes. */
    private static List<Input> inputs(Object input) {
        if (input instanceof String text) {
            return text.isEmpty() ? null : List.of(new Input(text, FakeEmbeddings.tokens(text)));
        }
        if (!(input instanceof JsonArray array) || array.isEmpty()) {
            return null;
        }
        if (tokenIds(array)) {
            return List.of(new Input(array.encode(), array.size()));
        }
        List<Input> inputs = new ArrayList<>();
        for (Object item : array) {
            if (item instanceof String text && !text.isEmpty()) {
                inputs.add(new Input(text, FakeEmbeddings.tokens(text)));
            } else if (item instanceof JsonArray ids && !ids.isEmpty() && tokenIds(ids)) {
                inputs.add(new Input(ids.encode(), ids.size()));
            } else {
                return null;
            }
        }
        return inputs;
    }

    private static boolean tokenIds(JsonArray array) {
        return array.stream().allMatch(item -> item instanceof Integer || item instanceof Long);
    }

    private static JsonArray floats(float[] vector) {
        JsonArray values = new JsonArray();
        for (float v : vector) {
            values.add(v);
        }
        return values;
    }

    /** OpenAI's {@code encoding_format: "base64"}: the little-endian float32 bytes, base64-encoded. */
    private static String base64(float[] vector) {
        ByteBuffer bytes = ByteBuffer.allocate(vector.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : vector) {
            bytes.putFloat(v);
        }
        return Base64.getEncoder().encodeToString(bytes.array());
    }
}
