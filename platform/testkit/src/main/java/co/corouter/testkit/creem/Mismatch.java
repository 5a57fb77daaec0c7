package co.corouter.testkit.creem;

/**
 * What a {@code checkout.completed} event should say differently from the checkout that was paid, to test that the
 * receiver checks events against its own order. {@code null} fields are reported truthfully.
 *
 * @param requestId  another {@code object.request_id} (an order the receiver does not know)
 * @param productId  another product id, in {@code object.product.id} and {@code object.order.product}
 * @param amount     another {@code object.order.amount} and {@code sub_total}, in minor units
 * @param currency   another {@code object.order.currency}
 * @param units      another {@code object.units}
 */
public record Mismatch(String requestId, String productId, Long amount, String currency, Long units) {

    public static final Mismatch NONE = new Mismatch(null, null, null, null, null);

    public static Mismatch requestId(String requestId) {
        return new Mismatch(requestId, null, null, null, null);
    }

    public static Mismatch productId(String productId) {
        return new Mismatch(null, productId, null, null, null);
    }

    public static Mismatch amount(long amount) {
        return new Mismatch(null, null, amount, null, null);
    }

    public static Mismatch currency(String currency) {
        return new Mismatch(null, null, null, currency, null);
    }

    public static Mismatch units(long units) {
        return new Mismatch(null, null, null, null, units);
    }
}
