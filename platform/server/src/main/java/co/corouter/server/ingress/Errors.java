package co.corouter.server.ingress;

import co.corouter.plugin.api.ProviderException;
import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that turns failures into HTTP: {@code {"error":{"code","message","metadata"}}} with the status
 * equal to {@code code}. Messages are client-safe; unexpected exceptions become a plain 500 without a trace.
 */
final class Errors {

    private static final Logger log = LoggerFactory.getLogger(Errors.class);

    /** A failure as the client sees it. */
    record ApiError(int code, String message, JsonObject metadata, String kind) {
        JsonObject body() {
            JsonObject error = new JsonObject().put("code", code).put("message", message);
            if (metadata != null) {
                error.put("metadata", metadata);
            }
            return new JsonObject().put("error", error);
        }
    }

    private Errors() {
    }

    static ApiError classify(Throwable failure, String generationId) {
        if (failure instanceof ApiException api) {
            return new ApiError(api.code(), api.getMessage(), api.metadata(), kindOf(api.code()));
        }
        if (failure instanceof ProviderException provider) {
            JsonObject metadata = new JsonObject();
            if (provider.upstreamStatus() > 0) {
                metadata.put("provider_code", provider.upstreamStatus());
            }
            return switch (provider.kind()) {
                case TIMEOUT -> new ApiError(ErrorCodes.GATEWAY_TIMEOUT, "the upstream provider timed out", metadata,
                        "upstream_timeout");
                case UNAVAILABLE -> new ApiError(ErrorCodes.UNAVAILABLE, "the provider is unavailable", metadata,
                        "provider_unavailable");
                case BAD_REQUEST -> new ApiError(ErrorCodes.BAD_REQUEST, "the provider rejected the request: "
                        + provider.getMessage(), metadata, "upstream_bad_request");
                case BAD_RESPONSE -> new ApiError(ErrorCodes.BAD_GATEWAY,
                        "the upstream provider sent a malformed response", metadata, "upstream_malformed");
                case UPSTREAM_ERROR -> new ApiError(ErrorCodes.BAD_GATEWAY,
                        "the upstream provider failed: " + provider.getMessage(), metadata, "upstream_error");
            };
        }
        if (failure instanceof ReplyException reply) {
            if (reply.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
                int code = reply.failureCode();
                if (code >= 400 && code < 600) {
                    return new ApiError(code, reply.getMessage(), null, kindOf(code));
                }
            }
            log.error("[{}] internal call failed: {}", generationId, reply.failureType());
            return new ApiError(ErrorCodes.UNAVAILABLE, "the service is busy; try again", null, "busy");
        }
        if (failure instanceof DecodeException) {
            return new ApiError(ErrorCodes.BAD_REQUEST, "the request body is not valid JSON", null, "bad_json");
        }
        log.error("[{}] unexpected failure: {}", generationId, failure.getClass().getName());
        return new ApiError(ErrorCodes.INTERNAL, "internal error", null, "internal");
    }

    /** Writes the error if the response is still open and its headers unsent. */
    static void send(HttpServerResponse response, ApiError error) {
        if (response.ended() || response.closed()) {
            return;
        }
        if (response.headWritten()) {
            response.reset();
            return;
        }
        response.setStatusCode(error.code())
                .putHeader("Content-Type", "application/json")
                .end(error.body().toBuffer());
    }

    static void send(HttpServerResponse response, int code, String message) {
        send(response, new ApiError(code, message, null, kindOf(code)));
    }

    private static String kindOf(int code) {
        return switch (code) {
            case 400 -> "bad_request";
            case 401 -> "unauthorized";
            case 402 -> "insufficient_credit";
            case 403 -> "forbidden";
            case 404 -> "not_found";
            case 413 -> "payload_too_large";
            case 503 -> "unavailable";
            case 504 -> "upstream_timeout";
            default -> "error_" + code;
        };
    }
}
