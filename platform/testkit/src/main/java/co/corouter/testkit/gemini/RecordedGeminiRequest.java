package co.corouter.testkit.gemini;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One request {@link FakeGeminiUpstream} received, and what the fake did with it. Safe to read from any thread: the
 * fake writes the trace on its event loop.
 */
public final class RecordedGeminiRequest {

    private final String method;
    private final String path;
    private final Map<String, List<String>> query;
    private final Map<String, List<String>> headers;
    private final String rawBody;
    private final JsonObject body;
    private final String model;
    private final String action;
    final Promise<Void> closed = Promise.promise();
    final Promise<Void> ended = Promise.promise();
    final AtomicInteger contentEvents = new AtomicInteger();

    RecordedGeminiRequest(String method, String path, Map<String, List<String>> query,
                          Map<String, List<String>> headers, String rawBody, JsonObject body, String model,
                          String action) {
        this.method = method;
        this.path = path;
        this.query = query;
        this.headers = headers;
        this.rawBody = rawBody;
        this.body = body;
        this.model = model;
        this.action = action;
    }

    public String method() {
        return method;
    }

    /** The path without the query, e.g. {@code /v1beta/models/gemini-2.5-flash:streamGenerateContent}. */
    public String path() {
        return path;
    }

    /** The first value of a query parameter, or {@code null}. */
    public String queryParam(String name) {
        List<String> values = query.get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    /** All query parameters. */
    public Map<String, List<String>> query() {
        return query;
    }

    /** The model named in the path ({@code gemini-2.5-flash}), or {@code null} for a path that names none. */
    public String model() {
        return model;
    }

    /** The method named in the path ({@code generateContent}, {@code streamGenerateContent}, ...), or {@code null}. */
    public String action() {
        return action;
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

    /** The {@code x-goog-api-key} header, or {@code null}. */
    public String apiKey() {
        return header("x-goog-api-key");
    }

    /** The body as sent. */
    public String rawBody() {
        return rawBody;
    }

    /** The body parsed as JSON (a copy), or {@code null} when it was not a JSON object. */
    public JsonObject body() {
        return body == null ? null : body.copy();
    }

    /** True for {@code streamGenerateContent}. */
    public boolean streaming() {
        return "streamGenerateContent".equals(action);
    }

    /** True when the request asked for server-sent events ({@code ?alt=sse}). */
    public boolean sse() {
        return "sse".equals(queryParam("alt"));
    }

    /** Completes when the connection closed before the response was finished (client gone, or a scripted reset). */
    public Future<Void> connectionClosed() {
        return closed.future();
    }

    public boolean wasConnectionClosed() {
        return closed.future().isComplete();
    }

    /**
     * Completes when the fake ended its response normally: a full answer, or a scripted error (an error status, an
     * error event, a stream ended early). Never when the connection closed first or while the fake hangs or stalls.
     */
    public Future<Void> responseEnded() {
        return ended.future();
    }

    public boolean wasAnsweredInFull() {
        return ended.future().isComplete();
    }

    /**
     * Stream events carrying output (a non-thought text part that is not empty, or a function call) the fake wrote so
     * far; with {@link GeminiBehaviour#fragments} an event counts once its last byte was written. A whole answer has 0.
     */
    public int contentEventsWritten() {
        return contentEvents.get();
    }

    @Override
    public String toString() {
        return "RecordedGeminiRequest[" + method + " " + path + "]";
    }
}
