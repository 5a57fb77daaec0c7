package co.corouter.server.ingress;

import co.corouter.plugin.api.ChatCompletion;
import co.corouter.plugin.api.Usage;
import co.corouter.server.common.Ids;
import co.corouter.server.common.Money;
import co.corouter.server.pipeline.Exchange;
import co.corouter.server.pipeline.Failure;
import co.corouter.server.pipeline.Pipeline;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code POST /v1/chat/completions}, the HTTP half of the pipeline: watches the client from the request head on, reads
 * the body, runs the {@link Pipeline} and renders its outcome — a whole completion spliced into the upstream's bytes,
 * the usage chunk and {@code [DONE]} after a stream, or an error (after a stream started, as a final event).
 */
final class ChatEndpoint {

    private static final Buffer DONE = Buffer.buffer("data: [DONE]\n\n");

    private final Pipeline pipeline;
    private final EdgeGuard guard;
    private final int bodyLimit;

    ChatEndpoint(Pipeline pipeline, EdgeGuard guard, int bodyLimit) {
        this.pipeline = pipeline;
        this.guard = guard;
        this.bodyLimit = bodyLimit;
    }

    void handle(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        HttpServerResponse response = ctx.response();
        EdgeGuard.Request watch = ctx.get(IngressVerticle.WATCH);
        Exchange exchange = new Exchange(Ids.generationId(), request.getHeader(HttpHeaders.AUTHORIZATION),
                new ResponseChunkSink(response));
        response.putHeader("X-Generation-Id", exchange.id()).putHeader("x-request-id", exchange.id());
        // from here on a client that leaves is noticed, whatever the pipeline is waiting for
        response.closeHandler(v -> {
            exchange.clientClosed();
            if (exchange.body() == null) {
                guard.finished(watch); // it left during its upload: no pipeline will finish it
            }
        });
        watch.holdForPipeline(exchange);
        BodyReader.read(request, watch, bodyLimit, guard)
                .onSuccess(body -> {
                    exchange.body(body);
                    pipeline.run(exchange).onComplete(done -> {
                        respond(exchange, response);
                        guard.finished(watch);
                    });
                })
                .onFailure(refused -> guard.finished(watch));
    }

    private void respond(Exchange exchange, HttpServerResponse response) {
        if (response.closed() || response.ended()) {
            return;
        }
        if (exchange.failure() == null) {
            if (exchange.completion() != null) {
                whole(exchange, exchange.completion(), response);
            } else {
                streamEnd(exchange, response);
            }
            return;
        }
        Failure failure = exchange.failureView();
        if (exchange.streamStarted()) {
            streamError(exchange, failure, response);
        } else {
            Errors.send(response, failure);
        }
    }

    private static void whole(Exchange exchange, ChatCompletion completion, HttpServerResponse response) {
        Buffer head = Buffer.buffer(384).appendString("\"id\":\"").appendString(exchange.id()).appendString("\"")
                .appendString(",\"model\":").appendBytes(quoted(exchange.served().model().id()))
                .appendString(",\"provider\":").appendBytes(quoted(exchange.provider()))
                .appendString(",\"usage\":");
        appendUsage(head, exchange.usage(), exchange.charged());
        // a parsed body (a provider without the raw-bytes API) is encoded once and takes the same splice
        Buffer answer = CompletionSplicer.splice(completion.raw() != null ? completion.raw()
                : completion.body().toBuffer(), head, "id", "model", "provider", "usage");
        response.putHeader("Content-Type", "application/json").end(answer);
    }

    private static void streamEnd(Exchange exchange, HttpServerResponse response) {
        ResponseChunkSink sink = (ResponseChunkSink) exchange.sink();
        sink.begin();
        Buffer tail = Buffer.buffer(512).appendString("data: {\"id\":\"").appendString(exchange.id()).appendString("\"")
                .appendString(",\"object\":\"chat.completion.chunk\",\"created\":")
                .appendString(Long.toString(exchange.createdMillis() / 1000))
                .appendString(",\"model\":").appendBytes(quoted(exchange.served().model().id()))
                .appendString(",\"provider\":").appendBytes(quoted(exchange.provider()))
                .appendString(",\"choices\":[],\"usage\":");
        appendUsage(tail, exchange.usage(), exchange.charged()).appendString("}\n\n").appendBuffer(DONE);
        response.end(tail);
    }

    private static void streamError(Exchange exchange, Failure failure, HttpServerResponse response) {
        JsonObject event = new JsonObject().put("id", exchange.id()).put("object", "chat.completion.chunk")
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
        response.end(Buffer.buffer("data: ").appendBuffer(encoded).appendString("\n\n").appendBuffer(DONE));
    }

    /** Catalog strings (model ids, provider names) as JSON string literals, encoded once. */
    private static final ConcurrentHashMap<String, byte[]> QUOTED = new ConcurrentHashMap<>();

    private static byte[] quoted(String value) {
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
                .appendString("},\"completion_tokens_details\":{\"reasoning_tokens\":")
                .appendString(Integer.toString(u.reasoningTokens()))
                .appendString("},\"cost_details\":{\"upstream_inference_cost\":null}}");
    }
}
