package co.corouter.provider.anthropic;

import co.corouter.plugin.api.ChatCompletion;
import co.corouter.plugin.api.ChatRequest;
import co.corouter.plugin.api.ChunkEncoder;
import co.corouter.plugin.api.ChunkSink;
import co.corouter.plugin.api.ProviderEndpoint;
import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import co.corouter.plugin.api.StreamOutcome;
import co.corouter.plugin.api.TokenCounter;
import co.corouter.plugin.api.Usage;
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
import java.util.function.Supplier;

/**
 * One {@code anthropic} provider instance: {@code POST {base_url}/v1/messages} over one keep-alive HTTP/1.1
 * connection pool, the client's OpenAI-shaped request translated by {@link MessagesRequest}, the answer by
 * {@link MessagesResponse} (whole) or {@link StreamTranslator} (stream, chunk by chunk as events arrive). Methods are
 * called on an event loop and never block.
 *
 * <p>Usage is Anthropic's own, its cache reads and writes included in the prompt ({@link Usages}). When it sent none
 * (a stream cut off, cancelled or failed before {@code message_delta}, an answer without usage), the output
 * forwarded is counted with the host's {@link TokenCounter} and the usage is marked estimated. Time limits and
 * cancellation are {@link MessagesCall}'s, failure kinds {@link UpstreamErrors}'.
 */
final class AnthropicEndpoint implements ProviderEndpoint {

    private static final String EVENT_STREAM = "text/event-stream";
    private static final String JSON = "application/json";

    private final Vertx vertx;
    private final AnthropicOptions options;
    private final String apiKey;
    private final TokenCounter tokens;
    private final HttpClientAgent client;

    AnthropicEndpoint(Vertx vertx, AnthropicOptions options, String apiKey, TokenCounter tokens) {
        this.vertx = vertx;
        this.options = options;
        this.apiKey = apiKey;
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
        MessagesCall<ChatCompletion> call = new MessagesCall<>(vertx, chat, false);
        Buffer payload = payload(chat, false, call);
        if (payload == null) {
            return call.future();
        }
        client.request(requestOptions(JSON))
                .compose(call::adopt)
                .compose(request -> request.send(payload))
                .compose(response -> {
                    call.answering();
                    return response.body().map(body -> {
                        call.exchangeEnded();
                        int status = response.statusCode();
                        if (status / 100 != 2) {
                            throw UpstreamErrors.ofStatus(status, response.headers(), body);
                        }
                        return MessagesResponse.completion(status, body, chat, tokens);
                    });
                })
                .onSuccess(call::succeed)
                .onFailure(call::fail);
        return call.future();
    }

    @Override
    public Future<StreamOutcome> stream(ChatRequest chat, ChunkSink sink) {
        MessagesCall<StreamOutcome> call = new MessagesCall<>(vertx, chat, true);
        Buffer payload = payload(chat, true, call);
        if (payload == null) {
            return call.future();
        }
        client.request(requestOptions(EVENT_STREAM))
                .compose(call::adopt)
                .compose(request -> request.send(payload))
                .onSuccess(response -> relay(response, chat, sink, call))
                .onFailure(call::fail);
        return call.future();
    }

    @Override
    public Future<Void> close() {
        return client.close();
    }

    /** The Messages body, or null when the call settled already (cancelled before it began, untranslatable). */
    private Buffer payload(ChatRequest chat, boolean stream, MessagesCall<?> call) {
        if (call.settled()) {
            return null;
        }
        try {
            return MessagesRequest.of(chat.body(), chat.upstreamModel(), chat.maxTokens(), stream,
                    options.acceptsSamplingParameters()).toBuffer();
        } catch (ProviderException untranslatable) {
            call.fail(untranslatable);
            return null;
        } catch (RuntimeException notJson) {
            // the host validates bodies, so this is a host bug; still a failed future, never a throw
            call.fail(new ProviderException(Kind.BAD_REQUEST, 0, "the request body is not a JSON object"));
            return null;
        }
    }

    private RequestOptions requestOptions(String accept) {
        RequestOptions request = new RequestOptions()
                .setMethod(HttpMethod.POST)
                .setURI(options.messagesPath())
                .putHeader(HttpHeaders.CONTENT_TYPE, JSON)
                .putHeader(HttpHeaders.ACCEPT, accept)
                .putHeader("anthropic-version", options.anthropicVersion());
        if (apiKey != null) {
            request.putHeader("x-api-key", apiKey);
        }
        if (options.anthropicBeta() != null) {
            request.putHeader("anthropic-beta", options.anthropicBeta());
        }
        options.headers().forEach(request::putHeader);
        return request;
    }

    /**
     * Translates the upstream's events into chunks for the sink, one {@link ChunkSink#write} per upstream read,
     * pausing the upstream while the client is slow.
     */
    private void relay(HttpClientResponse response, ChatRequest chat, ChunkSink sink,
                       MessagesCall<StreamOutcome> call) {
        int status = response.statusCode();
        if (status / 100 != 2) {
            failAfterBody(response, call, body -> UpstreamErrors.ofStatus(status, response.headers(), body));
            return;
        }
        String contentType = response.getHeader(HttpHeaders.CONTENT_TYPE);
        if (contentType != null && !contentType.regionMatches(true, 0, EVENT_STREAM, 0, EVENT_STREAM.length())) {
            failAfterBody(response, call, body -> new ProviderException(Kind.BAD_RESPONSE, status,
                    "upstream answered a stream request with " + contentType.split(";")[0].strip()));
            return;
        }
        StreamTranslator translator = new StreamTranslator(ChunkEncoder.of(chat));
        Supplier<Usage> deliveredSoFar = () -> translator.usage(tokens, chat.maxTokens());
        response.handler(read -> {
            if (call.settled()) {
                return;
            }
            call.read();
            forward(translator.accept(read), translator, deliveredSoFar, sink, call);
            if (!call.settled() && sink.writeQueueFull()) {
                response.pause();
                call.clientSlow();
                sink.drainHandler(drained -> {
                    call.clientCaughtUp();
                    response.resume();
                });
            }
        });
        response.exceptionHandler(call::fail);
        response.endHandler(ended -> {
            call.exchangeEnded();
            if (!call.settled()) {
                forward(translator.end(), translator, deliveredSoFar, sink, call);
            }
            if (!call.settled()) {
                call.fail(new ProviderException(Kind.UPSTREAM_ERROR, status,
                        "upstream ended the stream before message_stop"));
            }
        });
    }

    private static void forward(Buffer chunks, StreamTranslator translator, Supplier<Usage> deliveredSoFar,
                                ChunkSink sink, MessagesCall<StreamOutcome> call) {
        if (translator.started()) {
            // message_start ends the first-byte wait; a ping alone is no answer yet
            call.answering();
        }
        if (chunks.length() > 0) {
            // before the write: a client that leaves during it cancels the call, which must then bill these chunks
            call.delivered(deliveredSoFar);
            sink.write(chunks);
        }
        if (translator.failure() != null) {
            call.fail(translator.failure());
        } else if (translator.done()) {
            call.succeed(new StreamOutcome(deliveredSoFar.get(), translator.finishReason()));
        }
    }

    private static void failAfterBody(HttpClientResponse response, MessagesCall<StreamOutcome> call,
                                      Function<Buffer, ProviderException> failure) {
        response.body().onComplete(body -> {
            call.exchangeEnded();
            call.fail(failure.apply(body.succeeded() ? body.result() : null));
        });
    }
}
