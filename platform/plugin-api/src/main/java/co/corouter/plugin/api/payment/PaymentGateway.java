package co.corouter.plugin.api.payment;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;

import java.util.List;

/**
 * One configured payment processor account. The host creates an order first (its id, product, units and amount are
 * the truth), opens a checkout for it here, sends the customer to {@link Checkout#checkoutUrl()}, and credits the
 * account only when a verified webhook ({@link #verifyWebhook}) reports the payment and matches the order.
 *
 * <p><b>Threading.</b> Every method is called on a Vert.x event loop and must return immediately: do network I/O
 * with Vert.x clients and complete the future later. Never block.
 * <pre>
 * GOOD: return client.request(opts).compose(req -&gt; req.send(body)).compose(resp -&gt; resp.body()).map(...);
 * BAD:  return Future.succeededFuture(httpClient.send(req, ofString()));   // blocks the event loop
 * </pre>
 *
 * <p><b>Errors.</b> Calls to the processor fail their future with {@link PaymentException}, its kind chosen
 * truthfully and its message free of API keys, webhook secrets, customer e-mails and card data. Calls have timeouts.
 *
 * <p><b>Webhooks.</b> The signature is checked on the raw bytes exactly as received, in constant time, before anything
 * is parsed; a forged body never reaches a JSON parser.
 * <pre>
 * GOOD: verify(hmac(secret, rawBody), header) then new JsonObject(rawBody)
 * BAD:  new JsonObject(rawBody).encode() then verify   // re-serialised bytes differ; parsing first trusts the forger
 * </pre>
 *
 * @since 1.5.0
 */
public interface PaymentGateway {

    /** The products a customer can buy, as configured, for the console's top-up form. */
    List<Offer> offers();

    /**
     * Opens a hosted checkout for one order. The request must name one of {@link #offers()} and an amount equal to
     * its unit price times the units; otherwise the future fails with {@link PaymentException.Kind#BAD_REQUEST}
     * and nothing is sent. Call it at most once per order and keep the checkout id: processors may not de-duplicate.
     */
    Future<Checkout> createCheckout(CheckoutRequest request);

    /**
     * Verifies and parses one webhook delivery. Completes with a {@link PaymentEvent} or a {@link WebhookRefusal};
     * it fails only on a bug. The host answers a refusal for a bad signature with 401, a malformed body with 400, an
     * unknown event type with 200 (processors retry anything else), and de-duplicates events by
     * {@link PaymentEvent#eventId()}: delivery is at least once and unordered.
     *
     * @param rawBody the request body exactly as received
     * @param headers the request headers (case-insensitive)
     */
    Future<WebhookResult> verifyWebhook(Buffer rawBody, MultiMap headers);

    /**
     * Checks the query of the success URL the processor sent the customer back to. Never grant credit from it: the
     * browser is not trusted, a valid return is at most a reason to {@link #lookupCheckout reconcile}.
     *
     * @param rawQuery the URL's query exactly as received (order matters for some processors), without {@code ?}
     */
    Future<CheckoutReturn> verifyReturn(String rawQuery);

    /** Retrieves a checkout's current state, to reconcile an order whose webhook is late. */
    Future<CheckoutStatus> lookupCheckout(String checkoutId);

    /** Refunds a payment in full; {@code paymentId} is {@link PaymentEvent#paymentId()} of its completion. */
    Future<Refund> refund(String paymentId);

    /** Releases the gateway's clients. Called once, when the host stops. */
    default Future<Void> close() {
        return Future.succeededFuture();
    }
}
