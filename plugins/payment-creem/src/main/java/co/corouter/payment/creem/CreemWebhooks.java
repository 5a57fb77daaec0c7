package co.corouter.payment.creem;

import co.corouter.payment.creem.CreemEntities.MalformedEntity;
import co.corouter.plugin.api.payment.Money;
import co.corouter.plugin.api.payment.PaymentEvent;
import co.corouter.plugin.api.payment.PaymentEvent.Type;
import co.corouter.plugin.api.payment.WebhookRefusal;
import co.corouter.plugin.api.payment.WebhookRefusal.Reason;
import co.corouter.plugin.api.payment.WebhookResult;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.Set;

import static co.corouter.payment.creem.CreemEntities.idOf;
import static co.corouter.payment.creem.CreemEntities.money;
import static co.corouter.payment.creem.CreemEntities.objectOrNull;
import static co.corouter.payment.creem.CreemEntities.optionalString;
import static co.corouter.payment.creem.CreemEntities.requiredString;
import static co.corouter.payment.creem.CreemEntities.units;

/**
 * Verifies a Creem webhook on its raw bytes, then parses the envelope {@code {id, eventType, created_at, object}}
 * (spec §2.3–2.7) into a {@link PaymentEvent}.
 */
final class CreemWebhooks {

    static final String SIGNATURE_HEADER = "creem-signature";
    /** Documented event types corouter has no use for (spec §2.4): acknowledged as {@link Type#IGNORED}. */
    private static final Set<String> IGNORED_TYPES = Set.of("subscription.active", "subscription.paid",
            "subscription.canceled", "subscription.scheduled_cancel", "subscription.past_due", "subscription.expired",
            "subscription.trialing", "subscription.paused", "subscription.update", "subscription.unpaid");

    private final CreemSignatures signatures;

    CreemWebhooks(CreemSignatures signatures) {
        this.signatures = signatures;
    }

    WebhookResult verify(Buffer rawBody, MultiMap headers) {
        byte[] bytes = rawBody == null ? new byte[0] : rawBody.getBytes();
        String signature = headers == null ? null : headers.get(SIGNATURE_HEADER);
        if (signature == null) {
            return new WebhookRefusal(Reason.BAD_SIGNATURE, "no " + SIGNATURE_HEADER + " header");
        }
        if (!signatures.webhookSignatureMatches(bytes, signature)) {
            return new WebhookRefusal(Reason.BAD_SIGNATURE, SIGNATURE_HEADER + " does not sign the body");
        }
        JsonObject envelope;
        try {
            envelope = new JsonObject(Buffer.buffer(bytes));
        } catch (DecodeException | ClassCastException notAnObject) {
            return new WebhookRefusal(Reason.MALFORMED, "the body is not a JSON object");
        }
        try {
            return parse(envelope);
        } catch (MalformedEntity | IllegalArgumentException e) {
            return new WebhookRefusal(Reason.MALFORMED, e.getMessage());
        }
    }

    static WebhookResult parse(JsonObject envelope) {
        String eventId = requiredString(envelope, "id");
        String eventType = requiredString(envelope, "eventType");
        if (!(envelope.getValue("created_at") instanceof Number createdMillis)) {
            throw new MalformedEntity("created_at is not epoch milliseconds");
        }
        Instant createdAt = Instant.ofEpochMilli(createdMillis.longValue());
        JsonObject object = objectOrNull(envelope, "object");
        if (object == null) {
            throw new MalformedEntity("object is missing");
        }
        return switch (eventType) {
            case "checkout.completed" -> checkoutCompleted(eventId, eventType, createdAt, object);
            case "refund.created" -> adjustment(eventId, Type.REFUND, eventType, createdAt, object,
                    "refund_amount", "refund_currency");
            case "dispute.created" -> adjustment(eventId, Type.DISPUTE, eventType, createdAt, object,
                    "amount", "currency");
            default -> IGNORED_TYPES.contains(eventType)
                    ? ignored(eventId, eventType, createdAt, optionalString(object, "request_id"))
                    : new WebhookRefusal(Reason.UNKNOWN_TYPE, "event type '" + printable(eventType) + "'");
        };
    }

    private static WebhookResult checkoutCompleted(String eventId, String eventType, Instant createdAt,
                                                   JsonObject checkout) {
        String orderId = optionalString(checkout, "request_id");
        JsonObject order = objectOrNull(checkout, "order");
        if (order == null) {
            throw new MalformedEntity("object.order is missing");
        }
        if (!"paid".equals(optionalString(order, "status"))) {
            return ignored(eventId, eventType, createdAt, orderId);
        }
        String productId = idOf(checkout, "product");
        if (productId == null) {
            productId = idOf(order, "product");
        }
        Money amountPaid = order.containsKey("amount_paid") ? money(order, "amount_paid", "currency") : null;
        return new PaymentEvent(eventId, Type.PAYMENT, eventType, orderId, requiredString(checkout, "id"),
                requiredString(order, "id"), idOf(order, "transaction"), productId, units(checkout),
                money(order, "amount", "currency"), amountPaid, createdAt);
    }

    /** {@code refund.created} and {@code dispute.created}: the same shape, mapped back through checkout or order. */
    private static WebhookResult adjustment(String eventId, Type type, String eventType, Instant createdAt,
                                            JsonObject object, String amountField, String currencyField) {
        JsonObject checkout = objectOrNull(object, "checkout");
        JsonObject transaction = objectOrNull(object, "transaction");
        String processorOrderId = idOf(object, "order");
        if (processorOrderId == null && transaction != null) {
            processorOrderId = idOf(transaction, "order");
        }
        String productId = idOf(checkout, "product");
        if (productId == null) {
            productId = idOf(objectOrNull(object, "order"), "product");
        }
        Money amountPaid = transaction != null && transaction.containsKey("amount_paid")
                ? money(transaction, "amount_paid", "currency") : null;
        return new PaymentEvent(eventId, type, eventType, optionalString(checkout, "request_id"),
                optionalString(checkout, "id"), processorOrderId, idOf(object, "transaction"), productId,
                checkout == null ? 1 : units(checkout), money(object, amountField, currencyField), amountPaid,
                createdAt);
    }

    private static PaymentEvent ignored(String eventId, String eventType, Instant createdAt, String orderId) {
        return new PaymentEvent(eventId, Type.IGNORED, eventType, orderId, null, null, null, null, 1, null, null,
                createdAt);
    }

    /** An event name for a log line: at most 64 identifier characters. */
    private static String printable(String text) {
        String cleaned = text.replaceAll("[^A-Za-z0-9_.-]", "?");
        return cleaned.length() > 64 ? cleaned.substring(0, 64) + "..." : cleaned;
    }
}
