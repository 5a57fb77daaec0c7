/**
 * The payment extension point (since 1.5.0): {@link co.corouter.plugin.api.payment.PaymentProcessor} builds a
 * {@link co.corouter.plugin.api.payment.PaymentGateway} that opens hosted checkouts for top-up orders, verifies the
 * processor's webhooks on their raw bytes, reconciles and refunds. Money is {@link co.corouter.plugin.api.payment.Money}:
 * whole minor units of a currency, never a floating-point number.
 */
package co.corouter.plugin.api.payment;
