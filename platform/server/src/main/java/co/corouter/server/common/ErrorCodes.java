package co.corouter.server.common;

/**
 * Failure codes carried by event-bus replies ({@code ReplyException.failureCode()}) and by {@link ApiException}.
 * They are HTTP statuses on purpose: ingress maps them to the response one-to-one.
 */
public final class ErrorCodes {

    public static final int BAD_REQUEST = 400;
    public static final int UNAUTHORIZED = 401;
    public static final int INSUFFICIENT_CREDIT = 402;
    public static final int FORBIDDEN = 403;
    public static final int NOT_FOUND = 404;
    public static final int REQUEST_TIMEOUT = 408;
    public static final int CONFLICT = 409;
    public static final int PAYLOAD_TOO_LARGE = 413;
    public static final int URI_TOO_LONG = 414;
    public static final int HEADERS_TOO_LARGE = 431;
    public static final int RATE_LIMITED = 429;
    /** Not sent (the client is gone): the status a generation is recorded with when its client left mid-stream. */
    public static final int CLIENT_CLOSED = 499;
    public static final int INTERNAL = 500;
    public static final int BAD_GATEWAY = 502;
    public static final int UNAVAILABLE = 503;
    public static final int GATEWAY_TIMEOUT = 504;

    private ErrorCodes() {
    }
}
