package co.corouter.audit.s3;

import co.corouter.plugin.api.audit.EndpointGuard;
import co.corouter.plugin.api.audit.EndpointGuard.Endpoint;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import software.amazon.awssdk.http.SdkHttpFullResponse;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.SdkHttpResponse;
import software.amazon.awssdk.http.async.AsyncExecuteRequest;
import software.amazon.awssdk.http.async.SdkAsyncHttpClient;
import software.amazon.awssdk.http.async.SdkAsyncHttpResponseHandler;
import software.amazon.awssdk.http.async.SdkHttpContentPublisher;

import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The AWS SDK's HTTP transport over the host's Vert.x: every request's host is first passed through the
 * {@link EndpointGuard}, and the connection goes to the address the guard pinned while the Host header and TLS SNI
 * (and certificate check) keep the name, so a second DNS answer cannot send the request elsewhere. Redirects are never
 * followed: a 3xx reaches the SDK as the answer. There is no second Netty and no SDK thread: everything of one
 * exchange runs on one Vert.x context.
 *
 * <p>HTTP/1.1 with a keep-alive pool; Vert.x keys pooled connections by pinned address and name, so a changed DNS
 * answer gets new connections.
 */
final class GuardedSdkHttpClient implements SdkAsyncHttpClient {

    /** Headers the SDK sets that this transport owns (none of them is signed). */
    private static final Set<String> TRANSPORT_HEADERS = Set.of("expect", "connection", "transfer-encoding");

    private final EndpointGuard guard;
    private final HttpClientAgent client;
    private final Context context;
    private final int idleTimeoutMs;

    /**
     * @param forceSni      send the request's host name as TLS SNI (false when the endpoint is an IP literal)
     * @param idleTimeoutMs the longest silence while waiting for the server
     */
    GuardedSdkHttpClient(Vertx vertx, EndpointGuard guard, boolean forceSni, int connectTimeoutMs,
                         int idleTimeoutMs) {
        this.guard = guard;
        this.idleTimeoutMs = idleTimeoutMs;
        this.context = vertx.getOrCreateContext();
        this.client = vertx.httpClientBuilder()
                .with(new HttpClientOptions()
                        .setProtocolVersion(HttpVersion.HTTP_1_1)
                        .setKeepAlive(true)
                        .setConnectTimeout(connectTimeoutMs)
                        .setForceSni(forceSni)
                        .setVerifyHost(true)
                        .setDecompressionSupported(false))
                .with(new PoolOptions().setHttp1MaxSize(4))
                .build();
    }

    @Override
    public CompletableFuture<Void> execute(AsyncExecuteRequest request) {
        Exchange exchange = new Exchange(request);
        context.runOnContext(v -> exchange.start());
        return exchange.done;
    }

    @Override
    public String clientName() {
        return "corouter-vertx";
    }

    @Override
    public void close() {
        client.close();
    }

    /** Closes the connection pool. */
    Future<Void> closeAsync() {
        return client.close();
    }

    /** One request and its response; every method but the constructor runs on {@link #context}. */
    private final class Exchange {

        private final SdkHttpRequest sdkRequest;
        private final AsyncExecuteRequest execute;
        private final SdkAsyncHttpResponseHandler handler;
        private final CompletableFuture<Void> done = new CompletableFuture<>();
        private HttpClientRequest request;
        private boolean headersDelivered;
        private Subscriber<? super ByteBuffer> subscriber;
        private Throwable streamFailure;

        Exchange(AsyncExecuteRequest execute) {
            this.execute = execute;
            this.sdkRequest = execute.request();
            this.handler = execute.responseHandler();
        }

        void start() {
            Future<Endpoint> check;
            try {
                check = guard.check(sdkRequest.protocol(), sdkRequest.host(), sdkRequest.port());
            } catch (RuntimeException e) {
                check = Future.failedFuture(e);
            }
            check.onComplete(pinned -> context.runOnContext(v -> {
                if (pinned.failed()) {
                    fail(pinned.cause());
                } else {
                    connect(pinned.result());
                }
            }));
        }

        private void connect(Endpoint endpoint) {
            RequestOptions options = new RequestOptions()
                    .setServer(SocketAddress.inetSocketAddress(endpoint.port(), endpoint.address().getHostAddress()))
                    .setHost(sdkRequest.host())
                    .setPort(sdkRequest.port())
                    .setSsl("https".equalsIgnoreCase(sdkRequest.protocol()))
                    .setMethod(HttpMethod.valueOf(sdkRequest.method().name()))
                    .setURI(pathAndQuery())
                    .setFollowRedirects(false)
                    .setIdleTimeout(idleTimeoutMs);
            sdkRequest.forEachHeader((name, values) -> {
                if (!TRANSPORT_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
                    options.putHeader(name, values.size() == 1 ? values.get(0) : String.join(",", values));
                }
            });
            client.request(options).onComplete(created -> {
                if (created.failed()) {
                    fail(created.cause());
                    return;
                }
                request = created.result();
                request.response().onComplete(answer -> {
                    if (answer.failed()) {
                        fail(answer.cause());
                    } else {
                        respond(answer.result());
                    }
                });
                sendBody();
            });
        }

