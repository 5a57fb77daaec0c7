package co.corouter.plugin.api;

import io.vertx.core.Future;

/**
 * One configured provider instance. The router calls it on the event loop of the HTTP request it serves.
 *
 * <p><b>Threading.</b> Every method is called on a Vert.x event loop and must return immediately: do network
 * I/O with Vert.x clients and complete the returned future later. Never block.
 * <pre>
 * GOOD: return client.request(opts).compose(req -&gt; req.send(body)).compose(resp -&gt; resp.body()).map(...);
 * BAD:  return Future.succeededFuture(httpClient.send(req, ofString()));   // blocks the event loop
 * </pre>
 *
 * <p><b>Errors.</b> Fail futures with {@link ProviderException}, choosing its {@link ProviderException.Kind}
 * truthfully; the host maps kinds to HTTP statuses (timeout 504, upstream 502, unavailable 503). Never put
 * prompt or response text into an exception message.
 *
 * <p><b>Cancellation.</b> {@link ChatRequest#cancelled()} completes when the host wants the call stopped (the client
 * of a stream went away, or the host's deadline passed); stop the upstream call then (reset the request) so the
 * upstream stops generating and billing, write nothing more, and complete the returned future promptly, failing it
 * with the usage of what was received so far ({@link ProviderException#withUsage}): the host bills the prompt plus
 * the completion tokens actually produced.
 *
 * <p><b>Time.</b> The provider enforces {@link ChatRequest#timeoutMillis()}, {@link ChatRequest#firstByteTimeoutMillis()}
 * and {@link ChatRequest#idleTimeoutMillis()} and fails with {@link ProviderException.Kind#TIMEOUT}; the host keeps its
 * own deadline a little later, which cancels the request and answers 504 if the provider never completes.
 *
 * <p><b>Failures and fallback.</b> Choose the {@link ProviderException.Kind} truthfully: the host fails over to the
 * next endpoint on a timeout before the first byte, a connection failure, a 5xx, RATE_LIMITED (pass the upstream's
 * Retry-After with {@link ProviderException#rateLimited}), OVERLOADED or AUTH — but only while nothing has reached the
 * client.
 *
 * <p><b>Stream events</b> carry {@link ChatRequest#generationId()} as {@code id} and {@link ChatRequest#responseModel()}
 * as {@code model}, whatever the upstream sent; {@link ChunkEncoder} writes such events for upstreams that do not
 * speak OpenAI.
 */
public interface ProviderEndpoint {

    /** A whole (non-streaming) completion. */
    Future<ChatCompletion> complete(ChatRequest request);

    /**
     * A streaming completion. Write OpenAI-format server-sent events ({@code data: {chunk}\n\n}) to
     * {@code sink} as the upstream delivers them; write what one upstream read delivered with one
     * {@link ChunkSink#write} call. Do <i>not</i> write {@code data: [DONE]} and do not write the
     * usage-only chunk: report usage in the returned {@link StreamOutcome} and the host writes the final
     * usage chunk (with cost) and {@code [DONE]} itself. A chunk that carries choices and also a {@code usage} is
     * forwarded with its {@code usage} removed, so the client sees usage exactly once. Respect back-pressure
     * ({@link ChunkSink#writeQueueFull()} / {@link ChunkSink#drainHandler}).
     *
     * <p>The future completes after the last event was written; it fails with {@link ProviderException}
     * if the upstream fails before or during the stream. The host knows from {@link ChunkSink} whether
     * anything was written yet and reports the error accordingly.
     */
    Future<StreamOutcome> stream(ChatRequest request, ChunkSink sink);

    /**
     * Embeddings for {@code request}'s inputs. Providers that have none keep this default, which fails with
     * {@link ProviderException.Kind#BAD_REQUEST}: the catalog should not route embeddings to them.
     *
     * @since 1.4.0
     */
    default Future<Embeddings> embed(EmbeddingRequest request) {
        return Future.failedFuture(new ProviderException(ProviderException.Kind.BAD_REQUEST,
                "this provider does not serve embeddings"));
    }

    /** Releases clients and timers. Called on shutdown or reload; must not block. */
    default Future<Void> close() {
        return Future.succeededFuture();
    }
}
