package co.corouter.plugin.api.payment;

import co.corouter.plugin.api.ProviderContext.SecretResolver;
import io.vertx.core.Vertx;

/**
 * What the host gives a payment gateway. Built by the host; plugins never implement it.
 *
 * @param vertx        the host's Vert.x instance; create HTTP clients from it
 * @param instanceName the operator's name for this instance (e.g. {@code "creem"}), for logs and the webhook path
 *                     {@code /webhooks/payments/{instanceName}}
 * @param secrets      looks up secrets (API keys, webhook secrets) by name; never log what it returns
 * @since 1.5.0
 */
public record PaymentContext(Vertx vertx, String instanceName, SecretResolver secrets) {
}
