package co.corouter.testkit.anthropic;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@link FakeAnthropicUpstream} does with one Messages request. Immutable: every method returns a changed copy,
 * so a behaviour can be kept in a constant and refined per test.
 *
 * <pre>
 * upstream.behave(AnthropicBehaviour.normal().chunks(8).intervalMs(5).cacheReadTokens(1024));
 * upstream.enqueue(AnthropicBehaviour.error(529), AnthropicBehaviour.normal()); // overloaded, then the retry works
 * upstream.behave(AnthropicBehaviour.normal().toolUse("toolu_01", "get_weather", "{\"city\":\"Paris\"}"));
 * upstream.behave(AnthropicBehaviour.normal().resetAfter(3));     // stream: 3 events, then the TCP connection closes
 * upstream.behave(AnthropicBehaviour.error(429).header("retry-after", "2"));
 * </pre>
 *
 * <p><b>Tokens.</b> The fake counts one output token per non-empty delta (a thinking, text or tool-input piece) and
 * obeys the request's {@code max_tokens} like the real API: the answer stops after that many pieces with
 * {@code stop_reason: "max_tokens"}. Unless {@link #outputTokens} says otherwise, {@code output_tokens} is the
 * number of pieces sent (at least 1).
 *
 * <p><b>Faults mid-stream</b> ({@link #resetAfter}, {@link #stallAfter}, {@link #malformedEventAfter},
 * {@link #errorEventAfter}, {@link #endAfter}) count the events sent before the fault, {@code message_start}
 * included and {@code ping}s excluded.
 */
public final class AnthropicBehaviour {

    enum Mode { ANSWER, ERROR, HANG }

    enum Fault { NONE, RESET, STALL, MALFORMED_EVENT, ERROR_EVENT, END }

    enum Framing { EVENT_PER_WRITE, BURST, FRAGMENTS }

    /** A scripted {@code tool_use} block; {@code inputJson} is streamed in pieces as {@code input_json_delta}s. */
    record ToolUse(String id, String name, String inputJson) {
    }

    Mode mode = Mode.ANSWER;
    String text = "The quick brown fox jumps over the lazy dog.";
    int chunks = 4;
    String thinking;
    int thinkingChunks = 2;
    List<ToolUse> tools = List.of();
    int toolFragments = 3;
    long intervalMs;
    long delayMs;
    int inputTokens = 5;
    Integer outputTokens;
    int cacheReadTokens;
    int cacheCreationTokens;
    String stopReason;
    boolean omitUsage;
    boolean pings;
    boolean crlf;
    Framing framing = Framing.EVENT_PER_WRITE;
    int fragmentBytes;
    Fault fault = Fault.NONE;
    int faultAfter;
    boolean malformedBody;
    int status = 200;
    String errorType;
    String errorMessage;
    boolean rateLimitHeaders;
    Map<String, String> headers = Map.of();

    private AnthropicBehaviour() {
    }

    private AnthropicBehaviour copy() {
        AnthropicBehaviour b = new AnthropicBehaviour();
        b.mode = mode;
        b.text = text;
        b.chunks = chunks;
        b.thinking = thinking;
        b.thinkingChunks = thinkingChunks;
        b.tools = tools;
        b.toolFragments = toolFragments;
        b.intervalMs = intervalMs;
        b.delayMs = delayMs;
        b.inputTokens = inputTokens;
        b.outputTokens = outputTokens;
        b.cacheReadTokens = cacheReadTokens;
        b.cacheCreationTokens = cacheCreationTokens;
        b.stopReason = stopReason;
        b.omitUsage = omitUsage;
        b.pings = pings;
        b.crlf = crlf;
        b.framing = framing;
        b.fragmentBytes = fragmentBytes;
        b.fault = fault;
        b.faultAfter = faultAfter;
        b.malformedBody = malformedBody;
        b.status = status;
        b.errorType = errorType;
        b.errorMessage = errorMessage;
        b.rateLimitHeaders = rateLimitHeaders;
        b.headers = headers;
        return b;
    }

    /** Answers like Anthropic: a whole Message, or an SSE stream when the request has {@code stream: true}. */
    public static AnthropicBehaviour normal() {
        return new AnthropicBehaviour();
    }

    /**
     * Answers {@code status} with Anthropic's {@code {"type":"error","error":{type,message},"request_id"}} body, the
     * {@code error.type} the real API uses for that status ({@code overloaded_error} for 529, {@code rate_limit_error}
     * for 429, ...). A 429 also carries {@code retry-after: 1} and {@code anthropic-ratelimit-requests-*} headers whose
     * reset is one second after the answer; change them with {@link #header}, {@link #withoutHeader} and
     * {@link #withoutRateLimitHeaders}.
     */
    public static AnthropicBehaviour error(int status) {
        if (status < 400 || status > 599) {
            throw new IllegalArgumentException("error status must be 4xx or 5xx: " + status);
        }
        AnthropicBehaviour b = new AnthropicBehaviour();
        b.mode = Mode.ERROR;
        b.status = status;
        if (status == 429) {
            b.rateLimitHeaders = true;
            return b.header("retry-after", "1");
        }
        return b;
    }

    /** Reads the request and never answers; the connection stays open until the client gives up. */
    public static AnthropicBehaviour hang() {
        AnthropicBehaviour b = new AnthropicBehaviour();
        b.mode = Mode.HANG;
        return b;
    }

    /**
     * The answer's text; a stream splits it into {@link #chunks} nearly equal {@code text_delta}s. An empty text sends
     * no text block unless the answer would otherwise have no block at all.
     */
    public AnthropicBehaviour text(String answer) {
        AnthropicBehaviour b = copy();
        b.text = answer;
        return b;
    }

    /** Number of {@code text_delta} events (default 4). */
    public AnthropicBehaviour chunks(int count) {
        if (count < 0) {
            throw new IllegalArgumentException("chunks must not be negative");
        }
        AnthropicBehaviour b = copy();
        b.chunks = count;
        return b;
    }

    /**
     * Starts the answer with a {@code thinking} block: {@code pieces} {@code thinking_delta}s and a
     * {@code signature_delta} before its stop.
     */
    public AnthropicBehaviour thinking(String reasoning, int pieces) {
        if (pieces < 1) {
            throw new IllegalArgumentException("a thinking block needs at least one piece");
        }
        AnthropicBehaviour b = copy();
        b.thinking = reasoning;
        b.thinkingChunks = pieces;
        return b;
    }

    /**
     * Adds a {@code tool_use} block after the text (call it again for parallel calls); the stop reason becomes
     * {@code tool_use}. A stream sends {@code inputJson} as {@code input_json_delta}s: an empty first piece, as the
     * real API sometimes does, then {@link #toolFragments} pieces.
     */
    public AnthropicBehaviour toolUse(String id, String name, String inputJson) {
        AnthropicBehaviour b = copy();
        List<ToolUse> more = new ArrayList<>(tools);
        more.add(new ToolUse(id, name, inputJson));
        b.tools = List.copyOf(more);
        return b;
    }

    /** Number of non-empty {@code input_json_delta} pieces per tool block (default 3). */
    public AnthropicBehaviour toolFragments(int pieces) {
        if (pieces < 1) {
            throw new IllegalArgumentException("tool fragments must be at least 1");
        }
        AnthropicBehaviour b = copy();
        b.toolFragments = pieces;
        return b;
    }

    /** Pause between two writes of a stream (default 0). */
    public AnthropicBehaviour intervalMs(long millis) {
        AnthropicBehaviour b = copy();
        b.intervalMs = millis;
        return b;
    }

    /** Pause before the response head (default 0). */
    public AnthropicBehaviour delayMs(long millis) {
        AnthropicBehaviour b = copy();
        b.delayMs = millis;
        return b;
    }

    /** Reported {@code input_tokens}: the uncached input, as Anthropic counts it (default 5). */
    public AnthropicBehaviour inputTokens(int tokens) {
        AnthropicBehaviour b = copy();
        b.inputTokens = tokens;
        return b;
    }

    /** Reported {@code output_tokens} (default: one per piece sent); never more than the request's max_tokens. */
    public AnthropicBehaviour outputTokens(int tokens) {
        AnthropicBehaviour b = copy();
        b.outputTokens = tokens;
        return b;
    }

    /** Reported {@code cache_read_input_tokens} (default 0), not part of {@code input_tokens}. */
    public AnthropicBehaviour cacheReadTokens(int tokens) {
        AnthropicBehaviour b = copy();
        b.cacheReadTokens = tokens;
        return b;
    }

    /** Reported {@code cache_creation_input_tokens} (default 0), not part of {@code input_tokens}. */
    public AnthropicBehaviour cacheCreationTokens(int tokens) {
        AnthropicBehaviour b = copy();
        b.cacheCreationTokens = tokens;
        return b;
    }

    /**
     * The {@code stop_reason} (default {@code tool_use} with tool blocks, else {@code end_turn}); an answer cut by
     * {@code max_tokens} says {@code max_tokens} whatever this says.
     */
    public AnthropicBehaviour stopReason(String reason) {
        AnthropicBehaviour b = copy();
        b.stopReason = reason;
        return b;
    }

    /** Sends no {@code usage}: neither in a whole Message nor in {@code message_start}/{@code message_delta}. */
    public AnthropicBehaviour omitUsage() {
        AnthropicBehaviour b = copy();
        b.omitUsage = true;
        return b;
    }

    /** Stream: a {@code ping} between every two events (the one after the first block start is always sent). */
    public AnthropicBehaviour pings() {
        AnthropicBehaviour b = copy();
        b.pings = true;
        return b;
    }

    /** Stream: ends lines with {@code \r\n} instead of {@code \n}. */
    public AnthropicBehaviour crlf() {
        AnthropicBehaviour b = copy();
        b.crlf = true;
        return b;
    }

    /** Stream: writes all events (up to a fault) in one write, so the client typically reads them at once. */
    public AnthropicBehaviour burst() {
        AnthropicBehaviour b = copy();
        b.framing = Framing.BURST;
        return b;
    }

    /** Stream: cuts the byte stream into writes of at most {@code bytes}, ignoring event boundaries. */
    public AnthropicBehaviour fragments(int bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("fragment size must be positive");
        }
        AnthropicBehaviour b = copy();
        b.framing = Framing.FRAGMENTS;
        b.fragmentBytes = bytes;
        return b;
    }

    /** Stream: closes the TCP connection after {@code events} events. A whole Message closes at once. */
    public AnthropicBehaviour resetAfter(int events) {
        return fault(Fault.RESET, events);
    }

    /** Stream: stops sending after {@code events} events but keeps the connection open. A whole Message hangs. */
    public AnthropicBehaviour stallAfter(int events) {
        return fault(Fault.STALL, events);
    }

    /** Stream: after {@code events} events sends a {@code content_block_delta} whose data is not JSON, then goes on. */
    public AnthropicBehaviour malformedEventAfter(int events) {
        return fault(Fault.MALFORMED_EVENT, events);
    }

    /**
     * Stream: after {@code events} events sends {@code event: error} (type {@code overloaded_error} unless
     * {@link #errorType} says otherwise) and ends the response, as the real API does after a 200.
     */
    public AnthropicBehaviour errorEventAfter(int events) {
        return fault(Fault.ERROR_EVENT, events);
    }

    /** Stream: ends the response cleanly after {@code events} events, without {@code message_stop}. */
    public AnthropicBehaviour endAfter(int events) {
        return fault(Fault.END, events);
    }

    /** Whole Message: answers 200 with truncated, unparseable JSON. */
    public AnthropicBehaviour malformedBody() {
        AnthropicBehaviour b = copy();
        b.malformedBody = true;
        return b;
    }

    /** Error body or error event: {@code error.type}. */
    public AnthropicBehaviour errorType(String type) {
        AnthropicBehaviour b = copy();
        b.errorType = type;
        return b;
    }

    /** Error body or error event: {@code error.message}. */
    public AnthropicBehaviour errorMessage(String message) {
        AnthropicBehaviour b = copy();
        b.errorMessage = message;
        return b;
    }

    /** A 429 without the {@code anthropic-ratelimit-requests-*} headers. */
    public AnthropicBehaviour withoutRateLimitHeaders() {
        AnthropicBehaviour b = copy();
        b.rateLimitHeaders = false;
        return b;
    }

    /** A response header, replacing one of the same name (in any case), e.g. {@code header("retry-after", "2")}. */
    public AnthropicBehaviour header(String name, String value) {
        if (value == null) {
            throw new IllegalArgumentException("header value must not be null; use withoutHeader(\"" + name + "\")");
        }
        AnthropicBehaviour b = withoutHeader(name);
        Map<String, String> h = new LinkedHashMap<>(b.headers);
        h.put(name, value);
        b.headers = Collections.unmodifiableMap(h);
        return b;
    }

    /** No response header {@code name} (in any case), e.g. a 429 without {@code retry-after}. */
    public AnthropicBehaviour withoutHeader(String name) {
        AnthropicBehaviour b = copy();
        Map<String, String> h = new LinkedHashMap<>(headers);
        h.keySet().removeIf(existing -> existing.equalsIgnoreCase(name));
        b.headers = Collections.unmodifiableMap(h);
        return b;
    }

    private AnthropicBehaviour fault(Fault kind, int events) {
        if (events < 0) {
            throw new IllegalArgumentException("event count must not be negative");
        }
        AnthropicBehaviour b = copy();
        b.fault = kind;
        b.faultAfter = events;
        return b;
    }

    @Override
    public String toString() {
        return "AnthropicBehaviour[" + mode + (mode == Mode.ERROR ? " " + status : "") + ", chunks=" + chunks
                + ", tools=" + tools.size() + ", fault=" + fault + (fault == Fault.NONE ? "" : "@" + faultAfter) + "]";
    }
}
