package co.corouter.provider.anthropic;

import co.corouter.plugin.api.ChunkEncoder;
import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import co.corouter.plugin.api.TokenCounter;
import co.corouter.plugin.api.Usage;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns Anthropic's stream events into OpenAI chunks as they arrive (specs/anthropic-messages.md §3, §6.3), one
 * upstream read at a time, everything one read completes appended into one buffer:
 * <ul>
 * <li>{@code message_start} → the role chunk; its usage holds the input tokens;</li>
 * <li>{@code text_delta} → {@code delta.content}; {@code thinking_delta} → {@code delta.reasoning};</li>
 * <li>a {@code tool_use} block start → {@code tool_calls[n]} with its id and name, {@code n} counting tool blocks
 *     (not content indexes); its {@code input_json_delta}s → that call's {@code arguments} pieces;</li>
 * <li>{@code message_delta} → the stop reason and the cumulative output tokens (and, from newer API versions, input
 *     counts that replace those of {@code message_start});</li>
 * <li>{@code message_stop} → the finish chunk; the stream is {@link #done()};</li>
 * <li>{@code error} → {@link #failure()} of the kind its {@code error.type} names; data that is not JSON, or events
 *     out of order (content before {@code message_start}, a second one, tool input for a block that is no tool), →
 *     BAD_RESPONSE;</li>
 * <li>{@code ping}, {@code signature_delta}, {@code citations_delta}, block stops and unknown events → nothing.</li>
 * </ul>
 * Every chunk is written by the request's {@link ChunkEncoder}, so it carries the generation id and response model.
 * The text, reasoning and tool arguments forwarded are kept for a token count when the upstream's usage is missing.
 *
 * <p>Not thread-safe: one instance per stream, used on that stream's event loop.
 */
final class StreamTranslator {

    private final SseDecoder decoder = new SseDecoder();
    private final ChunkEncoder chunks;
    /** Tool-call index ({@code n}) of each {@code tool_use} block, by content index. */
    private final Map<Integer, Integer> toolCalls = new HashMap<>();
    private final StringBuilder forwarded = new StringBuilder();
    private boolean started;
    private boolean done;
    private ProviderException failure;
    private String stopReason;
    private int inputTokens = -1;
    private int cacheReadTokens;
    private int cacheCreationTokens;
    private int outputTokens = -1;
    private int thinkingTokens;

    StreamTranslator(ChunkEncoder chunks) {
        this.chunks = chunks;
    }

    /**
     * Takes one upstream read and returns the chunks it completes (possibly none). Afterwards check
     * {@link #failure()} and {@link #done()}; once either is set, further input is ignored.
     */
    Buffer accept(Buffer read) {
        if (done || failure != null) {
            return Buffer.buffer();
        }
        try {
            return translate(decoder.decode(read));
        } catch (ProviderException overlong) {
            failure = overlong;
            return Buffer.buffer();
        }
    }

    /** The upstream ended its response: an event left without its blank line is taken as complete. */
    Buffer end() {
        if (done || failure != null) {
            return Buffer.buffer();
        }
        return translate(decoder.end());
    }

    /** True once {@code message_start} arrived: the upstream has begun its answer. */
    boolean started() {
        return started;
    }

    /** True once {@code message_stop} arrived. */
    boolean done() {
        return done;
    }

    /** Why the stream cannot go on, or {@code null}. */
    ProviderException failure() {
        return failure;
    }

    /** The OpenAI finish reason of the stop reason received so far ({@code stop} when none). */
    String finishReason() {
        return StopReasons.finishReason(stopReason);
    }

    /**
     * The usage so far: the input tokens of {@code message_start} (with their cache reads and writes) and the output
     * tokens of the last {@code message_delta}. Without a {@code message_delta} (a stream cut off, cancelled or
     * failed, or one that reports no usage) the output is the forwarded text, reasoning and tool arguments counted
     * with {@code tokens}, at most {@code maxTokens} (the cap the upstream was held to; 0 for none), and estimated;
     * without {@code message_start} usage the prompt is 0, which asks the host to count it.
     */
    Usage usage(TokenCounter tokens, int maxTokens) {
        boolean reported = outputTokens >= 0;
        int output = outputTokens;
        if (!reported) {
            int counted = tokens.count(forwarded);
            output = maxTokens > 0 ? Math.min(counted, maxTokens) : counted;
        }
        if (inputTokens < 0) {
            return new Usage(0, output, 0, Math.min(thinkingTokens, output), true);
        }
        return Usages.usage(inputTokens, cacheReadTokens, cacheCreationTokens, output, thinkingTokens, !reported);
    }

    private Buffer translate(List<SseDecoder.Event> events) {
        Buffer out = Buffer.buffer();
        for (SseDecoder.Event event : events) {
            if (done || failure != null) {
                break;
            }
            handle(event, out);
        }
        return out;
    }

    private void handle(SseDecoder.Event event, Buffer out) {
        JsonObject data;
        try {
            data = new JsonObject(event.data());
        } catch (RuntimeException notJson) {
            failure = badResponse("upstream sent a stream event that is not JSON");
            return;
        }
        String type = data.getValue("type") instanceof String named ? named : event.name();
        switch (type) {
            case "ping" -> {
            }
            case "error" -> failure = UpstreamErrors.ofStreamEvent(data);
            case "message_start" -> {
                if (started) {
                    failure = badResponse("upstream sent a second message_start");
                    return;
                }
                started = true;
                if (data.getValue("message") instanceof JsonObject message) {
                    inputUsage(message.getValue("usage"));
                }
                out.appendBuffer(chunks.role());
            }
            case "content_block_start", "content_block_delta", "message_delta", "message_stop" -> {
                if (!started) {
                    failure = badResponse("upstream sent " + type + " before message_start");
                    return;
                }
                switch (type) {
                    case "content_block_start" -> blockStart(data, out);
                    case "content_block_delta" -> blockDelta(data, out);
                    case "message_delta" -> messageDelta(data);
                    default -> {
                        done = true;
                        out.appendBuffer(chunks.finish(finishReason()));
                    }
                }
            }
            default -> {
                // content_block_stop, and event types newer than this plugin: nothing to forward
            }
        }
    }

    private void blockStart(JsonObject data, Buffer out) {
        if (!(data.getValue("content_block") instanceof JsonObject block)
                || !(data.getValue("index") instanceof Number index)) {
            failure = badResponse("upstream sent a content_block_start without a block or index");
            return;
        }
        switch (block.getValue("type") instanceof String t ? t : "") {
            case "tool_use" -> {
                int call = toolCalls.size();
                toolCalls.put(index.intValue(), call);
                String id = block.getValue("id") instanceof String s ? s : "";
                String name = block.getValue("name") instanceof String s ? s : "";
                out.appendBuffer(chunks.toolCall(call, id, name, ""));
            }
            case "text" -> {
                if (block.getValue("text") instanceof String text && !text.isEmpty()) {
                    forwarded.append(text);
                    out.appendBuffer(chunks.content(text));
                }
            }
            case "thinking" -> {
                if (block.getValue("thinking") instanceof String thinking && !thinking.isEmpty()) {
                    forwarded.append(thinking);
                    out.appendBuffer(chunks.reasoning(thinking));
                }
            }
            default -> {
                // redacted thinking, server-tool blocks: nothing an OpenAI client can use
            }
        }
    }

    private void blockDelta(JsonObject data, Buffer out) {
        if (!(data.getValue("delta") instanceof JsonObject delta)) {
            failure = badResponse("upstream sent a content_block_delta without a delta");
            return;
        }
        switch (delta.getValue("type") instanceof String t ? t : "") {
            case "text_delta" -> {
                if (delta.getValue("text") instanceof String text && !text.isEmpty()) {
                    forwarded.append(text);
                    out.appendBuffer(chunks.content(text));
                }
            }
            case "thinking_delta" -> {
                if (delta.getValue("thinking") instanceof String thinking && !thinking.isEmpty()) {
                    forwarded.append(thinking);
                    out.appendBuffer(chunks.reasoning(thinking));
                }
            }
            case "input_json_delta" -> {
                Integer call = data.getValue("index") instanceof Number index ? toolCalls.get(index.intValue()) : null;
                if (call == null) {
                    failure = badResponse("upstream sent tool input for a block that is not a tool_use");
                    return;
                }
                if (delta.getValue("partial_json") instanceof String piece && !piece.isEmpty()) {
                    forwarded.append(piece);
                    out.appendBuffer(chunks.toolCall(call, null, null, piece));
                }
            }
            default -> {
                // signature_delta, citations_delta: nothing an OpenAI client can use
            }
        }
    }

    private void messageDelta(JsonObject data) {
        if (data.getValue("delta") instanceof JsonObject delta && delta.getValue("stop_reason") instanceof String s) {
            stopReason = s;
        }
        if (data.getValue("usage") instanceof JsonObject usage) {
            inputUsage(usage);
            int output = Usages.count(usage, "output_tokens");
            if (output >= 0) {
                outputTokens = output;
            }
            int thinking = Usages.thinkingTokens(usage);
            if (thinking > 0) {
                thinkingTokens = thinking;
            }
        }
    }

    /** The input counts of a usage object; a missing or null one keeps what was known. */
    private void inputUsage(Object value) {
        if (!(value instanceof JsonObject usage)) {
            return;
        }
        int input = Usages.count(usage, "input_tokens");
        if (input >= 0) {
            inputTokens = input;
        }
        int cacheRead = Usages.count(usage, "cache_read_input_tokens");
        if (cacheRead >= 0) {
            cacheReadTokens = cacheRead;
        }
        int cacheCreation = Usages.count(usage, "cache_creation_input_tokens");
        if (cacheCreation >= 0) {
            cacheCreationTokens = cacheCreation;
        }
    }

    private static ProviderException badResponse(String message) {
        return new ProviderException(Kind.BAD_RESPONSE, 0, message);
    }
}
