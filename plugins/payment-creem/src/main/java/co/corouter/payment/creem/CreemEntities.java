package co.corouter.payment.creem;

import co.corouter.plugin.api.payment.Checkout;
import co.corouter.plugin.api.payment.CheckoutRequest;
import co.corouter.plugin.api.payment.CheckoutStatus;
import co.corouter.plugin.api.payment.Money;
import co.corouter.plugin.api.payment.Refund;
import io.vertx.core.json.JsonObject;

/**
 * Creem's request bodies and the entities in its answers (spec §1.3, §1.4, §1.8). Parsing is lenient about fields
 * corouter does not read and strict about the ones it does: a missing one is a {@link MalformedEntity}.
 */
final class CreemEntities {

    private CreemEntities() {
    }

    /** The {@code POST /v1/checkouts} body: our order id as {@code request_id}. */
    static JsonObject checkoutBody(CheckoutRequest request) {
        JsonObject body = new JsonObject()
                .put("product_id", request.productId())
                .put("request_id", request.orderId())
                .put("units", request.units());
        if (request.successUrl() != null) {
            body.put("success_url", request.successUrl().toString());
        }
        if (request.customerEmail() != null) {
            body.put("customer", new JsonObject().put("email", request.customerEmail()));
        }
        if (!request.metadata().isEmpty()) {
            JsonObject metadata = new JsonObject();
            request.metadata().forEach(metadata::put);
            body.put("metadata", metadata);
        }
        return body;
    }

    /** The {@code POST /v1/refunds} body (field name unconfirmed, spec §1.8). */
    static JsonObject refundBody(String transactionId) {
        return new JsonObject().put("transaction_id", transactionId);
    }

    /** The answer to {@code POST /v1/checkouts}: only {@code id} and {@code checkout_url} are relied on. */
    static Checkout checkout(JsonObject entity) {
        return new Checkout(requiredString(entity, "id"), requiredString(entity, "checkout_url"));
    }

    /** A {@code CheckoutEntity} from {@code GET /v1/checkouts}; paid when completed or its order is paid. */
    static CheckoutStatus checkoutStatus(JsonObject entity) {
        String status = optionalString(entity, "status");
        JsonObject order = objectOrNull(entity, "order");
        boolean paid = "completed".equals(status) || order != null && "paid".equals(optionalString(order, "status"));
        CheckoutStatus.State state = paid ? CheckoutStatus.State.PAID
                : "pending".equals(status) ? CheckoutStatus.State.PENDING : CheckoutStatus.State.OTHER;
        String productId = idOf(entity, "product");
        if (productId == null && order != null) {
            productId = idOf(order, "product");
        }
        return new CheckoutStatus(requiredString(entity, "id"), optionalString(entity, "request_id"), state,
                status, order == null ? null : optionalString(order, "id"),
                order == null ? null : idOf(order, "transaction"), productId, units(entity),
                order == null || !order.containsKey("amount") ? null : money(order, "amount", "currency"));
    }

    /** The answer to {@code POST /v1/refunds}. */
    static Refund refund(JsonObject entity) {
        return new Refund(requiredString(entity, "id"), optionalString(entity, "status"));
    }

    static long units(JsonObject entity) {
        Object units = entity.getValue("units");
        if (units == null) {
            return 1;
        }
        if (!(units instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue()) || n.longValue() < 1) {
            throw new MalformedEntity("units is not a positive whole number");
        }
        return n.longValue();
    }

    static Money money(JsonObject entity, String amountField, String currencyField) {
        Object amount = entity.getValue(amountField);
        if (!(amount instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
            throw new MalformedEntity(amountField + " is not a whole number of minor units");
        }
        String currency = requiredString(entity, currencyField);
        if (!currency.matches("[A-Za-z]{3}")) {
            throw new MalformedEntity(currencyField + " is not an ISO 4217 code");
        }
        return Money.of(n.longValue(), currency);
    }

    /** A field that is an id string or an expanded entity with an {@code id} (Creem does both), else null. */
    static String idOf(JsonObject entity, String field) {
        Object value = entity == null ? null : entity.getValue(field);
        if (value instanceof String id) {
            return id;
        }
        if (value instanceof JsonObject expanded) {
            return optionalString(expanded, "id");
        }
        return null;
    }

    static JsonObject objectOrNull(JsonObject entity, String field) {
        return entity != null && entity.getValue(field) instanceof JsonObject object ? object : null;
    }

    static String requiredString(JsonObject entity, String field) {
        String value = optionalString(entity, field);
        if (value == null || value.isEmpty()) {
            throw new MalformedEntity(field + " is missing");
        }
        return value;
    }

    static String optionalString(JsonObject entity, String field) {
        Object value = entity == null ? null : entity.getValue(field);
        return value instanceof String text ? text : null;
    }

    /** Creem sent something other than what it documents. The message names a field, never a value. */
    static final class MalformedEntity extends RuntimeException {
        MalformedEntity(String message) {
            super(message, null, false, false);
        }
    }
}
