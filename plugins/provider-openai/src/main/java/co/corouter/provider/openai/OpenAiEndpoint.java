package co.corouter.provider.openai;

import co.corouter.plugin.api.ChatCompletion;
import co.corouter.plugin.api.ChatRequest;
import co.corouter.plugin.api.ChunkSink;
import co.corouter.plugin.api.ProviderEndpoint;
import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import co.corouter.plugin.api.StreamOutcome;
import co.corouter.plugin.api.Usage;
import com.fasterxml.jackson.core.JsonFactory;
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
import java.util.function.Function;

/**
 * One {@code openai} provider instance: {@code POST {base_url}/chat/completions} over a single keep-alive
 * HTTP/1.1 connection pool. Methods are called on an event loop and never block.
 */
final class OpenAiEndpoint implements ProviderEndpoint {

    private static final String EVENT_STREAM = "text/event-stream";
    private static final JsonFactory JSON = new JsonFactory();

    private final Vertx vertx;
    private final OpenAiOptions options;
    private final String authorization;
    private final HttpClientAgent client;

    OpenAiEndpoint(Vertx vertx, OpenAiOptions options, String apiKey) {
        this.vertx = vertx;
        this.options = options;
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
        UpstreamCall<ChatCompletion> call = new UpstreamCall<>(vertx, chat);
        client.request(requestOptions("application/json"))
                .compose(call::adopt)
                .compose(request -> request.send(payload))
                .compose(response -> response.body().map(body -> {
                    call.exchangeEnded();
                    return completion(response.statusCode(), body, chat);
                }))
                .onSuccess(call::succeed)
                .onFailure(call::fail);
        return call.future();
    }

    @Override
    public Future<StreamOutcome> stream(ChatRequest chat, ChunkSink sink) {
        Buffer payload = UpstreamBody.of(chat, true);
        UpstreamCall<StreamOutcome> call = new UpstreamCall<>(vertx, chat);
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

    private RequestOptions requestOptions(String accept) {
        RequestOptions request = new RequestOptions()
                .setMethod(HttpMethod.POST)
                .setURI(options.chatCompletionsPath())
                .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .putHeader(HttpHeaders.ACCEPT, accept);
        if (authorization != null) {
            request.putHeader(HttpHeaders.AUTHORIZATION, authorization);
        }
        options.headers().forEach(request::putHeader);
        return request;
    }

    /**
     * Checks a whole completion in one streaming pass (it must be one JSON object with a {@code choices} array) and
     * reads its usage and first finish reason; the body itself is handed on as bytes, never parsed into objects.
     */
    static ChatCompletion completion(int status, Buffer body, ChatRequest chat) {
        if (status / 100 != 2) {
            throw UpstreamErrors.ofStatus(status, body);
        }
        byte[] bytes = body.getBytes();
        boolean choices = false;
        String finishReason = null;
        Usage usage = null;
        try (JsonParser parser = JSON.createParser(bytes)) {
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
            // rare: an upstream that reports no usage; estimate from the parsed answer
            usage = Usages.estimated(chat.body(), Usages.outputChars(new JsonObject(body).getJsonArray("choices")));
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
     * Relays the upstream's events to the sink, one {@link ChunkSink#write} per upstream read, pausing the
     * upstream while the client is slow.
     */
    private static void relay(HttpClientResponse response, ChatRequest chat, ChunkSink sink,
                              UpstreamCall<StreamOutcome> call) {
        int status = response.statusCode();
        if (status / 100 != 2) {
            failAfterBody(response, call, body -> UpstreamErrors.ofStatus(status, body));
            return;
        }
        String contentType = response.getHeader(HttpHeaders.CONTENT_TYPE);
        if (contentType != null && !contentType.regionMatches(true, 0, EVENT_STREAM, 0, EVENT_STREAM.length())) {
            failAfterBody(response, call, body -> new ProviderException(Kind.BAD_RESPONSE, status,
                    "upstream answered a stream request with " + contentType.split(";")[0].strip()));
            return;
        }
        SseRelay relay = new SseRelay();
        response.handler(read -> {
            if (call.settled()) {
                return;
            }
            forward(relay.accept(read), relay, chat, sink, call);
            if (!call.settled() && sink.writeQueueFull()) {
                response.pause();
                sink.drainHandler(drained -> response.resume());
            }
        });
        response.exceptionHandler(call::fail);
        response.endHandler(ended -> {
            call.exchangeEnded();
            if (!call.settled()) {
                forward(relay.end(), relay, chat, sink, call);
            }
            if (!call.settled()) {
                call.fail(new ProviderException(Kind.UPSTREAM_ERROR, status,
                        "upstream ended the stream without [DONE]"));
            }
        });
    }

    private static void forward(Buffer events, SseRelay relay, ChatRequest chat, ChunkSink sink,
                                UpstreamCall<StreamOutcome> call) {
        if (events.length() > 0) {
            sink.write(events);
            call.deliveredUsage(() -> relay.reportedUsage() != null
                    ? relay.reportedUsage() : Usages.estimated(chat.body(), relay.textChars()));
        }
        if (relay.failure() != null) {
            call.fail(relay.failure());
        } else if (relay.done()) {
            Usage usage = relay.reportedUsage() != null
                    ? relay.reportedUsage() : Usages.estimated(chat.body(), relay.textChars());
            call.succeed(new StreamOutcome(usage, relay.finishReason()));
        }
    }

    private static void failAfterBody(HttpClientResponse response, UpstreamCall<StreamOutcome> call,
                                      Function<Buffer, ProviderException> failure) {
        response.body().onComplete(body -> {
            call.exchangeEnded();
            call.fail(failure.apply(body.succeeded() ? body.result() : null));
        });
    }
}
