package co.corouter.provider.gemini;

import co.corouter.plugin.api.ChatCompletion;
import co.corouter.plugin.api.ChatRequest;
import co.corouter.plugin.api.ChunkSink;
import co.corouter.plugin.api.EmbeddingRequest;
import co.corouter.plugin.api.Embeddings;
import co.corouter.plugin.api.ProviderEndpoint;
import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import co.corouter.plugin.api.StreamOutcome;
import co.corouter.plugin.api.TokenCounter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;

import java.util.Objects;
import java.util.function.Function;

/**
 * One {@code gemini} provider instance over a single keep-alive HTTP/1.1 connection pool:
 * {@code :generateContent} for whole answers ({@link GeminiCompletion}), {@code :streamGenerateContent?alt=sse} for
 * streams ({@link GeminiStream}), {@code :batchEmbedContents} for embeddings ({@link GeminiEmbeddings}); request bodies
 * from {@link GenerateContentBody}. The API key goes in {@code x-goog-api-key}, never in the URL. Methods are called on
 * an event loop and never block; time limits and cancellation are {@link GeminiCall}'s, failure kinds
 * {@link GeminiErrors}'.
 */
final class GeminiEndpoint implements ProviderEndpoint {

    private static final String EVENT_STREAM = "text/event-stream";
    private static final String JSON = "application/json";

    private final Vertx vertx;
    private final GeminiOptions options;
    private final String apiKey;
    private final TokenCounter tokens;
    private final HttpClientAgent client;

    GeminiEndpoint(Vertx vertx, GeminiOptions options, String apiKey, TokenCounter tokens) {
        this.vertx = vertx;
        this.options = options;
        this.apiKey = Objects.requireNonNull(apiKey, "apiKey");
        this.tokens = Objects.requireNonNull(tokens, "the host gave no token counter (ProviderContext.tokens)");
        this.client = vertx.httpClientBuilder()
                .with(new HttpClientOptions()
                        .setProtocolVersion(HttpVersion.HTTP_1_1)
                        .setKeepAlive(true)
                        .setTcpNoDelay(true)
                        .setConnectTimeout(options.connectTimeoutMs())
                        .setSsl(options.ssl())
                        .setForceSni(options.ssl() && !options.hostIsIpLiteral())
                        .setDefaultHost(options.host())
                        .setDefaultPort(options.port()))
                .with(new PoolOptions().setHttp1MaxSize(options.maxConnections()))
                .build();
    }

    @Override
    public Future<ChatCompletion> complete(ChatRequest chat) {
        GeminiCall<ChatCompletion> call = GeminiCall.of(vertx, chat, false);
        Buffer payload = payload(chat, call);
        if (payload == null) {
            return call.future();
        }
        client.request(requestOptions(options.methodPath(chat.upstreamModel(), "generateContent"), JSON))
                .compose(call::adopt)
                .compose(request -> request.send(payload))
                .compose(response -> {
                    call.answerStarted();
                    return response.body().map(body -> {
                        call.exchangeEnded();
                        int status = response.statusCode();
                        if (status / 100 != 2) {
                            throw GeminiErrors.ofStatus(status, response.headers(), body);
                        }
                        return GeminiCompletion.of(status, body, chat, tokens);
                    });
                })
                .onSuccess(call::succeed)
                .onFailure(call::fail);
        return call.future();
    }

    @Override
    public Future<StreamOutcome> stream(ChatRequest chat, ChunkSink sink) {
        GeminiCall<StreamOutcome> call = GeminiCall.of(vertx, chat, true);
        Buffer payload = payload(chat, call);
        if (payload == null) {
            return call.future();
        }
        client.request(requestOptions(options.methodPath(chat.upstreamModel(), "streamGenerateContent")
                        + "?alt=sse", EVENT_STREAM))
                .compose(call::adopt)
                .compose(request -> request.send(payload))
                .onSuccess(response -> relay(response, chat, sink, call))
                .onFailure(call::fail);
        return call.future();
    }

