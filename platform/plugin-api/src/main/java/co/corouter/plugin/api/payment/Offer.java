package co.corouter.plugin.api.payment;

/**
 * One product the processor sells, as the operator configured it.
 *
 * @param key          the operator's name for it in the plugin config (e.g. {@code "usd_10"})
 * @param productId    the processor's product id (e.g. Creem's {@code prod_...})
 * @param unitPrice    the price of one unit, before tax
 * @param unitsAllowed whether a checkout may buy several units of it (a "$1 of credit" product bought N times);
 *                     when false, a checkout buys exactly one
 * @since 1.5.0
 */
public record Offer(String key, String productId, Money unitPrice, boolean unitsAllowed) {
}
