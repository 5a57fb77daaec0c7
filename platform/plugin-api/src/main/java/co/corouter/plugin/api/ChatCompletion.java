package co.corouter.plugin.api;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/**
 * A whole completion: the OpenAI-shaped response body and the usage the upstream reported.
 *
 * <p>A provider gives the body either parsed ({@link #ChatCompletion(JsonObject, Usage)}) or, cheaper, as the
 * upstream's own JSON bytes ({@link #raw(Buffer, Usage, String)}): the host then splices its fields into those bytes
 * instead of parsing and re-encoding the whole answer.
 *
 * @param body         OpenAI chat-completion object ({@code choices}, {@code model}, ...); the host sets {@code id}
 *                     and replaces {@code usage} with its own (which includes {@code cost}). Null for a raw one.
 * @param usage        tokens as reported by the upstream, or estimated when it reported none
 * @param raw          the chat-completion object as JSON bytes (one JSON object), or null
 * @param finishReason the first choice's {@code finish_reason} (raw completions; null when none)
 * @since 1.1.0 ({@code raw}, {@code finishReason})
 */
public record ChatCompletion(JsonObject body, Usage usage, Buffer raw, String finishReason) {

    public ChatCompletion {
        if ((body == null) == (raw == null)) {
            throw new IllegalArgumentException("a completion has either a parsed body or raw JSON bytes");
        }
    }

    public ChatCompletion(JsonObject body, Usage usage) {
        this(body, usage, null, null);
    }

    /**
     * A completion kept as the upstream's bytes. The provider has checked they hold one JSON object shaped like an
     * OpenAI chat completion; the host replaces {@code id}, {@code model}, {@code provider} and {@code usage}.
     */
    public static ChatCompletion raw(Buffer json, Usage usage, String finishReason) {
        return new ChatCompletion(null, usage, json, finishReason);
    }

    /** The body as a JSON object, parsing the raw bytes when needed (off the hot path: tests, tools). */
    public JsonObject parsed() {
        return body != null ? body : new JsonObject(raw);
    }
}
