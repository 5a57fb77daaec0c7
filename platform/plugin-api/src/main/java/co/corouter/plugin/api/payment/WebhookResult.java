package co.corouter.plugin.api.payment;

/**
 * What one webhook delivery turned out to be: a verified {@link PaymentEvent} or a {@link WebhookRefusal}.
 *
 * @since 1.5.0
 */
public sealed interface WebhookResult permits PaymentEvent, WebhookRefusal {
}
