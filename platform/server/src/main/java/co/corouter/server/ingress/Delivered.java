package co.corouter.server.ingress;

import co.corouter.server.pipeline.Exchange;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;

/**
 * The last write of a pipeline's response. For an account that opted in to audit, the bytes are copied into the
 * exchange's capture first ({@link Exchange#delivered()}); for every other account this is {@code response.end}.
 */
final class Delivered {

    private Delivered() {
    }

    static void end(Exchange exchange, HttpServerResponse response, Buffer last) {
        tee(exchange, last);
        response.end(last);
    }

    static void tee(Exchange exchange, Buffer written) {
        Buffer capture = exchange == null ? null : exchange.delivered();
        if (capture != null) {
            capture.appendBuffer(written);
        }
    }
}
