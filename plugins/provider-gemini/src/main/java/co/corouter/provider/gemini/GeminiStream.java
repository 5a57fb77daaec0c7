package co.corouter.provider.gemini;

import co.corouter.plugin.api.ChatRequest;
import co.corouter.plugin.api.ChunkEncoder;
import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import co.corouter.plugin.api.TokenCounter;
import co.corouter.plugin.api.Usage;
import co.corouter.provider.gemini.CandidateParts.Call;
import co.corouter.provider.gemini.CandidateParts.Piece;
import co.corouter.provider.gemini.CandidateParts.Text;
import co.corouter.provider.gemini.CandidateParts.Thought;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * Turns Gemini's stream of {@code GenerateContentResponse}s into OpenAI {@code chat.completion.chunk} events as they
 * arrive, one upstream read at a time ({@link #accept}): text parts become {@code delta.content}, thoughts
 * {@code delta.reasoning}, each function call one whole {@code tool_calls} delta (index counted across the stream, id
 * from {@link ToolCallIds}); the first output is preceded by the role chunk. Every event carries the request's
 * generation id and response model ({@link ChunkEncoder}).
 *
 * <p>The finish chunk is written when the body ends ({@link #end}), not when a {@code finishReason} arrives: the
 * reason often comes in a later event than the function calls (so {@code STOP} becomes {@code tool_calls} only then),
 * and some models set it on every event. A body that ends with no finish reason and no prompt block failed; an
 * {@code {"error":…}} in any event, as data or raw JSON, fails the stream ({@link #failure()}), as does an event that
 * is not JSON. Events before the failing one in the same read are still returned for forwarding.
 *
 * <p>Usage is the last {@code usageMetadata} seen (it is cumulative; never summed). Without one, or when the stream
 * fails, {@link #deliveredUsage()} counts the text, thoughts and call arguments forwarded, with the last prompt count
 * seen (0 asks the host to count the prompt).
 *
 * <p>Not thread-safe: one instance per stream, on its event loop.
 */
final class GeminiStream {

    private final GeminiEventReader reader = new GeminiEventReader();
    private final ChunkEncoder chunks;
    private final TokenCounter tokens;
    private final int maxTokens;
    private final StringBuilder forwarded = new StringBuilder();
    private boolean roleSent;
    private int toolCalls;
    private boolean eventSeen;
    private String geminiFinishReason;
    private boolean promptBlocked;
    private Usage reported;
    private int lastPromptTokens;
    private ProviderException failure;
    private boolean finished;

    GeminiStream(ChatRequest chat, TokenCounter tokens) {
        this(ChunkEncoder.of(chat), chat.maxTokens(), tokens);
    }

    GeminiStream(ChunkEncoder chunks, int maxTokens, TokenCounter tokens) {
        this.chunks = chunks;
        this.maxTokens = maxTokens;
        this.tokens = tokens;
    }

    /** The events to forward for one upstream read (possibly empty); then check {@link #failure()}. */
    Buffer accept(Buffer read) {
        if (failure != null || finished) {
            return Buffer.buffer();
        }
        return translate(reader.accept(read));
    }

    /**
     * The body ended: the events left, and the finish chunk when the answer is complete; otherwise {@link #failure()}
     * says why not. Nothing is accepted afterwards.
     */
    Buffer end() {
        if (failure != null || finished) {
            return Buffer.buffer();
        }
        Buffer out = translate(reader.end());
        if (failure != null) {
            return out;
        }
        finished = true;
        if (geminiFinishReason == null && !promptBlocked) {
            failure = new ProviderException(Kind.UPSTREAM_ERROR, 200,
                    "upstream ended the stream without a finish reason");
            return out;
        }
        startOutput(out);
        return out.appendBuffer(chunks.finish(finishReason()));
    }

    /** True once an event was read: the upstream started answering. */
    boolean answerStarted() {
        return eventSeen;
    }

    /** Why the stream cannot go on, or null. */
    ProviderException failure() {
        return failure;
    }

    /** True once {@link #end()} wrote the finish chunk. */
    boolean complete() {
        return finished && failure == null;
    }

    /** The OpenAI finish reason of what was read so far. */
    String finishReason() {
        if (promptBlocked && geminiFinishReason == null) {
            return FinishReasons.CONTENT_FILTER;
        }
        return FinishReasons.of(geminiFinishReason, toolCalls > 0);
    }

    /** The last usage Gemini reported, or the forwarded output counted when it reported none. */
    Usage usage() {
        return reported != null ? reported : deliveredUsage();
    }

    /**
     * What was delivered, estimated for a stream that failed or was cut off: the last prompt count seen (or 0, for the
     * host to count) and the forwarded output counted with the host's tokenizer, at most the request's cap.
     */
    Usage deliveredUsage() {
        int counted = forwarded.length() == 0 ? 0 : tokens.count(forwarded);
        if (maxTokens > 0) {
            counted = Math.min(counted, maxTokens);
        }
        return lastPromptTokens > 0 ? new Usage(lastPromptTokens, counted, 0, 0, true)
                : Usage.estimatedCompletion(counted);
    }

    private Buffer translate(List<String> payloads) {
        Buffer out = Buffer.buffer();
        for (String payload : payloads) {
            List<JsonObject> events = parse(payload);
            if (events == null) {
                failure = new ProviderException(Kind.BAD_RESPONSE, 0, "upstream sent a stream event that is not JSON");
                return out;
            }
            for (JsonObject event : events) {
                handle(event, out);
                if (failure != null) {
                    return out;
                }
            }
        }
        return out;
    }

    private void handle(JsonObject event, Buffer out) {
        eventSeen = true;
        if (GeminiErrors.isError(event)) {
            failure = GeminiErrors.ofStreamError(event);
            return;
        }
        Object usageMetadata = event.getValue("usageMetadata");
        if (usageMetadata != null) {
            int prompt = GeminiUsage.promptTokens(usageMetadata);
            if (prompt > 0) {
                lastPromptTokens = prompt;
            }
            Usage usage = GeminiUsage.reported(usageMetadata);
            if (usage != null) {
                reported = usage;
            }
        }
        JsonObject candidate = CandidateParts.firstCandidate(event);
        if (candidate == null) {
            if (event.getValue("promptFeedback") instanceof JsonObject feedback
                    && feedback.getValue("blockReason") instanceof String) {
                promptBlocked = true;
            }
            return;
        }
        for (Piece piece : CandidateParts.of(candidate)) {
            startOutput(out);
            if (piece instanceof Text text) {
                out.appendBuffer(chunks.content(text.text()));
                forwarded.append(text.text());
            } else if (piece instanceof Thought thought) {
                out.appendBuffer(chunks.reasoning(thought.text()));
                forwarded.append(thought.text());
            } else if (piece instanceof Call call) {
                out.appendBuffer(chunks.toolCall(toolCalls++, ToolCallIds.of(call.id(), call.thoughtSignature()),
                        call.name(), call.arguments()));
                forwarded.append(call.arguments());
            }
        }
        if (candidate.getValue("finishReason") instanceof String reason) {
            geminiFinishReason = reason;
        }
    }

    private void startOutput(Buffer out) {
        if (!roleSent) {
            roleSent = true;
            out.appendBuffer(chunks.role());
        }
    }

    /** One event, or the elements of a JSON array of them; null when the payload is not JSON of that shape. */
    private static List<JsonObject> parse(String payload) {
        String text = payload.strip();
        try {
            if (text.startsWith("[")) {
                JsonArray array = new JsonArray(text);
                if (!array.stream().allMatch(JsonObject.class::isInstance)) {
                    return null;
                }
                return array.stream().map(JsonObject.class::cast).toList();
            }
            return List.of(new JsonObject(text));
        } catch (RuntimeException notJson) {
            return null;
        }
    }
}
