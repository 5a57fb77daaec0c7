package co.corouter.testkit.upstream;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One request {@link FakeOpenAiUpstream} received. Safe to read from any thread.
 */
public final class RecordedRequest {

    private final String method;
    private final String path;
    private final Map<String, List<String>> headers;
    private final String rawBody;
    private final JsonObject body;
    private final ResponseTrace trace;

    RecordedRequest(String method, String path, Map<String, List<String>> headers, String rawBody, JsonObject body,
                    ResponseTrace trace) {
        this.method = method;
        this.path = path;
        this.headers = headers;
        this.rawBody = rawBody;
        this.body = body;
        this.trace = trace;
    }

    public String method() {
        return method;
    }

    public String path() {
        return path;
    }

    /** All headers, names lower-cased. */
    public Map<String, List<String>> headers() {
        return headers;
    }

    /** The first value of a header (case-insensitive), or {@code null}. */
    public String header(String name) {
        List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    /** The {@code Authorization} header, or {@code null}. */
    public String authorization() {
        return header("authorization");
    }

    /** The body as sent. */
    public String rawBody() {
        return rawBody;
    }

    /** The body parsed as JSON (a copy), or {@code null} when it was not a JSON object. */
    public JsonObject body() {
        return body == null ? null : body.copy();
    }

    /** True when the body asked for a stream. */
    public boolean streaming() {
        return body != null && Boolean.TRUE.equals(body.getValue("stream"));
    }

    /**
     * Completes when the connection closed before the response was finished: the client went away (a
     * cancellation or timeout on its side), or the behaviour itself reset it.
     */
    public Future<Void> connectionClosed() {
        return trace.closed.future();
    }

    /** True once {@link #connectionClosed()} completed. */
    public boolean wasConnectionClosed() {
        return trace.closed.future().isComplete();
    }

    /**
     * Completes when the fake ended its response normally: a full answer, or a scripted error (an error status, an
     * error event, a stream ended early without {@code [DONE]}). Never completes when the connection closed first
     * (a reset, or a client that went away mid-stream) or while the fake hangs or stalls.
     */
    public Future<Void> responseEnded() {
        return trace.ended.future();
    }

    /** True once {@link #responseEnded()} completed. */
    public boolean wasAnsweredInFull() {
        return trace.ended.future().isComplete();
    }

    /**
     * Stream events carrying a non-empty {@code delta.content} that the fake wrote to the response so far (it stops
     * writing when the response ends or the connection closes). The role chunk, the finish chunk and error events
     * carry none; a whole completion has 0. With {@link Behaviour#fragments} an event counts once its last byte was
     * written. Written is not received: the client may not have read the last ones before it went away.
     */
    public int contentEventsWritten() {
        return trace.contentEvents.get();
    }

    @Override
    public String toString() {
        return "RecordedRequest[" + method + " " + path + "]";
    }
}
