package co.corouter.server.ingress;

import co.corouter.plugin.api.ChatCompletion;
import co.corouter.plugin.api.Usage;
import co.corouter.server.common.Money;
import co.corouter.server.pipeline.Exchange;
import co.corouter.server.pipeline.Failure;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code POST /v1/chat/completions}, OpenAI's (and OpenRouter's) shape: a whole completion spliced into the upstream's
 * bytes, the usage chunk and {@code [DONE]} after a stream, an error in {@code {"error":{…}}} (after a stream started,
 * as a final event).
 */
final class OpenAiChatDialect implements Dialect {

    static final OpenAiChatDialect INSTANCE = new OpenAiChatDialect();
    static final Buffer DONE = Buffer.buffer("data: [DONE]\n\n");

    @Override
    public void whole(Exchange exchange, HttpServerResponse response) {
        ChatCompletion completion = exchange.completion();
        Buffer head = Buffer.buffer(384).appendString("\"id\":\"").appendString(exchange.id()).appendString("\"")
                .appendString(",\"model\":").appendBytes(quoted(exchange.served().model().id()))
                .appendString(",\"provider\":").appendBytes(quoted(exchange.provider()))
                .appendString(",\"usage\":");
        appendUsage(head, exchange.usage(), exchange.charged());
        // a parsed body (a provider without the raw-bytes API) is encoded once and takes the same splice
        Buffer answer = CompletionSplicer.splice(completion.raw() != null ? completion.raw()
                : completion.body().toBuffer(), head, "id", "model", "provider", "usage");
        Delivered.end(exchange, response.putHeader("Content-Type", "application/json"), answer);
    }

    @Override
    public void streamEnd(Exchange exchange, ResponseChunkSink sink, HttpServerResponse response) {
        sink.begin();
        Delivered.end(exchange, response, usageChunk(exchange, "chat.completion.chunk").appendBuffer(DONE));
    }

    /** The last event of a stream: no choices, corouter's usage with its cost. */
    static Buffer usageChunk(Exchange exchange, String object) {
        Buffer tail = Buffer.buffer(512).appendString("data: {\"id\":\"").appendString(exchange.id())
                .appendString("\",\"object\":\"").appendString(object).appendString("\",\"created\":")
                .appendString(Long.toString(exchange.createdMillis() / 1000))
                .appendString(",\"model\":").appendBytes(quoted(exchange.served().model().id()))
                .appendString(",\"provider\":").appendBytes(quoted(exchange.provider()))
                .appendString(",\"choices\":[],\"usage\":");
        return appendUsage(tail, exchange.usage(), exchange.charged()).appendString("}\n\n");
    }

    @Override
    public void streamError(Exchange exchange, Failure failure, ResponseChunkSink sink, HttpServerResponse response) {
        Delivered.end(exchange, response, errorEvent(exchange, failure, "chat.completion.chunk").appendBuffer(DONE));
    }

    /** A final event carrying the error, a choice finished with {@code error}, and the usage of what was delivered. */
    static Buffer errorEvent(Exchange exchange, Failure failure, String object) {
        JsonObject event = new JsonObject().put("id", exchange.id()).put("object", object)
                .put("created", exchange.createdMillis() / 1000)
                .put("model", exchange.served() != null ? exchange.served().model().id() : exchange.chat().model().id())
                .put("error", failure.body().getJsonObject("error"))
                .put("choices", new JsonArray().add(new JsonObject().put("index", 0)
                        .put("delta", new JsonObject()).put("finish_reason", "error")));
        Buffer encoded = event.toBuffer();
        if (exchange.usage() != null) {
            encoded = CompletionSplicer.splice(encoded, appendUsage(Buffer.buffer(256).appendString("\"usage\":"),
                    exchange.usage(), exchange.charged()), "usage");
        }
        return Buffer.buffer("data: ").appendBuffer(encoded).appendString("\n\n");
    }

    @Override
    public void error(Exchange exchange, Failure failure, HttpServerResponse response) {
        Errors.send(exchange, response, failure);
    }

    /** Catalog strings (model ids, provider names) as JSON string literals, encoded once. */
    private static final ConcurrentHashMap<String, byte[]> QUOTED = new ConcurrentHashMap<>();

    static byte[] quoted(String value) {
        byte[] cached = QUOTED.get(value);
        if (cached != null) {
            return cached;
        }
        byte[] inner = JsonStringEncoder.getInstance().quoteAsUTF8(value);
        byte[] out = new byte[inner.length + 2];
        out[0] = '"';
        System.arraycopy(inner, 0, out, 1, inner.length);
        out[out.length - 1] = '"';
        if (QUOTED.size() < 4_096) {
            QUOTED.put(value, out);
        }
        return out;
    }

    /**
     * The {@code usage} object corouter returns (tokens, exact {@code cost} as a plain decimal, details), written
     * straight into {@code out}: the one definition of its shape, used by whole answers, streams and errors.
     */
    static Buffer appendUsage(Buffer out, Usage usage, long charged) {
        Usage u = usage == null ? Usage.of(0, 0) : usage;
        return out.appendString("{\"prompt_tokens\":").appendString(Integer.toString(u.promptTokens()))
                .appendString(",\"completion_tokens\":").appendString(Integer.toString(u.completionTokens()))
                .appendString(",\"total_tokens\":").appendString(Integer.toString(u.totalTokens()))
                .appendString(",\"cost\":").appendString(Money.toUsd(charged).toPlainString())
                .appendString(",\"is_byok\":false,\"prompt_tokens_details\":{\"cached_tokens\":")
                .appendString(Integer.toString(u.cachedTokens()))
                .appendString(",\"cache_write_tokens\":").appendString(Integer.toString(u.cacheWriteTokens()))
                .appendString("},\"completion_tokens_details\":{\"reasoning_tokens\":")
                .appendString(Integer.toString(u.reasoningTokens()))
                .appendString("},\"cost_details\":{\"upstream_inference_cost\":null}}");
    }
}