    @Override
    public Future<Embeddings> embed(EmbeddingRequest embedding) {
        GeminiCall<Embeddings> call = GeminiCall.of(vertx, embedding);
        if (embedding.inputs().isEmpty()) {
            call.fail(new ProviderException(Kind.BAD_REQUEST, "an embeddings request needs at least one input"));
            return call.future();
        }
        Buffer payload = GeminiEmbeddings.body(embedding);
        client.request(requestOptions(options.methodPath(embedding.upstreamModel(), "batchEmbedContents"), JSON))
                .compose(call::adopt)
                .compose(request -> request.send(payload))
                .compose(response -> response.body().map(body -> {
                    call.exchangeEnded();
                    int status = response.statusCode();
                    if (status / 100 != 2) {
                        throw GeminiErrors.ofStatus(status, response.headers(), body);
                    }
                    return GeminiEmbeddings.embeddings(status, body, embedding, tokens);
                }))
                .onSuccess(call::succeed)
                .onFailure(call::fail);
        return call.future();
    }

    @Override
    public Future<Void> close() {
        return client.close();
    }

    /** The request body, or null after failing the call when the request cannot be translated. */
    private static Buffer payload(ChatRequest chat, GeminiCall<?> call) {
        if (call.settled()) {
            return null; // cancelled before it began: no upstream call at all
        }
        try {
            return GenerateContentBody.of(chat).toBuffer();
        } catch (ProviderException untranslatable) {
            call.fail(untranslatable);
            return null;
        }
    }

    private RequestOptions requestOptions(String uri, String accept) {
        RequestOptions request = new RequestOptions()
                .setMethod(HttpMethod.POST)
                .setURI(uri)
                .putHeader(HttpHeaders.CONTENT_TYPE, JSON)
                .putHeader(HttpHeaders.ACCEPT, accept)
                .putHeader("x-goog-api-key", apiKey);
        options.headers().forEach(request::putHeader);
        return request;
    }

    /**
     * Translates the upstream's events to the sink as they arrive, one {@link ChunkSink#write} per upstream read,
     * pausing the upstream while the client is slow.
     */
    private void relay(HttpClientResponse response, ChatRequest chat, ChunkSink sink,
                       GeminiCall<StreamOutcome> call) {
        int status = response.statusCode();
        if (status / 100 != 2) {
            failAfterBody(response, call, body -> GeminiErrors.ofStatus(status, response.headers(), body));
            return;
        }
        String contentType = response.getHeader(HttpHeaders.CONTENT_TYPE);
        if (contentType != null && !contentType.regionMatches(true, 0, EVENT_STREAM, 0, EVENT_STREAM.length())) {
            failAfterBody(response, call, body -> new ProviderException(Kind.BAD_RESPONSE, status,
                    "upstream answered a stream request with " + contentType.split(";")[0].strip()));
            return;
        }
        GeminiStream stream = new GeminiStream(chat, tokens);
        response.handler(read -> {
            if (call.settled()) {
                return;
            }
            call.upstreamRead();
            forward(stream.accept(read), stream, sink, call);
            if (!call.settled() && sink.writeQueueFull()) {
                response.pause();
                sink.drainHandler(drained -> response.resume());
            }
        });
        response.exceptionHandler(call::fail);
        response.endHandler(ended -> {
            call.exchangeEnded();
            if (!call.settled()) {
                forward(stream.end(), stream, sink, call);
            }
        });
    }

    private static void forward(Buffer events, GeminiStream stream, ChunkSink sink, GeminiCall<StreamOutcome> call) {
        if (stream.answerStarted()) {
            call.answerStarted();
        }
        if (events.length() > 0) {
            // before the write: a client that leaves during it cancels the call, which must then bill these events
            call.deliveredUsage(stream::deliveredUsage);
            sink.write(events);
        }
        if (stream.failure() != null) {
            call.fail(stream.failure());
        } else if (stream.complete()) {
            call.succeed(new StreamOutcome(stream.usage(), stream.finishReason()));
        }
    }

    private static void failAfterBody(HttpClientResponse response, GeminiCall<StreamOutcome> call,
                                      Function<Buffer, ProviderException> failure) {
        response.body().onComplete(body -> {
            call.exchangeEnded();
            call.fail(failure.apply(body.succeeded() ? body.result() : null));
        });
    }
}
