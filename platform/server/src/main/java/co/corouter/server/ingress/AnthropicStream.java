package co.corouter.server.ingress;

import co.corouter.plugin.api.Usage;
import co.corouter.server.common.Money;
import co.corouter.server.pipeline.Exchange;
import co.corouter.server.pipeline.Failure;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.Map;

/**
 * Turns a provider's OpenAI chunk events into Anthropic stream events as they arrive (specs/anthropic-messages.md
 * §6.3): the first chunk opens the message ({@code message_start}); content opens a text block, reasoning a thinking
 * block, each tool call a {@code tool_use} block whose argument pieces become {@code input_json_delta}s; a finish
 * reason closes the open block and is held until the stream ends, when {@code message_delta} carries it with the final
 * usage (and its cost) and {@code message_stop} ends the message. Blocks are opened one at a time, in order. Confined
 * to one stream.
 */
final class AnthropicStream implements Dialect.StreamTranslator {

    private final Exchange exchange;
    private boolean started;
    private int nextIndex;
    /** The open block's index and kind ("text", "thinking", "tool_use"), or -1. */
    private int openIndex = -1;
    private String openKind;
    /** OpenAI tool-call index → Anthropic block index. */
    private final Map<Integer, Integer> toolBlocks = new HashMap<>();
    private String stopReason;

    AnthropicStream(Exchange exchange) {
        this.exchange = exchange;
    }

    @Override
    public Buffer translate(Buffer openAiEvents) {
        Buffer out = Buffer.buffer(openAiEvents.length() + 128);
        SseEvents.forEachData(openAiEvents, payload -> {
            JsonObject chunk = SseEvents.object(payload);
            if (chunk != null) {
                chunk(chunk, out);
            }
        });
        return out;
    }

    private void chunk(JsonObject chunk, Buffer out) {
        start(out);
        if (!(chunk.getValue("choices") instanceof JsonArray choices) || choices.isEmpty()
                || !(choices.getValue(0) instanceof JsonObject choice)) {
            return;
        }
        if (choice.getValue("delta") instanceof JsonObject delta) {
            if (delta.getValue("reasoning") instanceof String reasoning && !reasoning.isEmpty()) {
                open("thinking", new JsonObject().put("type", "thinking").put("thinking", "").put("signature", ""), out);
                delta(out, openIndex, "thinking_delta", "thinking", reasoning);
            }
            if (delta.getValue("content") instanceof String content && !content.isEmpty()) {
                open("text", new JsonObject().put("type", "text").put("text", ""), out);
                delta(out, openIndex, "text_delta", "text", content);
            }
            if (delta.getValue("tool_calls") instanceof JsonArray calls) {
                for (Object item : calls) {
                    if (item instanceof JsonObject call) {
                        toolCall(call, out);
                    }
                }
            }
        }
        if (choice.getValue("finish_reason") instanceof String finish) {
            close(out);
            stopReason = AnthropicDialect.stopReason(finish);
        }
    }

    private void toolCall(JsonObject call, Buffer out) {
        int index = call.getInteger("index", 0);
        JsonObject function = call.getValue("function") instanceof JsonObject f ? f : new JsonObject();
        Integer block = toolBlocks.get(index);
        if (block == null || call.getValue("id") instanceof String) {
            close(out);
            block = nextIndex++;
            toolBlocks.put(index, block);
            openIndex = block;
            openKind = "tool_use";
            event(out, "content_block_start", new JsonObject().put("index", block).put("content_block",
                    new JsonObject().put("type", "tool_use").put("id", call.getString("id", "toolu_" + exchange.id()
                            + "_" + index)).put("name", function.getString("name", "")).put("input", new JsonObject())));
        }
        if (function.getValue("arguments") instanceof String arguments && !arguments.isEmpty()) {
            delta(out, block, "input_json_delta", "partial_json", arguments);
        }
    }

    /** Opens a block of {@code kind} unless one is open already. */
    private void open(String kind, JsonObject shell, Buffer out) {
        if (kind.equals(openKind)) {
            return;
        }
        close(out);
        openIndex = nextIndex++;
        openKind = kind;
        event(out, "content_block_start", new JsonObject().put("index", openIndex).put("content_block", shell));
    }

    private void close(Buffer out) {
        if (openIndex >= 0) {
            event(out, "content_block_stop", new JsonObject().put("index", openIndex));
            openIndex = -1;
            openKind = null;
        }
    }

    private void start(Buffer out) {
        if (started) {
            return;
        }
        started = true;
        event(out, "message_start", new JsonObject().put("message", new JsonObject()
                .put("id", exchange.id()).put("type", "message").put("role", "assistant")
                .put("model", exchange.served() != null ? exchange.served().model().id() : exchange.chat().model().id())
                .put("content", new JsonArray()).putNull("stop_reason").putNull("stop_sequence")
                .put("usage", new JsonObject().put("input_tokens", 0).put("output_tokens", 0))));
    }

    /** The end of a successful stream: open blocks closed, the stop reason and the final usage, message_stop. */
    Buffer finish() {
        Buffer out = Buffer.buffer(512);
        start(out);
        close(out);
        if (stopReason == null && exchange.streamOutcome() != null && exchange.streamOutcome().finishReason() != null) {
            stopReason = AnthropicDialect.stopReason(exchange.streamOutcome().finishReason());
        }
        event(out, "message_delta", new JsonObject()
                .put("delta", new JsonObject().put("stop_reason", stopReason == null ? "end_turn" : stopReason)
                        .putNull("stop_sequence"))
                .put("usage", usage(exchange.usage(), exchange.charged())));
        event(out, "message_stop", new JsonObject());
        return out;
    }

    /** A stream that failed after it started: {@code event: error} (SDKs raise it). */
    Buffer error(Failure failure) {
        Buffer out = Buffer.buffer(256);
        start(out);
        close(out);
        event(out, "error", AnthropicDialect.errorBody(failure, exchange.id()));
        return out;
    }

    /** Anthropic's usage of a request, with corouter's {@code cost} in USD. */
    static JsonObject usage(Usage usage, long charged) {
        Usage u = usage == null ? Usage.of(0, 0) : usage;
        return new JsonObject()
                .put("input_tokens", Math.max(0, u.promptTokens() - u.cachedTokens() - u.cacheWriteTokens()))
                .put("output_tokens", u.completionTokens())
                .put("cache_creation_input_tokens", u.cacheWriteTokens())
                .put("cache_read_input_tokens", u.cachedTokens())
                .put("cost", Money.toUsd(charged));
    }

    /**
     * A {@code content_block_delta} event, the one written for nearly every chunk: spelled out rather than built as a
     * JSON object (the same bytes, a third of the cost). The value is escaped, never cached: it is content.
     */
    private static void delta(Buffer out, int index, String deltaType, String field, String value) {
        out.appendString("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":")
                .appendString(Integer.toString(index)).appendString(",\"delta\":{\"type\":\"")
                .appendString(deltaType).appendString("\",\"").appendString(field).appendString("\":\"")
                .appendBytes(JsonStringEncoder.getInstance().quoteAsUTF8(value)).appendString("\"}}\n\n");
    }

    private static void event(Buffer out, String type, JsonObject data) {
        JsonObject typed = new JsonObject().put("type", type);
        typed.mergeIn(data);
        out.appendString("event: ").appendString(type).appendString("\ndata: ").appendBuffer(typed.toBuffer())
                .appendString("\n\n");
    }
}
