package co.corouter.plugin.api.payment;

/**
 * A refund the processor accepted. The credit is clawed back when its {@link PaymentEvent.Type#REFUND} webhook
 * arrives, not here: refunds made in the processor's dashboard arrive only that way.
 *
 * @param refundId  the processor's refund id
 * @param rawStatus the processor's status word (e.g. {@code succeeded}, {@code pending})
 * @since 1.5.0
 */
public record Refund(String refundId, String rawStatus) {
}
