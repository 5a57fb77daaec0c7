package co.corouter.audit.s3;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;

import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A hostile S3 endpoint on 127.0.0.1 for what S3Mock will not do (refuse credentials, redirect, throttle, stall):
 * answers every request with {@code answer} and records what reached it, connections included.
 */
final class FakeS3 {

    /** One request as received. */
    record Seen(String method, String uri, MultiMap headers) {

        String host() {
            return headers.get("Host");
        }
    }

    private final Queue<Seen> requests = new ConcurrentLinkedQueue<>();
    private final AtomicInteger connections = new AtomicInteger();
    private HttpServer server;

    static Future<FakeS3> start(Vertx vertx, Consumer<HttpServerRequest> answer) {
        FakeS3 fake = new FakeS3();
        return vertx.createHttpServer()
                .connectionHandler(connection -> fake.connections.incrementAndGet())
                .requestHandler(request -> {
                    fake.requests.add(new Seen(request.method().name(), request.uri(),
                            MultiMap.caseInsensitiveMultiMap().addAll(request.headers())));
                    answer.accept(request);
                })
                .listen(0, "127.0.0.1")
                .map(server -> {
                    fake.server = server;
                    return fake;
                });
    }

    /** Reads the body, then answers as S3 does when it stored (PUT, 200) or deleted (DELETE, 204) the object. */
    static Consumer<HttpServerRequest> accepting() {
        return request -> request.body().onSuccess(body -> request.response()
                .setStatusCode(request.method().name().equals("DELETE") ? 204 : 200).end());
    }

    /** Reads the body, then answers {@code status} with an S3 error document. */
    static Consumer<HttpServerRequest> error(int status, String code) {
        return request -> request.body().onSuccess(body -> request.response().setStatusCode(status)
                .putHeader("Content-Type", "application/xml")
                .end("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code + "</Code>"
                        + "<Message>refused by the fake</Message><RequestId>FAKE</RequestId></Error>"));
    }

    int port() {
        return server.actualPort();
    }

    List<Seen> requests() {
        return List.copyOf(requests);
    }

    int connections() {
        return connections.get();
    }
}
