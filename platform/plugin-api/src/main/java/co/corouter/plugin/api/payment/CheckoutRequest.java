package co.corouter.plugin.api.payment;

import java.net.URI;
import java.util.Map;
import java.util.Objects;

/**
 * A checkout for one of the host's orders.
 *
 * @param orderId       the host's order id; sent to the processor as its tracking id (Creem's {@code request_id}) and
 *                      reported back in every {@link PaymentEvent#orderId()}
 * @param productId     one of {@link PaymentGateway#offers()}' product ids
 * @param units         how many units (1 unless the offer allows more)
 * @param amount        the order's total before tax: unit price times units; the gateway refuses a mismatch
 * @param successUrl    where the processor sends the customer after paying, or {@code null} for the product's default
 * @param customerEmail pre-fills the checkout page, or {@code null}
 * @param metadata      small string pairs echoed in the processor's events (no secrets, no personal data)
 * @since 1.5.0
 */
public record CheckoutRequest(String orderId, String productId, long units, Money amount, URI successUrl,
                              String customerEmail, Map<String, String> metadata) {

    public CheckoutRequest {
        Objects.requireNonNull(orderId, "orderId");
        Objects.requireNonNull(productId, "productId");
        Objects.requireNonNull(amount, "amount");
        metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
    }
}
