package co.corouter.testkit.gemini;

import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@link FakeGeminiUpstream} does with one request. Immutable: every method returns a changed copy, so a
 * behaviour can be kept in a constant and refined per test.
 *
 * <pre>
 * upstream.behave(GeminiBehaviour.normal().chunks(8).intervalMs(5).candidatesTokens(12));
 * upstream.enqueue(GeminiBehaviour.error(503), GeminiBehaviour.normal()); // first call overloaded, the next fine
 * upstream.behave(GeminiBehaviour.error(429).retryDelay("2s"));            // RESOURCE_EXHAUSTED, RetryInfo 2 s
 * upstream.behave(GeminiBehaviour.normal().resetAfter(3));                 // 3 SSE events, then the connection drops
 * upstream.behave(GeminiBehaviour.normal().functionCall("get_weather", new JsonObject().put("city", "Paris")));
 * upstream.behave(GeminiBehaviour.normal().blockPrompt("SAFETY"));         // 200, promptFeedback, no candidates
 * </pre>
 *
 * <p>A stream is: a thought event (when {@link #thoughts} is set), {@link #chunks} text events, one event with every
 * function call (when there are any), and {@code finishReason} on the last event — a bare final event with
 * {@code {"text":""}} after function calls (as Gemini sends it), or {@code {"role":"model"}} without parts when there
 * was no output at all. {@code usageMetadata} is cumulative and on every event unless told otherwise.
 *
 * <p>Token counts: {@code promptTokenCount} = {@link #promptTokens} (default 5), {@code thoughtsTokenCount} =
 * {@link #thoughtsTokens} (default 0), {@code candidatesTokenCount} = {@link #candidatesTokens} (default 10). When the
 * request's {@code generationConfig.maxOutputTokens} is smaller than thoughts + candidates, the counts are cut to it
 * and the finish reason becomes {@code MAX_TOKENS} (the text is not cut: it is a fake).
 *
 * <p>Faults mid-stream ({@link #resetAfter}, {@link #stallAfter}, {@link #malformedEventAfter}, {@link
 * #errorEventAfter}, {@link #rawErrorAfter}, {@link #endAfter}) count the {@code data:} events sent before the fault.
 */
public final class GeminiBehaviour {

    enum Mode { ANSWER, ERROR, HANG }

    enum Fault { NONE, RESET, STALL, MALFORMED_EVENT, ERROR_EVENT, RAW_ERROR, END }

    enum Framing { EVENT_PER_WRITE, BURST, FRAGMENTS }

    enum UsagePlacement { EVERY_EVENT, LAST_EVENT_ONLY, NOT_ON_LAST_EVENT, NONE }

    /** A function call the fake answers with; {@code id} null as the Gemini API mostly sends it. */
    record FunctionCall(String name, JsonObject args, String id) {
    }

    Mode mode = Mode.ANSWER;
    String content = "The quick brown fox jumps over the lazy dog.";
    String thoughts;
    List<FunctionCall> functionCalls = List.of();
    String thoughtSignature;
    int chunks = 4;
    long intervalMs;
    long delayMs;
    int promptTokens = 5;
    int candidatesTokens = 10;
    int thoughtsTokens;
    int cachedTokens;
    String finishReason = "STOP";
    String blockReason;
    UsagePlacement usage = UsagePlacement.EVERY_EVENT;
    boolean crlf;
    Framing framing = Framing.EVENT_PER_WRITE;
    int fragmentBytes;
    Fault fault = Fault.NONE;
    int faultAfter;
    int faultCode = 503;
    boolean malformedBody;
    int status = 200;
    String errorStatus;
    String errorMessage;
    String errorReason;
    String retryDelay;
    boolean htmlBody;
    Map<String, String> headers = Map.of();

    private GeminiBehaviour() {
    }

    private GeminiBehaviour copy() {
        GeminiBehaviour b = new GeminiBehaviour();
        b.mode = mode;
        b.content = content;
        b.thoughts = thoughts;
        b.functionCalls = functionCalls;
        b.thoughtSignature = thoughtSignature;
        b.chunks = chunks;
        b.intervalMs = intervalMs;
        b.delayMs = delayMs;
        b.promptTokens = promptTokens;
        b.candidatesTokens = candidatesTokens;
        b.thoughtsTokens = thoughtsTokens;
        b.cachedTokens = cachedTokens;
        b.finishReason = finishReason;
        b.blockReason = blockReason;
        b.usage = usage;
        b.crlf = crlf;
        b.framing = framing;
        b.fragmentBytes = fragmentBytes;
        b.fault = fault;
        b.faultAfter = faultAfter;
        b.faultCode = faultCode;
        b.malformedBody = malformedBody;
        b.status = status;
        b.errorStatus = errorStatus;
        b.errorMessage = errorMessage;
        b.errorReason = errorReason;
        b.retryDelay = retryDelay;
        b.htmlBody = htmlBody;
        b.headers = headers;
        return b;
    }

    /** Answers like Gemini: one GenerateContentResponse, or an SSE stream of them for {@code streamGenerateContent}. */
    public static GeminiBehaviour normal() {
        return new GeminiBehaviour();
    }

    /**
     * Answers {@code status} with Google's {@code {"error":{code,message,status,details}}} body. A 429 is
     * {@code RESOURCE_EXHAUSTED} with {@code QuotaFailure}, {@code Help} and {@code RetryInfo{retryDelay:"1s"}} details
     * and no {@code Retry-After} header (as Gemini sends it); change it with {@link #retryDelay}, {@link #header}.
     */
    public static GeminiBehaviour error(int status) {
        if (status < 400 || status > 599) {
            throw new IllegalArgumentException("error status must be 4xx or 5xx: " + status);
        }
        GeminiBehaviour b = new GeminiBehaviour();
        b.mode = Mode.ERROR;
        b.status = status;
        if (status == 429) {
            b.retryDelay = "1s";
        }
        return b;
    }

    /** Reads the request and never answers; the connection stays open until the client gives up. */
    public static GeminiBehaviour hang() {
        GeminiBehaviour b = new GeminiBehaviour();
        b.mode = Mode.HANG;
        return b;
    }

    /**
     * The answer's text; a stream splits it into {@link #chunks} nearly equal deltas. An empty text gives a candidate
     * without text parts ({@code content: {"role":"model"}} when nothing else is answered).
     */
    public GeminiBehaviour content(String text) {
        GeminiBehaviour b = copy();
        b.content = text;
        return b;
    }

    /** A thought part ({@code thought: true}) before the text, as with {@code includeThoughts}. */
    public GeminiBehaviour thoughts(String text) {
        GeminiBehaviour b = copy();
        b.thoughts = text;
        return b;
    }

    /** Adds a function call to the answer (several make parallel calls, in order); args must be an object. */
    public GeminiBehaviour functionCall(String name, JsonObject args) {
        return functionCall(name, args, null);
    }

    /** Adds a function call that carries an {@code id}, as newer models send it. */
    public GeminiBehaviour functionCall(String name, JsonObject args, String id) {
        GeminiBehaviour b = copy();
        List<FunctionCall> calls = new ArrayList<>(functionCalls);
        calls.add(new FunctionCall(name, args.copy(), id));
        b.functionCalls = List.copyOf(calls);
        return b;
    }

    /** The {@code thoughtSignature} on the first function call part (as Gemini 3 sends it). */
    public GeminiBehaviour thoughtSignature(String base64) {
        GeminiBehaviour b = copy();
        b.thoughtSignature = base64;
        return b;
    }

    /** Number of text events in a stream (default 4). */
    public GeminiBehaviour chunks(int count) {
        if (count < 0) {
            throw new IllegalArgumentException("chunks must not be negative");
        }
        GeminiBehaviour b = copy();
        b.chunks = count;
        return b;
    }

    /** Pause between two writes of a stream (default 0). */
    public GeminiBehaviour intervalMs(long millis) {
        GeminiBehaviour b = copy();
        b.intervalMs = millis;
        return b;
    }

    /** Pause before the response head (default 0). */
    public GeminiBehaviour delayMs(long millis) {
        GeminiBehaviour b = copy();
        b.delayMs = millis;
        return b;
    }

    /** Reported {@code promptTokenCount} (default 5). */
    public GeminiBehaviour promptTokens(int tokens) {
        GeminiBehaviour b = copy();
        b.promptTokens = tokens;
        return b;
    }

    /** Reported {@code candidatesTokenCount} of the whole answer (default 10). */
    public GeminiBehaviour candidatesTokens(int tokens) {
        GeminiBehaviour b = copy();
        b.candidatesTokens = tokens;
        return b;
    }

    /** Reported {@code thoughtsTokenCount} (default 0: omitted). */
    public GeminiBehaviour thoughtsTokens(int tokens) {
        GeminiBehaviour b = copy();
        b.thoughtsTokens = tokens;
        return b;
    }

    /** Reported {@code cachedContentTokenCount} (default 0: omitted). */
    public GeminiBehaviour cachedTokens(int tokens) {
        GeminiBehaviour b = copy();
        b.cachedTokens = tokens;
        return b;
    }

    /** The candidate's {@code finishReason} (default {@code STOP}), e.g. {@code SAFETY}, {@code RECITATION}. */
    public GeminiBehaviour finishReason(String reason) {
        GeminiBehaviour b = copy();
        b.finishReason = reason;
        return b;
    }

    /**
     * A response-side safety stop: no text, {@code finishReason: SAFETY} and a blocked safety rating
     * (the candidate's content is {@code {"role":"model"}} without parts).
     */
    public GeminiBehaviour safetyBlock() {
        return content("").finishReason("SAFETY");
    }

    /** A blocked prompt: HTTP 200 with {@code promptFeedback.blockReason} and no candidates (one event in a stream). */
    public GeminiBehaviour blockPrompt(String reason) {
        GeminiBehaviour b = copy();
        b.blockReason = reason;
        return b;
    }

    /** Sends no {@code usageMetadata} at all. */
    public GeminiBehaviour omitUsage() {
        return usage(UsagePlacement.NONE);
    }

    /** Stream: {@code usageMetadata} only on the last event. */
    public GeminiBehaviour usageOnLastEventOnly() {
        return usage(UsagePlacement.LAST_EVENT_ONLY);
    }

    /** Stream: {@code usageMetadata} on every event but the last (the reader must keep the last one it saw). */
    public GeminiBehaviour noUsageOnLastEvent() {
        return usage(UsagePlacement.NOT_ON_LAST_EVENT);
    }

    /** Stream: ends lines with {@code \r\n} instead of {@code \n}. */
    public GeminiBehaviour crlf() {
        GeminiBehaviour b = copy();
        b.crlf = true;
        return b;
    }

    /** Stream: writes all events (up to a fault) in one write. */
    public GeminiBehaviour burst() {
        GeminiBehaviour b = copy();
        b.framing = Framing.BURST;
        return b;
    }

    /** Stream: cuts the byte stream into writes of at most {@code bytes}, ignoring event boundaries. */
    public GeminiBehaviour fragments(int bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("fragment size must be positive");
        }
        GeminiBehaviour b = copy();
        b.framing = Framing.FRAGMENTS;
        b.fragmentBytes = bytes;
        return b;
    }

    /** Stream: closes the TCP connection after {@code events} events. A whole answer closes at once. */
    public GeminiBehaviour resetAfter(int events) {
        return fault(Fault.RESET, events);
    }

    /** Stream: stops sending after {@code events} events but keeps the connection open. A whole answer never comes. */
    public GeminiBehaviour stallAfter(int events) {
        return fault(Fault.STALL, events);
    }

    /** Stream: after {@code events} events sends a {@code data:} line that is not JSON, then carries on. */
    public GeminiBehaviour malformedEventAfter(int events) {
        return fault(Fault.MALFORMED_EVENT, events);
    }

    /** Stream: after {@code events} events sends {@code data: {"error":{code,…}}} and ends the response. */
    public GeminiBehaviour errorEventAfter(int events, int code) {
        GeminiBehaviour b = fault(Fault.ERROR_EVENT, events);
        b.faultCode = code;
        return b;
    }

    /**
     * Stream: after {@code events} events sends a pretty-printed {@code {"error":…}} outside SSE framing (as Gemini
     * has been seen to) and ends the response.
     */
    public GeminiBehaviour rawErrorAfter(int events, int code) {
        GeminiBehaviour b = fault(Fault.RAW_ERROR, events);
        b.faultCode = code;
        return b;
    }

    /** Stream: ends the response cleanly after {@code events} events, before any {@code finishReason}. */
    public GeminiBehaviour endAfter(int events) {
        return fault(Fault.END, events);
    }

    /** Whole answer: 200 with truncated, unparseable JSON. */
    public GeminiBehaviour malformedBody() {
        GeminiBehaviour b = copy();
        b.malformedBody = true;
        return b;
    }

    /** Error body: {@code error.status} (default from the HTTP status: 429 RESOURCE_EXHAUSTED, 503 UNAVAILABLE, …). */
    public GeminiBehaviour errorStatus(String status) {
        GeminiBehaviour b = copy();
        b.errorStatus = status;
        return b;
    }

    /** Error body or error event: {@code error.message}. */
    public GeminiBehaviour errorMessage(String message) {
        GeminiBehaviour b = copy();
        b.errorMessage = message;
        return b;
    }

    /** Error body: adds an {@code ErrorInfo} detail with this {@code reason} (e.g. {@code API_KEY_INVALID}). */
    public GeminiBehaviour errorReason(String reason) {
        GeminiBehaviour b = copy();
        b.errorReason = reason;
        return b;
    }

    /** Error body or error event: a {@code RetryInfo} detail with this {@code retryDelay} ({@code "47s"}). */
    public GeminiBehaviour retryDelay(String duration) {
        GeminiBehaviour b = copy();
        b.retryDelay = duration;
        return b;
    }

    /** Error body: no {@code RetryInfo} detail. */
    public GeminiBehaviour withoutRetryInfo() {
        return retryDelay(null);
    }

    /** Error body: an HTML page instead of JSON, as a proxy in front of Google answers a 502. */
    public GeminiBehaviour htmlBody() {
        GeminiBehaviour b = copy();
        b.htmlBody = true;
        return b;
    }

    /** A response header, replacing one of the same name (in any case), e.g. {@code header("Retry-After", "2")}. */
    public GeminiBehaviour header(String name, String value) {
        if (value == null) {
            throw new IllegalArgumentException("header value must not be null; use withoutHeader(\"" + name + "\")");
        }
        GeminiBehaviour b = withoutHeader(name);
        Map<String, String> h = new LinkedHashMap<>(b.headers);
        h.put(name, value);
        b.headers = Collections.unmodifiableMap(h);
        return b;
    }

    /** No response header {@code name} (in any case). */
    public GeminiBehaviour withoutHeader(String name) {
        GeminiBehaviour b = copy();
        Map<String, String> h = new LinkedHashMap<>(headers);
        h.keySet().removeIf(existing -> existing.equalsIgnoreCase(name));
        b.headers = Collections.unmodifiableMap(h);
        return b;
    }

    private GeminiBehaviour usage(UsagePlacement placement) {
        GeminiBehaviour b = copy();
        b.usage = placement;
        return b;
    }

    private GeminiBehaviour fault(Fault kind, int events) {
        if (events < 0) {
            throw new IllegalArgumentException("event count must not be negative");
        }
        GeminiBehaviour b = copy();
        b.fault = kind;
        b.faultAfter = events;
        return b;
    }

    @Override
    public String toString() {
        return "GeminiBehaviour[" + mode + (mode == Mode.ERROR ? " " + status : "") + ", chunks=" + chunks
                + ", fault=" + fault + (fault == Fault.NONE ? "" : "@" + faultAfter) + "]";
    }
}
