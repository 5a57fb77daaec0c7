package co.corouter.provider.openai;

import co.corouter.plugin.api.ChatRequest;
import co.corouter.plugin.api.ContentJson;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.util.Set;

/**
 * Turns the client's request body into the body sent upstream, splicing the client's bytes: every top-level member
 * is copied as it came except {@code model} (replaced), {@code stream} (set), {@code stream_options} (usage asked
 * for on a stream, dropped otherwise), the token caps (capped) and the OpenRouter-only fields (dropped). Content is
 * never parsed into objects on this path.
 */
final class UpstreamBody {

    /** OpenRouter-only fields: strict upstreams (OpenAI itself) reject unknown parameters with a 400. */
    private static final Set<String> ROUTER_ONLY_FIELDS = Set.of("models", "provider", "route", "transforms",
            "plugins", "usage", "debug");
    private UpstreamBody() {
    }

    /** The upstream body for {@code request}, as JSON bytes. */
    static Buffer of(ChatRequest request, boolean stream) {
        byte[] bytes = request.raw().getBytes();
        int cap = request.maxTokens();
        Buffer out = Buffer.buffer(bytes.length + 96).appendString("{\"model\":")
                .appendBytes(quoted(request.upstreamModel()))
                .appendString(stream ? ",\"stream\":true" : ",\"stream\":false");
        boolean capped = false;
        boolean streamOptions = false;
        try (JsonParser parser = ContentJson.parser(bytes)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new IllegalArgumentException("the request body is not a JSON object");
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                int start = (int) parser.currentTokenLocation().getByteOffset();
                JsonToken value = parser.nextToken();
                switch (name) {
                    case "model", "stream" -> parser.skipChildren();
                    case "stream_options" -> {
                        if (stream) {
                            int from = (int) parser.currentTokenLocation().getByteOffset();
                            parser.skipChildren();
                            JsonObject options = value == JsonToken.START_OBJECT
                                    ? new JsonObject(Buffer.buffer().appendBytes(bytes, from,
                                    (int) parser.currentLocation().getByteOffset() - from)) : new JsonObject();
                            out.appendString(",\"stream_options\":").appendBuffer(
                                    options.put("include_usage", true).toBuffer());
                            streamOptions = true;
                        } else {
                            parser.skipChildren(); // OpenAI answers 400 to stream_options on a non-streaming request
                        }
                    }
                    case "max_tokens", "max_completion_tokens" -> {
                        // reasoning models accept only max_completion_tokens: cap whichever the client used
                        if (value == JsonToken.VALUE_NULL || cap <= 0) {
                            copy(out, bytes, start, parser);
                        } else {
                            long given = value == JsonToken.VALUE_NUMBER_INT || value == JsonToken.VALUE_NUMBER_FLOAT
                                    ? parser.getNumberValue().longValue() : cap;
                            parser.skipChildren();
                            out.appendString(",\"").appendString(name).appendString("\":")
                                    .appendString(Long.toString(Math.min(given, cap)));
                            capped = true;
                        }
                    }
                    default -> {
                        if (ROUTER_ONLY_FIELDS.contains(name)) {
                            parser.skipChildren();
                        } else {
                            copy(out, bytes, start, parser);
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("the request body is not valid JSON", e);
        }
        if (stream && !streamOptions) {
            out.appendString(",\"stream_options\":{\"include_usage\":true}");
        }
        if (!capped && cap > 0) {
            out.appendString(",\"max_tokens\":").appendString(Integer.toString(cap));
        }
        return out.appendByte((byte) '}');
    }

    /** Copies the member that starts at {@code start} (its name) through its value, which the parser is on. */
    private static void copy(Buffer out, byte[] bytes, int start, JsonParser parser) throws IOException {
        JsonToken value = parser.currentToken();
        int end;
        if (value == JsonToken.START_OBJECT || value == JsonToken.START_ARRAY) {
            parser.skipChildren();
            end = (int) parser.currentLocation().getByteOffset();
        } else if (value == JsonToken.VALUE_STRING) {
            // a string value is read lazily: finish it so the parser's position is past its closing quote
            parser.getTextLength();
            end = (int) parser.currentLocation().getByteOffset();
        } else {
            end = (int) parser.currentLocation().getByteOffset();
        }
        out.appendByte((byte) ',').appendBytes(bytes, start, end - start);
    }

    /** Upstream model names as JSON string literals, encoded once (a provider has a handful). */
    private static final java.util.concurrent.ConcurrentHashMap<String, byte[]> QUOTED =
            new java.util.concurrent.ConcurrentHashMap<>();

    private static byte[] quoted(String value) {
        byte[] cached = QUOTED.get(value);
        if (cached != null) {
            return cached;
        }
        byte[] out = encode(value);
        if (QUOTED.size() < 1_024) {
            QUOTED.put(value, out);
        }
        return out;
    }

    private static byte[] encode(String value) {
        byte[] inner = JsonStringEncoder.getInstance().quoteAsUTF8(value);
        byte[] out = new byte[inner.length + 2];
        out[0] = '"';
        System.arraycopy(inner, 0, out, 1, inner.length);
        out[out.length - 1] = '"';
        return out;
    }
}
