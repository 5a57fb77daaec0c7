package co.corouter.plugin.api;

/**
 * A provider call failed. The message is for operators and clients: never include prompt or response text,
 * API keys or upstream bodies in it.
 */
public class ProviderException extends RuntimeException {

    /** What went wrong; the host maps it to an HTTP status. */
    public enum Kind {
        /** The upstream did not answer within the budget (504). */
        TIMEOUT,
        /** The upstream answered with an error status, or the connection failed (502). */
        UPSTREAM_ERROR,
        /** The upstream answered, but not in the protocol's shape (502). */
        BAD_RESPONSE,
        /** The provider cannot take requests now (503). */
        UNAVAILABLE,
        /** The upstream rejected the request as invalid (400). */
        BAD_REQUEST
    }

    private final Kind kind;
    private final int upstreamStatus;

    public ProviderException(Kind kind, String message) {
        this(kind, 0, message, null);
    }

    public ProviderException(Kind kind, int upstreamStatus, String message) {
        this(kind, upstreamStatus, message, null);
    }

    public ProviderException(Kind kind, int upstreamStatus, String message, Throwable cause) {
        super(message, cause, false, false);
        this.kind = kind;
        this.upstreamStatus = upstreamStatus;
    }

    public Kind kind() {
        return kind;
    }

    /** The upstream's HTTP status, or 0 when there was none. */
    public int upstreamStatus() {
        return upstreamStatus;
    }
}
