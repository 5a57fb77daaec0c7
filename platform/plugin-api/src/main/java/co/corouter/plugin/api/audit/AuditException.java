package co.corouter.plugin.api.audit;

/**
 * An audit destination failed. The message is shown to the customer on their audit page and to operators: never
 * include credentials, signed URLs or record content.
 *
 * @since 1.6.0
 */
public class AuditException extends RuntimeException {

    /** What went wrong. Hosts treat an unknown kind as UNAVAILABLE. */
    public enum Kind {
        /** The configuration cannot work (bucket missing, topic unknown, path outside the root). */
        CONFIG,
        /** The destination refused the credentials. */
        AUTH,
        /** The endpoint guard refused the address; retrying will not help. */
        REFUSED,
        /** The destination failed or could not be reached; worth retrying later. */
        UNAVAILABLE,
        /** The destination did not answer in time. */
        TIMEOUT
    }

    private final Kind kind;

    public AuditException(Kind kind, String message) {
        this(kind, message, null);
    }

    public AuditException(Kind kind, String message, Throwable cause) {
        super(message, cause, false, false);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    /** Whether a later retry of the same write may succeed. */
    public boolean retryable() {
        return kind == Kind.UNAVAILABLE || kind == Kind.TIMEOUT;
    }
}
