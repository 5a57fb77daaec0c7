package co.corouter.plugin.api.payment;

import java.time.Instant;
import java.util.Objects;

/**
 * A verified webhook event. Before acting, the host checks it against its own order: the order must exist, and
 * product, units and {@link #amount()} must be what the order says; credits come from the order, never from here.
 *
 * @param eventId          the processor's event id, unique per event: the host's idempotency key
 * @param type             what happened
 * @param rawType          the processor's event name (e.g. {@code checkout.completed}), for logs
 * @param orderId          the host's order id the processor echoed, or {@code null} when the event carries none
 *                         (then map it by {@link #processorOrderId()} or {@link #checkoutId()})
 * @param checkoutId       the processor's checkout id, or {@code null}
 * @param processorOrderId the processor's order id (Creem's {@code ord_...}), or {@code null}
 * @param paymentId        the processor's payment id to refund (Creem's {@code tran_...}), or {@code null}
 * @param productId        the product bought, or {@code null}
 * @param units            the units bought (1 when the event does not say)
 * @param amount           {@link Type#PAYMENT}: the total before tax; {@link Type#REFUND}/{@link Type#DISPUTE}: the
 *                         amount refunded or disputed (tax included); {@code null} for {@link Type#IGNORED}
 * @param amountPaid       what the customer paid, tax included, or {@code null} when the event does not say; a partial
 *                         refund claws back {@code credits * amount / amountPaid}
 * @param createdAt        when the processor created the event
 * @since 1.5.0
 */
public record PaymentEvent(String eventId, Type type, String rawType, String orderId, String checkoutId,
                           String processorOrderId, String paymentId, String productId, long units, Money amount,
                           Money amountPaid, Instant createdAt) implements WebhookResult {

    public PaymentEvent {
        Objects.requireNonNull(eventId, "eventId");
        Objects.requireNonNull(type, "type");
    }

    /** What happened. */
    public enum Type {
        /** A checkout was paid: grant the order's credit (Creem's {@code checkout.completed} with a paid order). */
        PAYMENT,
        /** A payment was refunded, maybe in part: claw back (Creem's {@code refund.created}). */
        REFUND,
        /** A payment was disputed (charge-back): claw back or freeze (Creem's {@code dispute.created}). */
        DISPUTE,
        /** A documented event corouter does not act on (subscriptions, an unpaid checkout): acknowledge it. */
        IGNORED
    }
}
