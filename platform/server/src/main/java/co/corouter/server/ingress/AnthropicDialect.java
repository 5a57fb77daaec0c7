package co.corouter.server.ingress;

import co.corouter.plugin.api.ChatCompletion;
import co.corouter.server.pipeline.Exchange;
import co.corouter.server.pipeline.Failure;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * {@code POST /v1/messages}, Anthropic's Messages API (specs/anthropic-messages.md), served by any provider: the
 * request is translated into a chat body ({@link AnthropicRequests}), answers come back as an Anthropic message or
 * Anthropic stream events ({@link AnthropicStream}), errors in Anthropic's shape with {@code request-id}. The key comes
 * from {@code x-api-key} or {@code Authorization: Bearer} (both API versions send one or the other);
 * {@code anthropic-version} and {@code anthropic-beta} are accepted whatever their value.
 */
final class AnthropicDialect implements Dialect {

    static final AnthropicDialect INSTANCE = new AnthropicDialect();

    @Override
    public String authorization(HttpServerRequest request) {
        String key = request.getHeader("x-api-key");
        return key != null && !key.isBlank() ? "Bearer " + key.trim() : request.getHeader("Authorization");
    }

    /** Anthropic's SDKs read {@code request-id} as the request's id; here it is the generation id. */
    @Override
    public void open(Exchange exchange, HttpServerResponse response) {
        response.putHeader("request-id", exchange.id());
    }

    @Override
    public Buffer chatBody(Buffer body) {
        return AnthropicRequests.toChat(body);
    }

    @Override
    public StreamTranslator streamTranslator(Exchange exchange) {
        return new AnthropicStream(exchange);
    }

    @Override
    public void whole(Exchange exchange, HttpServerResponse response) {
        ChatCompletion completion = exchange.completion();
        JsonObject body = completion.parsed();
        JsonArray content = new JsonArray();
        String finish = completion.finishReason();
        if (body.getValue("choices") instanceof JsonArray choices && !choices.isEmpty()
                && choices.getValue(0) instanceof JsonObject choice) {
            if (finish == null) {
                finish = choice.getString("finish_reason");
            }
            if (choice.getValue("message") instanceof JsonObject message) {
                if (message.getValue("reasoning") instanceof String reasoning && !reasoning.isEmpty()) {
                    content.add(new JsonObject().put("type", "thinking").put("thinking", reasoning).put("signature", ""));
                }
                if (message.getValue("content") instanceof String text && !text.isEmpty()) {
                    content.add(new JsonObject().put("type", "text").put("text", text).putNull("citations"));
                }
                if (message.getValue("tool_calls") instanceof JsonArray calls) {
                    for (Object item : calls) {
                        if (item instanceof JsonObject call && call.getValue("function") instanceof JsonObject f) {
                            Object input;
                            try {
                                input = new JsonObject(f.getString("arguments", "{}"));
                            } catch (RuntimeException notAnObject) {
                                input = new JsonObject();
                            }
                            content.add(new JsonObject().put("type", "tool_use").put("id", call.getString("id"))
                                    .put("name", f.getString("name")).put("input", input));
                        }
                    }
                }
            }
        }
        JsonObject message = new JsonObject().put("id", exchange.id()).put("type", "message").put("role", "assistant")
                .put("model", exchange.served().model().id()).put("provider", exchange.provider())
                .put("content", content).put("stop_reason", stopReason(finish == null ? "stop" : finish))
                .putNull("stop_sequence").put("usage", AnthropicStream.usage(exchange.usage(), exchange.charged()));
        Delivered.end(exchange, response.putHeader("Content-Type", "application/json"), message.toBuffer());
    }

    @Override
    public void streamEnd(Exchange exchange, ResponseChunkSink sink, HttpServerResponse response) {
        sink.begin();
        Delivered.end(exchange, response, translator(sink, exchange).finish());
    }

    @Override
    public void streamError(Exchange exchange, Failure failure, ResponseChunkSink sink, HttpServerResponse response) {
        Delivered.end(exchange, response, translator(sink, exchange).error(failure));
    }

    private static AnthropicStream translator(ResponseChunkSink sink, Exchange exchange) {
        return sink.translator() instanceof AnthropicStream stream ? stream : new AnthropicStream(exchange);
    }

    @Override
    public void error(Exchange exchange, Failure failure, HttpServerResponse response) {
        send(exchange, response, failure, exchange.id());
    }

    /** An error response in Anthropic's shape (with {@code retry-after} when the failure has one). */
    static void send(HttpServerResponse response, Failure failure, String requestId) {
        send(null, response, failure, requestId);
    }

    /** The same, copying what it writes into the exchange's audit capture when there is one. */
    static void send(Exchange exchange, HttpServerResponse response, Failure failure, String requestId) {
        if (response.ended() || response.closed() || response.headWritten()) {
            return;
        }
        response.setStatusCode(failure.code()).putHeader("Content-Type", "application/json")
                .putHeader("request-id", requestId);
        if (failure.retryAfterSeconds() > 0) {
            response.putHeader("retry-after", Long.toString(failure.retryAfterSeconds()));
        }
        Delivered.end(exchange, response, errorBody(failure, requestId).toBuffer());
    }

    /** {@code {"type":"error","error":{"type":…,"message":…},"request_id":…}} for a failure. */
    static JsonObject errorBody(Failure failure, String requestId) {
        JsonObject error = new JsonObject().put("type", errorType(failure.code())).put("message", failure.message());
        if (failure.metadata() != null && !failure.metadata().isEmpty()) {
            error.put("details", failure.metadata());
        }
        return new JsonObject().put("type", "error").put("error", error).put("request_id", requestId);
    }

    static String errorType(int status) {
        return switch (status) {
            case 400, 413, 422 -> status == 413 ? "request_too_large" : "invalid_request_error";
            case 401 -> "authentication_error";
            case 402 -> "billing_error";
            case 403 -> "permission_error";
            case 404 -> "not_found_error";
            case 429 -> "rate_limit_error";
            case 503, 529 -> "overloaded_error";
            case 504, 408 -> "timeout_error";
            default -> "api_error";
        };
    }

    /** OpenAI's finish reason as Anthropic's stop reason (§6.2). */
    static String stopReason(String finishReason) {
        return switch (finishReason) {
            case "length" -> "max_tokens";
            case "tool_calls", "function_call" -> "tool_use";
            case "content_filter" -> "refusal";
            default -> "end_turn";
        };
    }
}
