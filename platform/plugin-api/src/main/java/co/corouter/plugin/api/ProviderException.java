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

    /**
     * What went wrong; the host maps it to an HTTP status and decides from it whether another endpoint may serve the
     * request instead (only before anything reached the client): it fails over on TIMEOUT, UPSTREAM_ERROR with a 5xx
     * or no status (a connection failure), RATE_LIMITED, OVERLOADED, UNAVAILABLE and AUTH; never on BAD_REQUEST or
     * CANCELLED. Added constants are additive: hosts treat an unknown kind as UPSTREAM_ERROR.
     */
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
        BAD_REQUEST,
        /**
         * The upstream limited our rate (HTTP 429); {@link #retryAfterMillis()} when it said how long to wait (429).
         *
         * @since 1.3.0
         */
        RATE_LIMITED,
        /**
         * The upstream is overloaded (Anthropic's 529 {@code overloaded_error}, an upstream 503) (503).
         *
         * @since 1.3.0
         */
        OVERLOADED,
        /**
         * The upstream refused our credentials (401/403): the operator's key is wrong, not the client's (502).
         *
         * @since 1.3.0
         */
        AUTH,
        /**
         * The host cancelled the call ({@link ChatRequest#cancelled()}); never shown to a client as such.
         *
         * @since 1.3.0
         */
        CANCELLED
    }

    private final Kind kind;
    private final int upstreamStatus;
    private final Usage usage;
    private final long retryAfterMillis;

    public ProviderException(Kind kind, String message) {
        this(kind, 0, message, null);
    }

    public ProviderException(Kind kind, int upstreamStatus, String message) {
        this(kind, upstreamStatus, message, null);
    }

    public ProviderException(Kind kind, int upstreamStatus, String message, Throwable cause) {
        this(kind, upstreamStatus, message, cause, null);
    }

    private ProviderException(Kind kind, int upstreamStatus, String message, Throwable cause, Usage usage,
                              long retryAfterMillis) {
        super(message, cause, false, false);
        this.kind = kind;
        this.upstreamStatus = upstreamStatus;
        this.usage = usage;
        this.retryAfterMillis = retryAfterMillis;
    }

    private ProviderException(Kind kind, int upstreamStatus, String message, Throwable cause, Usage usage) {
        this(kind, upstreamStatus, message, cause, usage, -1);
    }

    /**
     * A 429: the upstream limited our rate and, when it said so, how long to wait ({@code -1} when it did not).
     *
     * @since 1.3.0
     */
    public static ProviderException rateLimited(int upstreamStatus, String message, long retryAfterMillis) {
        return new ProviderException(Kind.RATE_LIMITED, upstreamStatus, message, null, null,
                retryAfterMillis < 0 ? -1 : retryAfterMillis);
    }

    /** The same failure, carrying the usage of what was delivered before it. */
    public ProviderException withUsage(Usage delivered) {
        return new ProviderException(kind, upstreamStatus, getMessage(), getCause(), delivered, retryAfterMillis);
    }

    /**
     * How long the upstream asked us to wait before trying again (its {@code Retry-After}), or {@code -1}.
     *
     * @since 1.3.0
     */
    public long retryAfterMillis() {
        return retryAfterMillis;
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
