package co.corouter.testkit.anthropic;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One request {@link FakeAnthropicUpstream} received, and what the fake did with it. Written on the fake's event
 * loop, safe to read from any thread.
 */
public final class RecordedAnthropicRequest {

    private final String method;
    private final String path;
    private final String query;
    private final Map<String, List<String>> headers;
    private final String rawBody;
    private final JsonObject body;
    final Promise<Void> closed = Promise.promise();
    final Promise<Void> ended = Promise.promise();
    final AtomicInteger contentEvents = new AtomicInteger();

    RecordedAnthropicRequest(String method, String path, String query, Map<String, List<String>> headers,
                             String rawBody, JsonObject body) {
        this.method = method;
        this.path = path;
        this.query = query;
        this.headers = headers;
        this.rawBody = rawBody;
        this.body = body;
    }

    public String method() {
        return method;
    }

    /** The path, without the query. */
    public String path() {
        return path;
    }

    /** The query string (e.g. {@code beta=true}), or {@code null}. */
    public String query() {
        return query;
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

    /** The {@code x-api-key} header, or {@code null}. */
    public String apiKey() {
        return header("x-api-key");
    }

    /** The {@code Authorization} header (newer SDKs send the key as a bearer token), or {@code null}. */
    public String authorization() {
        return header("authorization");
    }

    /** The {@code anthropic-version} header, or {@code null}. */
    public String anthropicVersion() {
        return header("anthropic-version");
    }

    /** The {@code anthropic-beta} header, or {@code null}. */
    public String anthropicBeta() {
        return header("anthropic-beta");
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
     * Completes when the connection closed before the response was finished: the client went away (a cancellation or
     * timeout on its side), or the behaviour itself reset it.
     */
    public Future<Void> connectionClosed() {
        return closed.future();
    }

    /** True once {@link #connectionClosed()} completed. */
    public boolean wasConnectionClosed() {
        return closed.future().isComplete();
    }

    /**
     * Completes when the fake ended its response: a full answer, or a scripted error (an error status, an error
     * event, a stream ended early without {@code message_stop}). Never completes when the connection closed first (a
     * reset, or a client that went away mid-stream) or while the fake hangs or stalls.
     */
    public Future<Void> responseEnded() {
        return ended.future();
    }

    /** True once {@link #responseEnded()} completed. */
    public boolean wasAnsweredInFull() {
        return ended.future().isComplete();
    }

    /**
     * {@code content_block_delta} events with a non-empty text, thinking or tool-input piece that the fake wrote so
     * far (one output token each); a whole Message has 0. With {@link AnthropicBehaviour#fragments} an event counts
     * once its last byte was written. Written is not received: the client may not have read the last ones.
     */
    public int contentEventsWritten() {
        return contentEvents.get();
    }

    @Override
    public String toString() {
        return "RecordedAnthropicRequest[" + method + " " + path + "]";
    }
}
