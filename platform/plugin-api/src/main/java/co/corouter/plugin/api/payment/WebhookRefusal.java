package co.corouter.plugin.api.payment;

/**
 * A webhook delivery the host must not act on.
 *
 * @param reason why
 * @param detail for the operator's log: never the body, a secret or a signature
 * @since 1.5.0
 */
public record WebhookRefusal(Reason reason, String detail) implements WebhookResult {

    /** Why a delivery is refused; the host answers 401, 400 and 200 respectively. */
    public enum Reason {
        /** The signature is missing, malformed or wrong; nothing was parsed. */
        BAD_SIGNATURE,
        /** Signed correctly but not the shape the processor documents (not JSON, a required field missing). */
        MALFORMED,
        /** Signed and well formed, but of an event type this gateway has never heard of: log it, acknowledge it. */
        UNKNOWN_TYPE
    }
}
