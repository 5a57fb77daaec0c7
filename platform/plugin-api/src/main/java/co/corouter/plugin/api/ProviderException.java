package co.corouter.plugin.api;

/**
 * A provider call failed. The message is for operators and clients: never include prompt or response text,
 * API keys or upstream bodies in it.
 *
 * <p>When a stream fails or is cancelled after output reached the client, attach the usage so far with
 * {@link #withUsage} (estimated when the upstream reported none): the host bills what was delivered, so a client
 * cannot take an answer and hang up before the last chunk to avoid paying.
 * <pre>
 * GOOD: call.fail(error.withUsage(Usage.of(promptTokens, tokensWrittenSoFar)));
 * BAD:  call.fail(error);   // after 900 tokens were streamed: the host can only bill nothing
 * </pre>
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
    private final Usage usage;

    public ProviderException(Kind kind, String message) {
        this(kind, 0, message, null);
    }

    public ProviderException(Kind kind, int upstreamStatus, String message) {
        this(kind, upstreamStatus, message, null);
    }

    public ProviderException(Kind kind, int upstreamStatus, String message, Throwable cause) {
        this(kind, upstreamStatus, message, cause, null);
    }

    private ProviderException(Kind kind, int upstreamStatus, String message, Throwable cause, Usage usage) {
        super(message, cause, false, false);
        this.kind = kind;
        this.upstreamStatus = upstreamStatus;
        this.usage = usage;
    }

    /** The same failure, carrying the usage of what was delivered before it. */
    public ProviderException withUsage(Usage delivered) {
        return new ProviderException(kind, upstreamStatus, getMessage(), getCause(), delivered);
    }

    /** Usage of the output delivered before the failure, or {@code null} when nothing was delivered. */
    public Usage usage() {
        return usage;
    }

    public Kind kind() {
        return kind;
    }

    /** The upstream's HTTP status, or 0 when there was none. */
    public int upstreamStatus() {
        return upstreamStatus;
    }
}
