package co.corouter.testkit.creem;

/**
 * A checkout {@link FakeCreem#pay paid} on the fake.
 *
 * @param checkoutId    {@code ch_...}
 * @param orderId       Creem's order, {@code ord_...}
 * @param transactionId the payment to refund, {@code tran_...}
 * @param customerId    {@code cust_...}
 * @param eventId       the {@code checkout.completed} event's id
 * @param redirectUrl   the success URL with Creem's signed query, where the customer's browser goes next
 */
public record Payment(String checkoutId, String orderId, String transactionId, String customerId, String eventId,
                      String redirectUrl) {

    /** As {@code POST /fake/checkouts/{id}/pay} answers it. */
    public io.vertx.core.json.JsonObject toJson() {
        return new io.vertx.core.json.JsonObject().put("checkout_id", checkoutId).put("order_id", orderId)
                .put("transaction_id", transactionId).put("customer_id", customerId).put("event_id", eventId)
                .put("redirect_url", redirectUrl);
    }
}
