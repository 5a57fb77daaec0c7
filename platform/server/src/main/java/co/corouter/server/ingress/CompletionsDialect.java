package co.corouter.server.ingress;

import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import co.corouter.server.pipeline.Exchange;
import co.corouter.server.pipeline.Failure;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * {@code POST /v1/completions}, OpenAI's legacy text completions: the {@code prompt} becomes the one user message of
 * a chat request ({@code max_tokens} defaults to 16, as OpenAI's does), and the chat answer comes back as
 * {@code text_completion} objects — whole, or one per chunk when streaming, then the usage chunk and {@code [DONE]}.
 * What a chat model cannot honour ({@code suffix}, {@code echo}, {@code best_of} above 1, {@code logprobs}) is a 400
 * rather than silently ignored.
 */
final class CompletionsDialect implements Dialect {

    static final CompletionsDialect INSTANCE = new CompletionsDialect();
    private static final String OBJECT = "text_completion";
    static final int DEFAULT_MAX_TOKENS = 16;

    @Override
    public Buffer chatBody(Buffer raw) {
        JsonObject body;
        try {
            body = raw.toJsonObject();
        } catch (DecodeException | ClassCastException e) {
            throw bad("the request body must be a JSON object");
        }
        Object prompt = body.remove("prompt");
        if (prompt instanceof JsonArray prompts && prompts.size() == 1 && prompts.getValue(0) instanceof String one) {
            prompt = one;
        }
        if (!(prompt instanceof String text)) {
            throw bad("'prompt' is required: a string (or an array of one string)");
        }
        refuse(body, "suffix", body.getValue("suffix") != null && !"".equals(body.getValue("suffix")));
        refuse(body, "echo", Boolean.TRUE.equals(body.getValue("echo")));
        refuse(body, "best_of", body.getValue("best_of") instanceof Integer n && n > 1);
        refuse(body, "logprobs", body.getValue("logprobs") != null);
        if (!body.containsKey("max_tokens")) {
            body.put("max_tokens", DEFAULT_MAX_TOKENS);
        }
        body.put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", text)));
        return body.toBuffer();
    }

    private static void refuse(JsonObject body, String field, boolean asked) {
        if (asked) {
            throw bad("'" + field + "' is not supported: corouter serves completions with chat models");
        }
        body.remove(field);
    }

    @Override
    public StreamTranslator streamTranslator(Exchange exchange) {
        return events -> translate(exchange, events);
    }

    /** Each chat chunk as a text_completion chunk: its content as {@code text}, its finish reason. */
    private static Buffer translate(Exchange exchange, Buffer events) {
        Buffer out = Buffer.buffer(events.length());
        SseEvents.forEachData(events, payload -> {
            JsonObject chunk = SseEvents.object(payload);
            JsonObject choice = chunk == null ? null : firstChoice(chunk);
            if (choice == null) {
                return;
            }
            JsonObject delta = choice.getValue("delta") instanceof JsonObject d ? d : new JsonObject();
            String text = delta.getValue("content") instanceof String content ? content : "";
            Object finish = choice.getValue("finish_reason");
            if (text.isEmpty() && finish == null) {
                return; // a role-only or reasoning-only chunk has nothing to say here
            }
            out.appendString("data: ").appendBuffer(completion(exchange, text, finish).toBuffer()).appendString("\n\n");
        });
        return out;
    }

    private static JsonObject completion(Exchange exchange, String text, Object finishReason) {
        return new JsonObject().put("id", exchange.id()).put("object", OBJECT)
                .put("created", exchange.createdMillis() / 1000)
                .put("model", exchange.served().model().id()).put("provider", exchange.provider())
                .put("choices", new JsonArray().add(new JsonObject().put("text", text).put("index", 0)
                        .putNull("logprobs").put("finish_reason", finishReason)));
    }

    private static JsonObject firstChoice(JsonObject body) {
        return body.getValue("choices") instanceof JsonArray choices && !choices.isEmpty()
                && choices.getValue(0) instanceof JsonObject choice ? choice : null;
    }

    @Override
    public void whole(Exchange exchange, HttpServerResponse response) {
        JsonObject choice = firstChoice(exchange.completion().parsed());
        String text = "";
        Object finish = exchange.completion().finishReason();
        if (choice != null) {
            if (choice.getValue("message") instanceof JsonObject message && message.getValue("content") instanceof String content) {
                text = content;
            }
            if (finish == null) {
                finish = choice.getValue("finish_reason");
            }
        }
        Buffer usage = OpenAiChatDialect.appendUsage(Buffer.buffer(320).appendString("\"usage\":"),
                exchange.usage(), exchange.charged());
        Delivered.end(exchange, response.putHeader("Content-Type", "application/json"),
                CompletionSplicer.splice(completion(exchange, text, finish).toBuffer(), usage, "usage"));
    }

    @Override
    public void streamEnd(Exchange exchange, ResponseChunkSink sink, HttpServerResponse response) {
        sink.begin();
        Delivered.end(exchange, response, OpenAiChatDialect.usageChunk(exchange, OBJECT).appendBuffer(OpenAiChatDialect.DONE));
    }

    @Override
    public void streamError(Exchange exchange, Failure failure, ResponseChunkSink sink, HttpServerResponse response) {
        Delivered.end(exchange, response,
                OpenAiChatDialect.errorEvent(exchange, failure, OBJECT).appendBuffer(OpenAiChatDialect.DONE));
    }

    @Override
    public void error(Exchange exchange, Failure failure, HttpServerResponse response) {
        Errors.send(exchange, response, failure);
    }

    private static ApiException bad(String message) {
        return new ApiException(ErrorCodes.BAD_REQUEST, message);
    }
}
