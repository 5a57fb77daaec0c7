package co.corouter.server.pipeline;

import co.corouter.plugin.api.ProviderException;
import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A failure as the client sees it: the HTTP status ({@code code}), a client-safe message, optional metadata and a
 * short {@code kind} recorded on the usage row. The one mapping from exceptions to statuses: ingress renders it,
 * metering records it. Messages never hold prompt or response content, keys or upstream bodies.
 */
public record Failure(int code, String message, JsonObject metadata, String kind, long retryAfterSeconds) {

    public Failure(int code, String message, JsonObject metadata, String kind) {
        this(code, message, metadata, kind, -1);
    }

    /** The same failure, its metadata naming the provider that failed (never content). */
    public Failure naming(String provider) {
        if (provider == null) {
            return this;
        }
        JsonObject named = metadata == null ? new JsonObject() : metadata.copy();
        return new Failure(code, message, named.put("provider_name", provider), kind, retryAfterSeconds);
    }

    private static final Logger log = LoggerFactory.getLogger(Failure.class);

    /** The {@code {"error":{code,message,metadata}}} body. */
    public JsonObject body() {
        JsonObject error = new JsonObject().put("code", code).put("message", message);
        if (metadata != null) {
            error.put("metadata", metadata);
        }
        return new JsonObject().put("error", error);
    }

    public static Failure of(int code, String message) {
        return new Failure(code, message, null, kindOf(code));
    }

    /** Classifies {@code failure}; an unexpected exception is logged once (its class only) and becomes a plain 500. */
    public static Failure of(Throwable failure, String requestId) {
        if (failure instanceof ApiException api) {
            return new Failure(api.code(), api.getMessage(), api.metadata(), kindOf(api.code()));
        }
        if (failure instanceof ProviderException provider) {
            return ofProvider(provider);
        }
        if (failure instanceof io.vertx.ext.web.handler.HttpException http && http.getStatusCode() >= 400
                && http.getStatusCode() < 500) {
            return new Failure(http.getStatusCode(), http.getStatusCode() == ErrorCodes.BAD_REQUEST
                    ? "the request's path or query string is not validly percent-encoded" : "the request was refused",
                    null, kindOf(http.getStatusCode()));
        }
        if (failure instanceof ReplyException reply) {
            if (reply.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
                int code = reply.failureCode();
                if (code >= 400 && code < 600) {
                    return new Failure(code, reply.getMessage(), null, kindOf(code));
                }
            }
            log.error("[{}] internal call failed: {}", requestId, reply.failureType());
            return new Failure(ErrorCodes.UNAVAILABLE, "the service is busy; try again", null, "busy");
        }
        log.error("[{}] unexpected failure: {}", requestId, failure.getClass().getName());
        return new Failure(ErrorCodes.INTERNAL, "internal error", null, "internal");
    }

    private static Failure ofProvider(ProviderException provider) {
        JsonObject metadata = new JsonObject();
        if (provider.upstreamStatus() > 0) {
            metadata.put("provider_code", provider.upstreamStatus());
        }
        return switch (provider.kind()) {
            case TIMEOUT -> new Failure(ErrorCodes.GATEWAY_TIMEOUT, "the upstream provider timed out", metadata,
                    "upstream_timeout");
            case UNAVAILABLE -> new Failure(ErrorCodes.UNAVAILABLE, "the provider is unavailable: "
                    + provider.getMessage(), metadata, "provider_unavailable");
            case BAD_REQUEST -> new Failure(ErrorCodes.BAD_REQUEST, "the provider rejected the request: "
                    + provider.getMessage(), metadata, "upstream_bad_request");
            case BAD_RESPONSE -> new Failure(ErrorCodes.BAD_GATEWAY, "the upstream provider sent a malformed response",
                    metadata, "upstream_malformed");
            case UPSTREAM_ERROR -> new Failure(ErrorCodes.BAD_GATEWAY,
                    "the upstream provider failed: " + provider.getMessage(), metadata, "upstream_error");
            case RATE_LIMITED -> new Failure(ErrorCodes.RATE_LIMITED, "the upstream provider is rate limited: "
                    + provider.getMessage(), metadata, "rate_limited",
                    provider.retryAfterMillis() < 0 ? 1 : Math.max(1, (provider.retryAfterMillis() + 999) / 1000));
            case OVERLOADED -> new Failure(ErrorCodes.UNAVAILABLE, "the upstream provider is overloaded", metadata,
                    "provider_overloaded", 1);
            case AUTH -> new Failure(ErrorCodes.BAD_GATEWAY, "the upstream provider refused corouter's credentials",
                    metadata, "upstream_auth");
            case CANCELLED -> new Failure(ErrorCodes.CLIENT_CLOSED, "the call was cancelled", metadata,
                    "client_closed");
        };
    }

    public static String kindOf(int code) {
        return switch (code) {
            case 400 -> "bad_request";
            case 401 -> "unauthorized";
            case 402 -> "insufficient_credit";
            case 403 -> "forbidden";
            case 404 -> "not_found";
            case 405 -> "method_not_allowed";
            case 408 -> "request_timeout";
            case 409 -> "conflict";
            case 413 -> "payload_too_large";
            case 414 -> "uri_too_long";
            case 429 -> "rate_limited";
            case 431 -> "headers_too_large";
            case 499 -> "client_closed";
            case 503 -> "unavailable";
            case 504 -> "upstream_timeout";
            default -> "error_" + code;
        };
    }
}
