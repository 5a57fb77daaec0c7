package co.corouter.plugin.api.payment;

/**
 * A call to the payment processor failed. The message is for operators: never include API keys, webhook secrets,
 * customer e-mails or bodies the processor echoed.
 *
 * @since 1.5.0
 */
public class PaymentException extends RuntimeException {

    /** What went wrong. Added constants are additive: hosts treat an unknown kind as UNAVAILABLE. */
    public enum Kind {
        /** The request was refused as invalid, by us before sending it or by the processor (400). */
        BAD_REQUEST,
        /** The processor refused our credentials (401/403): the operator's key is wrong or of the other mode. */
        AUTH,
        /** The processor does not know the checkout, product or payment (404). */
        NOT_FOUND,
        /** The processor limited our rate (429). */
        RATE_LIMITED,
        /** The processor failed (5xx) or could not be reached; worth retrying later. */
        UNAVAILABLE,
        /** The processor did not answer in time. */
        TIMEOUT,
        /** The processor answered 2xx, but not in the shape it documents. */
        BAD_RESPONSE
    }

    private final Kind kind;
    private final int processorStatus;

    public PaymentException(Kind kind, int processorStatus, String message) {
        this(kind, processorStatus, message, null);
    }

    public PaymentException(Kind kind, int processorStatus, String message, Throwable cause) {
        super(message, cause, false, false);
        this.kind = kind;
        this.processorStatus = processorStatus;
    }

    public Kind kind() {
        return kind;
    }

    /** The processor's HTTP status, or 0 when there was none. */
    public int processorStatus() {
        return processorStatus;
    }
}