        private String pathAndQuery() {
            String path = sdkRequest.encodedPath();
            String query = sdkRequest.encodedQueryParameters().map(q -> "?" + q).orElse("");
            return (path == null || path.isEmpty() ? "/" : path) + query;
        }

        /** S3 refuses {@code Transfer-Encoding: chunked}: a body's length is always sent when it is known. */
        private void sendBody() {
            SdkHttpContentPublisher body = execute.requestContentPublisher();
            if (body == null) {
                request.end();
                return;
            }
            if (!request.headers().contains(HttpHeaders.CONTENT_LENGTH)) {
                Optional<Long> length = body.contentLength();
                if (length.isPresent()) {
                    request.putHeader(HttpHeaders.CONTENT_LENGTH, String.valueOf(length.get()));
                } else {
                    request.setChunked(true);
                }
            }
            body.subscribe(new BodySubscriber(request));
        }

        private void respond(HttpClientResponse response) {
            response.pause();
            // paused: chunks and the end wait in Vert.x's queue until the subscriber asks; a failure may not wait
            response.handler(chunk -> subscriber.onNext(ByteBuffer.wrap(chunk.getBytes())));
            response.endHandler(end -> {
                subscriber.onComplete();
                done.complete(null);
            });
            response.exceptionHandler(this::streamFailed);
            SdkHttpFullResponse.Builder head = SdkHttpResponse.builder()
                    .statusCode(response.statusCode())
                    .statusText(response.statusMessage());
            for (String name : response.headers().names()) {
                head.putHeader(name, response.headers().getAll(name));
            }
            headersDelivered = true;
            handler.onHeaders(head.build());
            handler.onStream(s -> context.runOnContext(v -> subscribe(response, s)));
        }

        private void subscribe(HttpClientResponse response, Subscriber<? super ByteBuffer> s) {
            if (subscriber != null) {
                s.onSubscribe(new Subscription() {
                    @Override
                    public void request(long n) {
                    }

                    @Override
                    public void cancel() {
                    }
                });
                s.onError(new IllegalStateException("the response body has a subscriber already (rule 1.9)"));
                return;
            }
            subscriber = s;
            s.onSubscribe(new Subscription() {
                @Override
                public void request(long n) {
                    context.runOnContext(v -> {
                        if (n <= 0) {
                            request.reset();
                            streamFailed(new IllegalArgumentException("demand must be positive (rule 3.9)"));
                        } else {
                            response.fetch(n);
                        }
                    });
                }

                @Override
                public void cancel() {
                    context.runOnContext(v -> {
                        request.reset();
                        done.complete(null);
                    });
                }
            });
            if (streamFailure != null) {
                s.onError(streamFailure);
            }
        }

        private void streamFailed(Throwable failure) {
            if (streamFailure != null) {
                return;
            }
            streamFailure = failure;
            if (subscriber != null) {
                subscriber.onError(failure);
            }
            done.completeExceptionally(failure);
        }

        private void fail(Throwable failure) {
            if (done.isDone()) {
                return;
            }
            if (request != null) {
                request.reset(0, failure);
            }
            if (!headersDelivered) {
                handler.onError(failure);
            }
            done.completeExceptionally(failure);
        }

        /** Writes the SDK's body to the request, one buffer at a time, honouring the write queue. */
        private final class BodySubscriber implements Subscriber<ByteBuffer> {

            private final HttpClientRequest target;
            private Subscription subscription;

            BodySubscriber(HttpClientRequest target) {
                this.target = target;
            }

            @Override
            public void onSubscribe(Subscription s) {
                subscription = s;
                s.request(1);
            }

            @Override
            public void onNext(ByteBuffer chunk) {
                byte[] bytes = new byte[chunk.remaining()];
                chunk.get(bytes);
                context.runOnContext(v -> {
                    target.write(Buffer.buffer(bytes));
                    if (target.writeQueueFull()) {
                        target.drainHandler(drained -> subscription.request(1));
                    } else {
                        subscription.request(1);
                    }
                });
            }

            @Override
            public void onError(Throwable failure) {
                context.runOnContext(v -> fail(failure));
            }

            @Override
            public void onComplete() {
                context.runOnContext(v -> target.end());
            }
        }
    }
}
