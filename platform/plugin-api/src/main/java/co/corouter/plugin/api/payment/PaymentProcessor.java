package co.corouter.plugin.api.payment;

import io.vertx.core.json.JsonObject;
import org.pf4j.ExtensionPoint;

/**
 * Extension point for payment processors (Creem, Stripe, Paddle, ...): a factory that turns one validated
 * configuration into a {@link PaymentGateway} through which the host sells credit top-ups.
 *
 * <p>The host finds implementations with PF4J ({@code @Extension}) and calls {@link #create} once per payment instance
 * named in {@code conf/corouter.yaml} whose {@code type} equals {@link #type()}.
 *
 * <p>Threading: {@link #create} is called on a worker thread at start-up; it may do blocking set-up but must not
 * start network calls. Invalid configuration (a missing secret included) fails with an
 * {@link IllegalArgumentException} whose message names the field; never return {@code null}.
 *
 * <p>A plugin describes its configuration with a JSON schema at {@code META-INF/corouter/config.schema.json} in its
 * jar, which the console renders as a form.
 *
 * @since 1.5.0
 */
public interface PaymentProcessor extends ExtensionPoint {

    /** The {@code type} this factory serves, e.g. {@code "creem"}. */
    String type();

    /**
     * Builds one gateway from its configuration.
     *
     * @param context host services for this instance (Vert.x, the instance name, secrets)
     * @param config  the instance's {@code config} section, as written by the operator
     * @throws IllegalArgumentException when the configuration is invalid (message names the field)
     */
    PaymentGateway create(PaymentContext context, JsonObject config);
}
