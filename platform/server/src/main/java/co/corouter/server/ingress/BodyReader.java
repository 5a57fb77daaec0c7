package co.corouter.server.ingress;

import co.corouter.server.common.ErrorCodes;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a request body into memory under the edge's rules, whatever its Content-Type (a JSON endpoint parses JSON;
 * nothing is ever form-decoded). Refusals are answered here, in the error shape, and close the connection:
 * <ul>
 *   <li>a declared or actual size over the limit → 413 (a declared one before a byte is read);</li>
 *   <li>Content-Length together with Transfer-Encoding, or a Transfer-Encoding other than {@code chunked} → 400
 *       (RFC 9112 §6.1: such a message may be an attempt at request smuggling);</li>
 *   <li>the node's body budget full → 503.</li>
 * </ul>
 * A chunked body is accepted but its connection is closed after the response (RFC 9112 §6.1 again), so nothing
 * smuggled behind it is served. {@code Expect: 100-continue} is answered once the declared size is accepted. A client
 * that aborts its upload costs one debug line.
 */
final class BodyReader {

    private static final Logger log = LoggerFactory.getLogger(BodyReader.class);

    private BodyReader() {
    }

    /** The whole body; fails (after answering the client) when it is refused or the client goes away. */
    static Future<Buffer> read(HttpServerRequest request, EdgeGuard.Request watch, int limit, EdgeGuard guard) {
        Promise<Buffer> body = Promise.promise();
        String contentLength = request.getHeader(HttpHeaders.CONTENT_LENGTH);
        String transferEncoding = request.getHeader(HttpHeaders.TRANSFER_ENCODING);
        long declared = -1;
        if (transferEncoding != null) {
            watch.closeAfterResponse();
            if (contentLength != null || !"chunked".equalsIgnoreCase(transferEncoding.trim())) {
                return refuse(request, guard, "ambiguous_framing", ErrorCodes.BAD_REQUEST,
                        "a request must not carry Content-Length with Transfer-Encoding, and only chunked is accepted");
            }
        } else if (contentLength != null) {
            try {
                declared = Long.parseLong(contentLength.trim());
            } catch (NumberFormatException e) {
                return refuse(request, guard, "bad_content_length", ErrorCodes.BAD_REQUEST,
                        "Content-Length must be a number");
            }
            if (declared < 0) {
                return refuse(request, guard, "bad_content_length", ErrorCodes.BAD_REQUEST,
                        "Content-Length must be a number");
            }
            if (declared > limit) {
                return tooLarge(request, guard, limit);
            }
            if (!watch.reserve(declared)) {
                return busy(request, guard);
            }
        }
        if ("100-continue".equalsIgnoreCase(request.getHeader(HttpHeaders.EXPECT))) {
            request.response().writeContinue();
        }
        Buffer buffer = Buffer.buffer(declared > 0 ? (int) declared : 256);
        request.handler(chunk -> {
            if (body.future().isComplete()) {
                return;
            }
            if (buffer.length() + chunk.length() > limit) {
                body.tryFail("too large");
                tooLarge(request, guard, limit);
                return;
            }
            if (!watch.received(chunk.length())) {
                body.tryFail("busy");
                busy(request, guard);
                return;
            }
            buffer.appendBuffer(chunk);
        });
        request.endHandler(ended -> {
            watch.bodyDone();
            body.tryComplete(buffer);
        });
        request.exceptionHandler(e -> {
            log.debug("reading a request body failed: {}", e.toString());
            body.tryFail(e);
        });
        return body.future();
    }

    private static Future<Buffer> tooLarge(HttpServerRequest request, EdgeGuard guard, int limit) {
        return refuse(request, guard, "body_too_large", ErrorCodes.PAYLOAD_TOO_LARGE,
                "the request body exceeds " + limit + " bytes");
    }

    private static Future<Buffer> busy(HttpServerRequest request, EdgeGuard guard) {
        return refuse(request, guard, "body_budget", ErrorCodes.UNAVAILABLE,
                "corouter is holding too many request bodies; retry shortly");
    }

    private static Future<Buffer> refuse(HttpServerRequest request, EdgeGuard guard, String reason, int code,
            String message) {
        guard.refuse(reason);
        Errors.refuseAndClose(request, code, message);
        return Future.failedFuture(reason);
    }
}
