package co.corouter.provider.openai;

import co.corouter.plugin.api.ChatCompletion;
import co.corouter.plugin.api.ChatRequest;
import co.corouter.plugin.api.ChunkSink;
import co.corouter.plugin.api.ContentJson;
import co.corouter.plugin.api.EmbeddingRequest;
import co.corouter.plugin.api.Embeddings;
import co.corouter.plugin.api.ProviderEndpoint;
import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import co.corouter.plugin.api.StreamOutcome;
import co.corouter.plugin.api.TokenCounter;
import co.corouter.plugin.api.Usage;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
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
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * One {@code openai} provider instance: {@code POST {base_url}/chat/completions} and {@code POST {base_url}/embeddings}
 * ({@link OpenAiEmbeddings}) over a single keep-alive HTTP/1.1 connection pool. Methods are called on an event loop and
 * never block.
 *
 * <p>Usage is the upstream's own. When it sent none (a stream cut off, cancelled or ended before its usage chunk, an
 * upstream that omits usage), the output received is counted with the host's {@link TokenCounter} and reported as
 * {@link Usage#estimatedCompletion}: the host counts the prompt.
 *
 * <p>Stream events reach the client with the request's generation id and response model ({@link SseRelay}); a whole
 * completion is handed on as the upstream's bytes and the host stamps both. Time limits are {@link UpstreamCall}'s,
 * failure kinds {@link UpstreamErrors}'.
 */
final class OpenAiEndpoint implements ProviderEndpoint {

    private static final String EVENT_STREAM = "text/event-stream";
    private final Vertx vertx;
    private final OpenAiOptions options;
    private final TokenCounter tokens;
    private final String authorization;
    private final HttpClientAgent client;

    OpenAiEndpoint(Vertx vertx, OpenAiOptions options, String apiKey, TokenCounter tokens) {
        this.vertx = vertx;
        this.options = options;
        this.tokens = Objects.requireNonNull(tokens, "the host gave no token counter (ProviderContext.tokens)");
        this.authorization = apiKey == null ? null : "Bearer " + apiKey;
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
        Buffer payload = UpstreamBody.of(chat, false);
        UpstreamCall<ChatCompletion> call = new UpstreamCall<>(vertx, chat, false);
        client.request(requestOptions(options.chatCompletionsPath(), "application/json"))
                .compose(call::adopt)
                .compose(request -> request.send(payload))
                .compose(response -> {
                    call.answerStarted();
                    return response.body().map(body -> {
                        call.exchangeEnded();
                        int status = response.statusCode();
                        if (status / 100 != 2) {
                            throw UpstreamErrors.ofStatus(status, response.headers(), body);
                        }
                        return completion(status, body, tokens);
                    });
                })
                .onSuccess(call::succeed)
                .onFailure(call::fail);
        return call.future();
    }

    @Override
    public Future<StreamOutcome> stream(ChatRequest chat, ChunkSink sink) {
        Buffer payload = UpstreamBody.of(chat, true);
        UpstreamCall<StreamOutcome> call = new UpstreamCall<>(vertx, chat, true);
        client.request(requestOptions(options.chatCompletionsPath(), EVENT_STREAM))
                .compose(call::adopt)
                .compose(request -> request.send(payload))
                .onSuccess(response -> relay(response, chat, sink, call))
                .onFailure(call::fail);
        return call.future();
    }

    @Override
    public Future<Embeddings> embed(EmbeddingRequest embedding) {
        UpstreamCall<Embeddings> call = new UpstreamCall<>(vertx, embedding);
        if (call.settled()) {
            return call.future(); // cancelled before it began: no upstream call at all
        }
        Buffer payload;
        try {
            payload = OpenAiEmbeddings.body(embedding);
        } catch (IllegalArgumentException invalid) {
            call.fail(new ProviderException(Kind.BAD_REQUEST, "the embeddings request body is not a JSON object"));
            return call.future();
        }
        client.request(requestOptions(options.baseUrl().getRawPath() + "/embeddings", "application/json"))
                .compose(call::adopt)
                .compose(request -> request.send(payload))
                .compose(response -> response.body().map(body -> {
                    call.exchangeEnded();
                    int status = response.statusCode();
                    if (status / 100 != 2) {
                        throw UpstreamErrors.ofStatus(status, response.headers(), body);
                    }
                    return OpenAiEmbeddings.embeddings(status, body, embedding, tokens);
                }))
                .onSuccess(call::succeed)
                .onFailure(call::fail);
        return call.future();
    }

    @Override
    public Future<Void> close() {
        return client.close();
    }

    private RequestOptions requestOptions(String path, String accept) {
        RequestOptions request = new RequestOptions()
                .setMethod(HttpMethod.POST)
                .setURI(path)
                .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .putHeader(HttpHeaders.ACCEPT, accept);
        if (authorization != null) {
            request.putHeader(HttpHeaders.AUTHORIZATION, authorization);
        }
        options.headers().forEach(request::putHeader);
        return request;
    }

    /**
     * Checks a whole 2xx completion in one streaming pass (it must be one JSON object with a {@code choices} array)
     * and reads its usage and first finish reason; the body itself is handed on as bytes, never parsed into objects
     * (the host stamps its id and model). Without a usage, the choices' output is counted with {@code tokens}.
     */
    static ChatCompletion completion(int status, Buffer body, TokenCounter tokens) {
        byte[] bytes = body.getBytes();
        boolean choices = false;
        String finishReason = null;
        Usage usage = null;
        try (JsonParser parser = ContentJson.parser(bytes)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw notJson(status);
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                JsonToken value = parser.nextToken();
                if ("choices".equals(name) && value == JsonToken.START_ARRAY) {
                    choices = true;
                    finishReason = firstFinishReason(parser);
                } else if ("usage".equals(name) && value == JsonToken.START_OBJECT) {
                    int start = (int) parser.currentTokenLocation().getByteOffset();
                    parser.skipChildren();
                    int end = (int) parser.currentLocation().getByteOffset();
                    usage = Usages.reported(new JsonObject(Buffer.buffer(end - start).appendBytes(bytes, start,
                            end - start)));
                } else {
                    parser.skipChildren();
                }
            }
            if (parser.currentToken() != JsonToken.END_OBJECT || parser.nextToken() != null) {
                throw notJson(status);
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof ProviderException known) {
                throw known;
            }
            throw notJson(status);
        }
        if (!choices) {
            throw new ProviderException(Kind.BAD_RESPONSE, status, "upstream sent a completion without choices");
        }
        if (usage == null) {
            // rare: an upstream that reports no usage; count the answer it gave
            String output = Usages.outputText(new JsonObject(body).getJsonArray("choices"));
            usage = Usage.estimatedCompletion(tokens.count(output));
        }
        return ChatCompletion.raw(body, usage, finishReason);
    }

    /** Walks the {@code choices} array (parser on its START_ARRAY, left on its END_ARRAY). */
    private static String firstFinishReason(JsonParser parser) throws IOException {
        String finishReason = null;
        boolean first = true;
        JsonToken token;
        while ((token = parser.nextToken()) != JsonToken.END_ARRAY) {
            if (token == JsonToken.START_OBJECT && first) {
                while (parser.nextToken() == JsonToken.FIELD_NAME) {
                    String name = parser.currentName();
                    JsonToken value = parser.nextToken();
                    if ("finish_reason".equals(name) && value == JsonToken.VALUE_STRING) {
                        finishReason = parser.getText();
                    } else {
                        parser.skipChildren();
                    }
                }
            } else {
                parser.skipChildren();
            }
            first = false;
        }
        return finishReason;
    }

    private static ProviderException notJson(int status) {
        return new ProviderException(Kind.BAD_RESPONSE, status, "upstream sent a completion that is not JSON");
    }

    /**
     * Relays the upstream's events to the sink, one {@link ChunkSink#write} per upstream read, stamped with the
     * request's generation id and response model, pausing the upstream while the client is slow.
     */
    private void relay(HttpClientResponse response, ChatRequest chat, ChunkSink sink,
                       UpstreamCall<StreamOutcome> call) {
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
        SseRelay relay = new SseRelay(chat.generationId(), chat.responseModel());
        Supplier<Usage> deliveredSoFar = () -> usageSoFar(relay);
        response.handler(read -> {
            if (call.settled()) {
                return;
            }
            call.upstreamRead();
            forward(relay.accept(read), relay, deliveredSoFar, sink, call);
            if (!call.settled() && sink.writeQueueFull()) {
                response.pause();
                sink.drainHandler(drained -> response.resume());
            }
        });
        response.exceptionHandler(call::fail);
        response.endHandler(ended -> {
            call.exchangeEnded();
            if (!call.settled()) {
                forward(relay.end(), relay, deliveredSoFar, sink, call);
            }
            if (!call.settled()) {
                call.fail(new ProviderException(Kind.UPSTREAM_ERROR, status,
                        "upstream ended the stream without [DONE]"));
            }
        });
    }

    private static void forward(Buffer events, SseRelay relay, Supplier<Usage> deliveredSoFar, ChunkSink sink,
                                UpstreamCall<StreamOutcome> call) {
        if (events.length() > 0) {
            // the first event ends the first-byte wait; comments alone (an upstream "still processing") do not
            call.answerStarted();
            // before the write: a client that leaves during it cancels the call, which must then bill these events
            call.deliveredUsage(deliveredSoFar);
            sink.write(events);
        }
        if (relay.failure() != null) {
            call.fail(relay.failure());
        } else if (relay.done()) {
            call.succeed(new StreamOutcome(deliveredSoFar.get(), relay.finishReason()));
        }
    }

    /** The upstream's usage, or the forwarded output counted when it reported none (yet). */
    private Usage usageSoFar(SseRelay relay) {
        Usage reported = relay.reportedUsage();
        return reported != null ? reported : Usage.estimatedCompletion(tokens.count(relay.forwardedText()));
    }

    private static void failAfterBody(HttpClientResponse response, UpstreamCall<StreamOutcome> call,
                                      Function<Buffer, ProviderException> failure) {
        response.body().onComplete(body -> {
            call.exchangeEnded();
            call.fail(failure.apply(body.succeeded() ? body.result() : null));
        });
    }
}
