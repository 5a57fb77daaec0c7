package co.corouter.server.ingress;

import co.corouter.server.pipeline.Failure;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

/**
 * The one place that writes failures to HTTP: {@code {"error":{"code","message","metadata"}}} with the status equal to
 * {@code code} (the mapping from exceptions is {@link Failure#of}).
 */
final class Errors {

    private Errors() {
    }

    /** Writes the error if the response is still open and its headers unsent (a started response is reset). */
    static void send(HttpServerResponse response, Failure error) {
        send(null, response, error);
    }

    /** The same, copying what it writes into the exchange's audit capture when there is one. */
    static void send(co.corouter.server.pipeline.Exchange exchange, HttpServerResponse response, Failure error) {
        if (response.ended() || response.closed()) {
            return;
        }
        if (response.headWritten()) {
            response.reset();
            return;
        }
        response.setStatusCode(error.code()).putHeader("Content-Type", "application/json");
        if (error.retryAfterSeconds() > 0) {
            response.putHeader("Retry-After", Long.toString(error.retryAfterSeconds()));
        }
        Delivered.end(exchange, response, error.body().toBuffer());
    }

    static void send(HttpServerResponse response, int code, String message) {
        send(response, Failure.of(code, message));
    }

    /**
     * Refuses a request the edge will not serve (framing, size, time) and closes its connection once the answer is
     * written: the rest of what the client sends on it is not trusted.
     */
    static void refuseAndClose(HttpServerRequest request, int code, String message) {
        HttpServerResponse response = request.response();
        if (response.ended() || response.closed() || response.headWritten()) {
            request.connection().close();
            return;
        }
        response.setStatusCode(code)
                .putHeader("Content-Type", "application/json")
                .putHeader("Connection", "close")
                .end(Failure.of(code, message).body().toBuffer())
                .onComplete(written -> request.connection().close());
    }
}
