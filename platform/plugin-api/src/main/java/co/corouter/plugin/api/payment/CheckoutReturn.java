package co.corouter.plugin.api.payment;

/**
 * What the success URL's query says. Its fields are the browser's word: use them only to pick the checkout to
 * {@link PaymentGateway#lookupCheckout reconcile}.
 *
 * @param signatureValid   whether the processor's signature over the query checks out
 * @param orderId          the host's order id in the query, or {@code null}
 * @param checkoutId       the processor's checkout id in the query, or {@code null}
 * @param processorOrderId the processor's order id in the query, or {@code null}
 * @since 1.5.0
 */
public record CheckoutReturn(boolean signatureValid, String orderId, String checkoutId, String processorOrderId) {
}
