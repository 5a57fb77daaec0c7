package co.corouter.plugin.api.payment;

/**
 * A checkout as the processor reports it now, for reconciliation.
 *
 * @param checkoutId       the processor's checkout id
 * @param orderId          the host's order id it was opened for, or {@code null} if it carries none
 * @param state            whether it is paid
 * @param rawStatus        the processor's own status word, for logs
 * @param processorOrderId the processor's order id once paid (Creem's {@code ord_...}), else {@code null}
 * @param paymentId        the id to {@link PaymentGateway#refund} once paid (Creem's {@code tran_...}), else {@code null}
 * @param productId        the product bought
 * @param units            the units bought
 * @param amount           the total before tax once paid, else {@code null}
 * @since 1.5.0
 */
public record CheckoutStatus(String checkoutId, String orderId, State state, String rawStatus,
                             String processorOrderId, String paymentId, String productId, long units, Money amount) {

    /** The states the host acts on. */
    public enum State {
        /** Opened, not paid yet. */
        PENDING,
        /** Paid: the host may grant if no webhook did yet, checking the order as for a webhook. */
        PAID,
        /** Anything else (expired, abandoned, a status this gateway does not know). */
        OTHER
    }
}
