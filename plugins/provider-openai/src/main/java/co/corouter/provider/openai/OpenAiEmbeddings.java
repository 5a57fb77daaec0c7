package co.corouter.provider.openai;

import co.corouter.plugin.api.ContentJson;
import co.corouter.plugin.api.EmbeddingRequest;
import co.corouter.plugin.api.Embeddings;
import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import co.corouter.plugin.api.TokenCounter;
import co.corouter.plugin.api.Usage;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.List;
import java.util.Set;

/**
 * The two translations of {@code POST {base_url}/embeddings}: the client's body into the upstream's, and the upstream's
 * answer into {@link Embeddings}.
 *
 * <p>The body is spliced from the client's bytes like a chat body ({@link UpstreamBody}): {@code model} becomes the
 * upstream model, {@code encoding_format} is always {@code float} (the host encodes base64 for a client that asked for
 * it, from the vectors), the OpenRouter-only fields are dropped and everything else ({@code input}, {@code dimensions},
 * {@code user}) is copied as it came.
 */
final class OpenAiEmbeddings {

    private static final Set<String> REPLACED = Set.of("model", "encoding_format");
    /** OpenRouter-only fields: strict upstreams (OpenAI itself) reject unknown parameters with a 400. */
    private static final Set<String> ROUTER_ONLY_FIELDS = Set.of("models", "provider", "route", "transforms",
            "plugins", "usage", "debug");
    private OpenAiEmbeddings() {
    }

    /** The upstream body for {@code request}, as JSON bytes. */
    static Buffer body(EmbeddingRequest request) {
        Buffer out = Buffer.buffer(request.raw() == null ? 256 : request.raw().length() + 64)
                .appendString("{\"model\":\"")
                .appendBytes(JsonStringEncoder.getInstance().quoteAsUTF8(request.upstreamModel()))
                .appendString("\",\"encoding_format\":\"float\"");
        if (request.raw() == null) {
            out.appendString(",\"input\":").appendString(new JsonArray(List.copyOf(request.inputs())).encode());
            if (request.dimensions() > 0) {
                out.appendString(",\"dimensions\":").appendString(Integer.toString(request.dimensions()));
            }
            return out.appendByte((byte) '}');
        }
        byte[] bytes = request.raw().getBytes();
        boolean dimensions = false;
        try (JsonParser parser = ContentJson.parser(bytes)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new IllegalArgumentException("the request body is not a JSON object");
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                int start = (int) parser.currentTokenLocation().getByteOffset();
                JsonToken value = parser.nextToken();
                if (REPLACED.contains(name) || ROUTER_ONLY_FIELDS.contains(name)) {
                    parser.skipChildren();
                    continue;
                }
                dimensions |= name.equals("dimensions");
                int end;
                if (value == JsonToken.START_OBJECT || value == JsonToken.START_ARRAY) {
                    parser.skipChildren();
                } else if (value == JsonToken.VALUE_STRING) {
                    parser.getTextLength(); // a string is read lazily: finish it so the position is past its quote
                }
                end = (int) parser.currentLocation().getByteOffset();
                out.appendByte((byte) ',').appendBytes(bytes, start, end - start);
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("the request body is not valid JSON", e);
        }
        if (!dimensions && request.dimensions() > 0) {
            out.appendString(",\"dimensions\":").appendString(Integer.toString(request.dimensions()));
        }
        return out.appendByte((byte) '}');
    }

    /**
     * The vectors of a 2xx answer, in input order ({@code data[].index}), and the upstream's {@code prompt_tokens};
     * without a usage, the inputs counted with {@code tokens} (estimated).
     */
    static Embeddings embeddings(int status, Buffer body, EmbeddingRequest request, TokenCounter tokens) {
        JsonObject answer;
        try {
            answer = new JsonObject(body);
        } catch (RuntimeException notJson) {
            throw new ProviderException(Kind.BAD_RESPONSE, status, "upstream sent embeddings that are not JSON");
        }
        if (!(answer.getValue("data") instanceof JsonArray data)) {
            throw new ProviderException(Kind.BAD_RESPONSE, status, "upstream sent embeddings without data");
        }
        int expected = request.inputs().size();
        if (data.size() != expected) {
            throw new ProviderException(Kind.BAD_RESPONSE, status, "upstream sent " + data.size()
                    + " embeddings for " + expected + " inputs");
        }
        float[][] vectors = new float[expected][];
        for (int i = 0; i < expected; i++) {
            if (!(data.getValue(i) instanceof JsonObject item)) {
                throw new ProviderException(Kind.BAD_RESPONSE, status, "upstream sent an embedding that is not an "
                        + "object");
            }
            int index = item.getValue("index") instanceof Number n ? n.intValue() : i;
            if (index < 0 || index >= expected || vectors[index] != null) {
                throw new ProviderException(Kind.BAD_RESPONSE, status, "upstream sent embeddings with wrong indexes");
            }
            vectors[index] = vector(item.getValue("embedding"), status);
        }
        return new Embeddings(List.of(vectors), usage(answer.getValue("usage"), request, tokens));
    }

    private static float[] vector(Object embedding, int status) {
        if (embedding instanceof JsonArray values && !values.isEmpty()) {
            float[] vector = new float[values.size()];
            for (int i = 0; i < vector.length; i++) {
                if (!(values.getValue(i) instanceof Number n)) {
                    throw new ProviderException(Kind.BAD_RESPONSE, status, "upstream sent a non-numeric embedding");
                }
                vector[i] = n.floatValue();
            }
            return vector;
        }
        if (embedding instanceof String base64) {
            // asked for float; an upstream that answers base64 anyway sends little-endian float32 bytes
            try {
                ByteBuffer bytes = ByteBuffer.wrap(Base64.getDecoder().decode(base64)).order(ByteOrder.LITTLE_ENDIAN);
                if (bytes.remaining() > 0 && bytes.remaining() % Float.BYTES == 0) {
                    float[] vector = new float[bytes.remaining() / Float.BYTES];
                    for (int i = 0; i < vector.length; i++) {
                        vector[i] = bytes.getFloat();
                    }
                    return vector;
                }
            } catch (IllegalArgumentException notBase64) {
                // reported below
            }
        }
        throw new ProviderException(Kind.BAD_RESPONSE, status, "upstream sent an embedding that is not a vector");
    }

    private static Usage usage(Object reported, EmbeddingRequest request, TokenCounter tokens) {
        if (reported instanceof JsonObject u && u.getValue("prompt_tokens") instanceof Number prompt
                && prompt.intValue() >= 0) {
            return Usage.of(prompt.intValue(), 0);
        }
        int counted = 0;
        for (String input : request.inputs()) {
            counted += tokens.count(input);
        }
        return new Usage(counted, 0, 0, 0, true);
    }
}
