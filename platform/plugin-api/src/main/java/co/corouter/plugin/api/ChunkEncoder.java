package co.corouter.plugin.api;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;

/**
 * Writes OpenAI {@code chat.completion.chunk} server-sent events for a provider whose upstream speaks another
 * protocol, so no plugin builds chunk JSON by hand. One instance per stream, confined to its event loop; every event
 * carries the request's {@link ChatRequest#generationId()} and {@link ChatRequest#responseModel()}.
 * <pre>
 * ChunkEncoder chunks = ChunkEncoder.of(request);
 * sink.write(chunks.role().appendBuffer(chunks.content("Hello")));   // one write per upstream read
 * sink.write(chunks.finish("stop"));
 * </pre>
 * Each method returns one complete event ({@code data: {...}\n\n}) as a new buffer; append several into one write.
 *
 * @since 1.3.0
 */
public final class ChunkEncoder {

    private final byte[] head;

    private ChunkEncoder(String id, String model, long created) {
        this.head = ("data: {\"id\":" + quoted(id) + ",\"object\":\"chat.completion.chunk\",\"created\":" + created
                + ",\"model\":" + quoted(model) + ",\"choices\":[{\"index\":0,\"delta\":")
                .getBytes(StandardCharsets.UTF_8);
    }

    /** An encoder for the request's stream, stamped with the current time. */
    public static ChunkEncoder of(ChatRequest request) {
        return new ChunkEncoder(request.generationId(), request.responseModel(), System.currentTimeMillis() / 1000);
    }

    public static ChunkEncoder of(String id, String model, long createdSeconds) {
        return new ChunkEncoder(id, model, createdSeconds);
    }

    /** The first event: the assistant role with empty content. */
    public Buffer role() {
        return event("{\"role\":\"assistant\",\"content\":\"\"}", null);
    }

    /** A piece of the answer's text. */
    public Buffer content(String text) {
        return event("{\"content\":" + quoted(text) + "}", null);
    }

    /** A piece of the model's reasoning, when the upstream exposes it ({@code delta.reasoning}). */
    public Buffer reasoning(String text) {
        return event("{\"reasoning\":" + quoted(text) + "}", null);
    }

    /**
     * A tool call's start ({@code id} and {@code name} set, {@code arguments} usually empty) or a later piece of its
     * arguments ({@code id} and {@code name} null).
     */
    public Buffer toolCall(int index, String id, String name, String argumentsPiece) {
        StringBuilder call = new StringBuilder(96).append("{\"tool_calls\":[{\"index\":").append(index);
        if (id != null) {
            call.append(",\"id\":").append(quoted(id)).append(",\"type\":\"function\"");
        }
        call.append(",\"function\":{");
        if (name != null) {
            call.append("\"name\":").append(quoted(name)).append(',');
        }
        call.append("\"arguments\":").append(quoted(argumentsPiece == null ? "" : argumentsPiece)).append("}}]}");
        return event(call.toString(), null);
    }

    /** The last event of the answer: an empty delta with the finish reason (stop, length, tool_calls, ...). */
    public Buffer finish(String reason) {
        return event("{}", reason);
    }

    private Buffer event(String delta, String finishReason) {
        Buffer out = Buffer.buffer(head.length + delta.length() + 40).appendBytes(head).appendString(delta)
                .appendString(",\"logprobs\":null,\"finish_reason\":");
        out.appendString(finishReason == null ? "null" : quoted(finishReason));
        return out.appendString("}]}\n\n");
    }

    private static String quoted(String text) {
        return "\"" + new String(JsonStringEncoder.getInstance().quoteAsString(text)) + "\"";
    }
}
