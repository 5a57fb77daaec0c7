package co.corouter.testkit.upstream;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What {@link FakeOpenAiUpstream} does with one request. Immutable: every method returns a changed copy, so
 * a behaviour can be kept in a constant and refined per test.
 *
 * <pre>
 * upstream.behave(Behaviour.normal().chunks(8).intervalMs(5).completionTokens(12));
 * upstream.enqueue(Behaviour.error(503), Behaviour.normal());    // first call fails, the retry succeeds
 * upstream.behave(Behaviour.normal().resetAfter(3));              // stream: 3 events, then the TCP connection closes
 * upstream.behave(Behaviour.error(429).header("Retry-After", "2")); // rate limited: wait 2 s
 * upstream.behave(Behaviour.error(529));                           // Anthropic-style overloaded
 * </pre>
 *
 * <p>Faults mid-stream ({@link #resetAfter}, {@link #stallAfter}, {@link #malformedChunkAfter},
 * {@link #errorEventAfter}, {@link #endAfter}) count {@code data:} events sent before the fault, the role chunk
 * included.
 */
public final class Behaviour {

    enum Mode { ANSWER, ERROR, HANG }

    enum Fault { NONE, RESET, STALL, MALFORMED_CHUNK, ERROR_EVENT, END }

    enum Framing { EVENT_PER_WRITE, BURST, FRAGMENTS }

    Mode mode = Mode.ANSWER;
    String content = "The quick brown fox jumps over the lazy dog.";
    int chunks = 4;
    long intervalMs;
    long delayMs;
    int promptTokens = 5;
    Integer completionTokens;
    String finishReason = "stop";
    boolean omitUsage;
    boolean usageOnFinishChunk;
    boolean keepAliveComments;
    boolean crlf;
    Framing framing = Framing.EVENT_PER_WRITE;
    int fragmentBytes;
    Fault fault = Fault.NONE;
    int faultAfter;
    boolean malformedBody;
    boolean missingChoices;
    int status = 200;
    String errorType;
    String errorCode;
    String errorMessage;
    Map<String, String> headers = Map.of();
    /** The function call the assistant makes after its text, or null: id, name, arguments (a JSON text). */
    String[] toolCall;

    private Behaviour() {
    }

    private Behaviour copy() {
        Behaviour b = new Behaviour();
        b.mode = mode;
        b.content = content;
        b.chunks = chunks;
        b.intervalMs = intervalMs;
        b.delayMs = delayMs;
        b.promptTokens = promptTokens;
        b.completionTokens = completionTokens;
        b.finishReason = finishReason;
        b.omitUsage = omitUsage;
        b.usageOnFinishChunk = usageOnFinishChunk;
        b.keepAliveComments = keepAliveComments;
        b.crlf = crlf;
        b.framing = framing;
        b.fragmentBytes = fragmentBytes;
        b.fault = fault;
        b.faultAfter = faultAfter;
        b.malformedBody = malformedBody;
        b.missingChoices = missingChoices;
        b.status = status;
        b.errorType = errorType;
        b.errorCode = errorCode;
        b.errorMessage = errorMessage;
        b.headers = headers;
        b.toolCall = toolCall;
        return b;
    }

    /** Answers like OpenAI: a whole completion, or an SSE stream when the request has {@code stream:true}. */
    public static Behaviour normal() {
        return new Behaviour();
    }

    /**
     * Answers {@code status} with an OpenAI-style {@code {"error":{message,type,param,code}}} body. A 429 comes with
     * OpenAI's headers {@code Retry-After: 1}, {@code x-ratelimit-remaining-requests: 0} and
     * {@code x-ratelimit-reset-requests: 1s}; change them with {@link #header} and {@link #withoutHeader}. A 529 is
     * Anthropic's {@code overloaded_error}.
     */
    public static Behaviour error(int status) {
        if (status < 400 || status > 599) {
            throw new IllegalArgumentException("error status must be 4xx or 5xx: " + status);
        }
        Behaviour b = new Behaviour();
        b.mode = Mode.ERROR;
        b.status = status;
        if (status == 429) {
            return b.header("Retry-After", "1").header("x-ratelimit-remaining-requests", "0")
                    .header("x-ratelimit-reset-requests", "1s");
        }
        return b;
    }

    /** Reads the request and never answers; the connection stays open until the client gives up. */
    public static Behaviour hang() {
        Behaviour b = new Behaviour();
        b.mode = Mode.HANG;
        return b;
    }

    /**
     * The assistant text; a stream splits it into {@link #chunks} nearly equal deltas, delta {@code i} being
     * {@code text[i * length / chunks, (i + 1) * length / chunks)}. So {@code content(" hello".repeat(40)).chunks(40)}
     * streams 40 deltas of {@code " hello"}, one {@code o200k_base} token each.
     */
    public Behaviour content(String text) {
        Behaviour b = copy();
        b.content = text;
        return b;
    }

    /** Number of content delta chunks in a stream (default 4). */
    public Behaviour chunks(int count) {
        if (count < 0) {
            throw new IllegalArgumentException("chunks must not be negative");
        }
        Behaviour b = copy();
        b.chunks = count;
        return b;
    }

    /** Pause between two writes of a stream (default 0). */
    public Behaviour intervalMs(long millis) {
        Behaviour b = copy();
        b.intervalMs = millis;
        return b;
    }

    /** Pause before the response head (default 0). */
    public Behaviour delayMs(long millis) {
        Behaviour b = copy();
        b.delayMs = millis;
        return b;
    }

    /** Reported {@code prompt_tokens} (default 5). */
    public Behaviour promptTokens(int tokens) {
        Behaviour b = copy();
        b.promptTokens = tokens;
        return b;
    }

    /** Reported {@code completion_tokens} (default: the request's {@code max_tokens}, else 10). */
    public Behaviour completionTokens(int tokens) {
        Behaviour b = copy();
        b.completionTokens = tokens;
        return b;
    }

    /**
     * After its text the assistant calls function {@code name} with {@code argumentsJson}, as OpenAI does: a whole
     * completion carries {@code message.tool_calls[0]}, a stream sends the call's id and name in one delta and the
     * arguments in two more; the finish reason becomes {@code "tool_calls"}.
     */
    public Behaviour toolCall(String id, String name, String argumentsJson) {
        Behaviour b = copy();
        b.toolCall = new String[] {id, name, argumentsJson};
        b.finishReason = "tool_calls";
        return b;
    }

    /** The {@code finish_reason} of the completion (default {@code "stop"}). */
    public Behaviour finishReason(String reason) {
        Behaviour b = copy();
        b.finishReason = reason;
        return b;
    }

    /** Sends no {@code usage} at all: neither in a whole completion (or embeddings) nor as a stream's usage chunk. */
    public Behaviour omitUsage() {
        Behaviour b = copy();
        b.omitUsage = true;
        return b;
    }

    /** Stream: puts {@code usage} on the chunk carrying {@code finish_reason} instead of a usage-only chunk. */
    public Behaviour usageOnFinishChunk() {
        Behaviour b = copy();
        b.usageOnFinishChunk = true;
        return b;
    }

    /** Stream: sends a {@code : keep-alive} comment event before every data event. */
    public Behaviour keepAliveComments() {
        Behaviour b = copy();
        b.keepAliveComments = true;
        return b;
    }

    /** Stream: ends lines with {@code \r\n} instead of {@code \n}. */
    public Behaviour crlf() {
        Behaviour b = copy();
        b.crlf = true;
        return b;
    }

    /** Stream: writes all events (up to a fault) in one write, so the client typically reads them at once. */
    public Behaviour burst() {
        Behaviour b = copy();
        b.framing = Framing.BURST;
        return b;
    }

    /** Stream: cuts the byte stream into writes of at most {@code bytes}, ignoring event boundaries. */
    public Behaviour fragments(int bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("fragment size must be positive");
        }
        Behaviour b = copy();
        b.framing = Framing.FRAGMENTS;
        b.fragmentBytes = bytes;
        return b;
    }

    /** Stream: closes the TCP connection after {@code events} data events. A whole completion closes at once. */
    public Behaviour resetAfter(int events) {
        return fault(Fault.RESET, events);
    }

    /** Stream: stops sending after {@code events} data events but keeps the connection open. */
    public Behaviour stallAfter(int events) {
        return fault(Fault.STALL, events);
    }

    /** Stream: after {@code events} data events sends a {@code data:} line that is not JSON, then carries on. */
    public Behaviour malformedChunkAfter(int events) {
        return fault(Fault.MALFORMED_CHUNK, events);
    }

    /** Stream: after {@code events} data events sends {@code data: {"error":{...}}} and ends the stream. */
    public Behaviour errorEventAfter(int events) {
        return fault(Fault.ERROR_EVENT, events);
    }

    /** Stream: ends the response cleanly after {@code events} data events, without {@code data: [DONE]}. */
    public Behaviour endAfter(int events) {
        return fault(Fault.END, events);
    }

    /** Whole completion or embeddings: answers 200 with truncated, unparseable JSON. */
    public Behaviour malformedBody() {
        Behaviour b = copy();
        b.malformedBody = true;
        return b;
    }

    /** Whole completion: answers 200 with valid JSON that has no {@code choices} (embeddings: no {@code data}). */
    public Behaviour missingChoices() {
        Behaviour b = copy();
        b.missingChoices = true;
        return b;
    }

    /** Error body: {@code error.type} and {@code error.code} (defaults follow OpenAI per status). */
    public Behaviour errorType(String type, String code) {
        Behaviour b = copy();
        b.errorType = type;
        b.errorCode = code;
        return b;
    }

    /** Error body or error event: {@code error.message}. */
    public Behaviour errorMessage(String message) {
        Behaviour b = copy();
        b.errorMessage = message;
        return b;
    }

    /** A response header, replacing one of the same name (in any case), e.g. {@code header("Retry-After", "2")}. */
    public Behaviour header(String name, String value) {
        if (value == null) {
            throw new IllegalArgumentException("header value must not be null; use withoutHeader(\"" + name + "\")");
        }
        Behaviour b = withoutHeader(name);
        Map<String, String> h = new LinkedHashMap<>(b.headers);
        h.put(name, value);
        b.headers = Collections.unmodifiableMap(h);
        return b;
    }

    /** No response header {@code name} (in any case), e.g. a 429 without {@code Retry-After}. */
    public Behaviour withoutHeader(String name) {
        Behaviour b = copy();
        Map<String, String> h = new LinkedHashMap<>(headers);
        h.keySet().removeIf(existing -> existing.equalsIgnoreCase(name));
        b.headers = Collections.unmodifiableMap(h);
        return b;
    }

    private Behaviour fault(Fault kind, int events) {
        if (events < 0) {
            throw new IllegalArgumentException("event count must not be negative");
        }
        Behaviour b = copy();
        b.fault = kind;
        b.faultAfter = events;
        return b;
    }

    @Override
    public String toString() {
        return "Behaviour[" + mode + (mode == Mode.ERROR ? " " + status : "") + ", chunks=" + chunks
                + ", fault=" + fault + (fault == Fault.NONE ? "" : "@" + faultAfter) + "]";
    }
}
