package co.corouter.plugin.api;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.Objects;

/**
 * A chat completion request as the host hands it to a provider. Confined to the event loop that calls the
 * provider. Its {@link #toString()} never shows the body (request content is never logged).
 *
 * <p>The host passes the client's body as the bytes it received ({@link #raw()}), already validated as one JSON
 * object of the OpenAI chat-completions shape. {@link #body()} parses them on first use; a provider that only
 * forwards the request can splice the bytes instead and never pay for the parse.
 *
 * <p>Accessors: {@code generationId} — the host's id for this request (also the {@code X-Generation-Id} header; use
 * it as the completion {@code id} where a provider invents one); {@code upstreamModel} — the model name to send
 * upstream (the catalog maps public ids to upstream names); {@code maxTokens} — the completion-token cap the host
 * reserved credit for (providers must not let the upstream produce more); {@code timeoutMillis} — the whole-request
 * budget (fail with {@link ProviderException.Kind#TIMEOUT} after it); {@code cancelled} — completes when the host
 * wants the call stopped (stop the upstream call then): the client of a streaming request went away, or the host's
 * own deadline passed. A non-streaming call is never cancelled because its client left: it runs to its end and is
 * billed in full, as the upstream bills it.
 */
public final class ChatRequest {

    private final String generationId;
    private final String upstreamModel;
    private final int maxTokens;
    private final long timeoutMillis;
    private final Future<Void> cancelled;
    private Buffer raw;
    private JsonObject body;
    private String responseModel;
    private long firstByteTimeoutMillis;
    private long idleTimeoutMillis;

    /** A request from a parsed body (tests, tools). */
    public ChatRequest(String generationId, String upstreamModel, JsonObject body, int maxTokens, long timeoutMillis,
                       Future<Void> cancelled) {
        this(generationId, upstreamModel, null, Objects.requireNonNull(body, "body"), maxTokens, timeoutMillis,
                cancelled);
    }

    private ChatRequest(String generationId, String upstreamModel, Buffer raw, JsonObject body, int maxTokens,
                        long timeoutMillis, Future<Void> cancelled) {
        this.generationId = generationId;
        this.upstreamModel = upstreamModel;
        this.raw = raw;
        this.body = body;
        this.maxTokens = maxTokens;
        this.timeoutMillis = timeoutMillis;
        this.cancelled = cancelled;
    }

    /**
     * A request from the client's bytes, which the host has validated as one JSON object.
     *
     * @since 1.1.0
     */
    public static ChatRequest ofRaw(String generationId, String upstreamModel, Buffer raw, int maxTokens,
                                    long timeoutMillis, Future<Void> cancelled) {
        return new ChatRequest(generationId, upstreamModel, Objects.requireNonNull(raw, "raw"), null, maxTokens,
                timeoutMillis, cancelled);
    }

    public String generationId() {
        return generationId;
    }

    public String upstreamModel() {
        return upstreamModel;
    }

    /** The client's body as a JSON object (parsed on first use); treat as read-only — copy before changing. */
    public JsonObject body() {
        if (body == null) {
            body = new JsonObject(raw);
        }
        return body;
    }

    /**
     * The client's body as JSON bytes; treat as read-only.
     *
     * @since 1.1.0
     */
    public Buffer raw() {
        if (raw == null) {
            raw = body.toBuffer();
        }
        return raw;
    }

    public int maxTokens() {
        return maxTokens;
    }

    public long timeoutMillis() {
        return timeoutMillis;
    }

    public Future<Void> cancelled() {
        return cancelled;
    }

    /**
     * The model id the client sees in every chunk and answer (the public catalog id): stream events must carry it as
     * their {@code model}, and {@link #generationId()} as their {@code id}, so one stream has one id and one model
     * whatever the upstream calls them. Defaults to {@link #upstreamModel()}.
     *
     * @since 1.3.0
     */
    public String responseModel() {
        return responseModel != null ? responseModel : upstreamModel;
    }

    /**
     * The time the upstream has to start answering — its response head for a whole completion, its first event for a
     * stream — in ms; 0 when only {@link #timeoutMillis()} applies. Past it, fail with
     * {@link ProviderException.Kind#TIMEOUT}: the host may then try another endpoint (nothing reached the client).
     *
     * @since 1.3.0
     */
    public long firstByteTimeoutMillis() {
        return firstByteTimeoutMillis;
    }

    /**
     * The longest silence allowed between two upstream reads of a stream, in ms; 0 for none. Past it, fail with
     * {@link ProviderException.Kind#TIMEOUT} (with the usage of what was delivered). Check it without a timer per read:
     * a stream of 1,000 events must not arm 1,000 timers.
     *
     * @since 1.3.0
     */
    public long idleTimeoutMillis() {
        return idleTimeoutMillis;
    }

    /** Host side: the public model id for {@link #responseModel()}. */
    public ChatRequest responseModel(String model) {
        this.responseModel = model;
        return this;
    }

    /** Host side: the time limits of {@link #firstByteTimeoutMillis()} and {@link #idleTimeoutMillis()}. */
    public ChatRequest timeouts(long firstByteMillis, long idleMillis) {
        this.firstByteTimeoutMillis = Math.max(0, firstByteMillis);
        this.idleTimeoutMillis = Math.max(0, idleMillis);
        return this;
    }

    @Override
    public String toString() {
        return "ChatRequest[" + generationId + ", " + upstreamModel + ", maxTokens=" + maxTokens + "]";
    }
}
