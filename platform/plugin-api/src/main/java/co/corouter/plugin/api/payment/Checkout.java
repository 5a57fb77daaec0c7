package co.corouter.plugin.api.payment;

/**
 * A checkout the processor opened. Store {@link #checkoutId()} on the order before sending the customer away.
 *
 * @param checkoutId  the processor's id (Creem's {@code ch_...})
 * @param checkoutUrl the hosted page to send the customer to; opaque
 * @since 1.5.0
 */
public record Checkout(String checkoutId, String checkoutUrl) {
}
