package co.corouter.payment.creem;

import co.corouter.plugin.api.payment.Money;
import co.corouter.plugin.api.payment.PaymentEvent;
import co.corouter.plugin.api.payment.WebhookRefusal;
import co.corouter.plugin.api.payment.WebhookResult;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class CreemWebhooksTest {

    private final CreemSignatures signatures = new CreemSignatures("whsec_test_corouter", "creem_test_KEY123");
    private final CreemWebhooks webhooks = new CreemWebhooks(signatures);

    /** The one-time {@code checkout.completed} of specs/creem.md §2.5, trimmed of fields corouter does not read. */
    static JsonObject checkoutCompleted() {
        return new JsonObject("""
                {"id":"evt_5WHHcZPv7VS0YUsberIuOz","eventType":"checkout.completed","created_at":1728734325927,
                 "object":{"id":"ch_4l0N34kxo16AhRKUHFUuXr","object":"checkout","request_id":"topup_42",
                  "order":{"object":"order","id":"ord_4aDwWXjMLpes4Kj4XqNnUA","customer":"cust_1OcIK1GEuVvXZwD19tjq2z",
                   "product":"prod_d1AY2Sadk9YAvLI0pj97f","amount":1000,"currency":"USD","sub_total":1000,
                   "tax_amount":210,"amount_due":1210,"amount_paid":1210,"status":"paid","type":"onetime",
                   "transaction":"tran_5yMaWzAl3jxuGJMCOrYWwk","mode":"test"},
                  "product":{"id":"prod_d1AY2Sadk9YAvLI0pj97f","object":"product","price":1000,"currency":"USD"},
                  "units":1,"customer":{"id":"cust_1OcIK1GEuVvXZwD19tjq2z","email":"alice@example.com"},
                  "status":"completed","metadata":{"user_id":"u_17","topup_id":"topup_42"},"mode":"test"}}""");
    }

    private WebhookResult deliver(String body) {
        return webhooks.verify(Buffer.buffer(body), MultiMap.caseInsensitiveMultiMap()
                .add("Creem-Signature", signatures.webhookSignature(Buffer.buffer(body).getBytes())));
    }

    @Test
    void aSignedCheckoutCompletedBecomesAPaymentWithOurOrderAndCreemsIds() {
        WebhookResult result = deliver(checkoutCompleted().encode());

        assertThat(result).isEqualTo(new PaymentEvent("evt_5WHHcZPv7VS0YUsberIuOz", PaymentEvent.Type.PAYMENT,
                "checkout.completed", "topup_42", "ch_4l0N34kxo16AhRKUHFUuXr", "ord_4aDwWXjMLpes4Kj4XqNnUA",
                "tran_5yMaWzAl3jxuGJMCOrYWwk", "prod_d1AY2Sadk9YAvLI0pj97f", 1, new Money(1000, "USD"),
                new Money(1210, "USD"), Instant.ofEpochMilli(1728734325927L)));
    }

    @Test
    void aBadSignatureIsRefusedBeforeTheBodyIsParsed() {
        MultiMap forged = MultiMap.caseInsensitiveMultiMap().add("creem-signature", "0".repeat(64));
        assertThat(webhooks.verify(Buffer.buffer("{not json"), forged)).isInstanceOfSatisfying(WebhookRefusal.class,
                refusal -> assertThat(refusal.reason()).isEqualTo(WebhookRefusal.Reason.BAD_SIGNATURE));
        assertThat(webhooks.verify(Buffer.buffer(checkoutCompleted().encode()), MultiMap.caseInsensitiveMultiMap()))
                .isInstanceOfSatisfying(WebhookRefusal.class, refusal -> assertThat(refusal.reason())
                        .isEqualTo(WebhookRefusal.Reason.BAD_SIGNATURE));
    }

    @Test
    void aSignedBodyThatIsNotCreemsShapeIsMalformed() {
        JsonObject noAmount = checkoutCompleted();
        noAmount.getJsonObject("object").getJsonObject("order").remove("amount");
        for (String body : new String[]{"{not json", "[1,2]", "{\"id\":\"evt_1\"}", noAmount.encode()}) {
            assertThat(deliver(body)).as(body).isInstanceOfSatisfying(WebhookRefusal.class,
                    refusal -> assertThat(refusal.reason()).isEqualTo(WebhookRefusal.Reason.MALFORMED));
        }
    }

    @Test
    void subscriptionEventsAndUnpaidCheckoutsAreIgnoredAndUndocumentedTypesRefusedAsUnknown() {
        JsonObject unpaid = checkoutCompleted();
        unpaid.getJsonObject("object").getJsonObject("order").put("status", "pending");
        JsonObject subscription = new JsonObject().put("id", "evt_2").put("eventType", "subscription.paid")
                .put("created_at", 1L).put("object", new JsonObject().put("object", "subscription"));
        JsonObject unknown = subscription.copy().put("eventType", "payment.succeeded");

        assertThat(deliver(unpaid.encode())).isInstanceOfSatisfying(PaymentEvent.class,
                event -> assertThat(event.type()).isEqualTo(PaymentEvent.Type.IGNORED));
        assertThat(deliver(subscription.encode())).isInstanceOfSatisfying(PaymentEvent.class,
                event -> assertThat(event.type()).isEqualTo(PaymentEvent.Type.IGNORED));
        assertThat(deliver(unknown.encode())).isInstanceOfSatisfying(WebhookRefusal.class, refusal -> {
            assertThat(refusal.reason()).isEqualTo(WebhookRefusal.Reason.UNKNOWN_TYPE);
            assertThat(refusal.detail()).contains("payment.succeeded");
        });
    }

    @Test
    void aRefundMapsBackThroughItsCheckoutAndCarriesWhatWasPaidForAProportionalClawBack() {
        JsonObject refund = new JsonObject("""
                {"id":"evt_r","eventType":"refund.created","created_at":1728734400000,
                 "object":{"id":"ref_1","object":"refund","status":"succeeded","refund_amount":605,
                  "refund_currency":"EUR","transaction":{"id":"tran_1","amount_paid":1210,"currency":"EUR",
                  "status":"refunded","order":"ord_1"},
                  "checkout":{"id":"ch_1","request_id":"topup_42","product":"prod_1","units":2},
                  "order":{"id":"ord_1","product":"prod_1"},"created_at":1728734400000,"mode":"test"}}""");

        assertThat(deliver(refund.encode())).isEqualTo(new PaymentEvent("evt_r", PaymentEvent.Type.REFUND,
                "refund.created", "topup_42", "ch_1", "ord_1", "tran_1", "prod_1", 2, new Money(605, "EUR"),
                new Money(1210, "EUR"), Instant.ofEpochMilli(1728734400000L)));
    }

    @Test
    void aDisputeWithoutRequestIdMapsThroughCreemsOrderId() {
        JsonObject dispute = new JsonObject("""
                {"id":"evt_d","eventType":"dispute.created","created_at":5,
                 "object":{"id":"disp_1","object":"dispute","amount":1210,"currency":"USD",
                  "transaction":{"id":"tran_1","status":"chargeback","order":"ord_1"},
                  "checkout":{"id":"ch_1","product":"prod_1","units":1,"status":"completed"},
                  "order":{"id":"ord_1"},"created_at":5}}""");

        assertThat(deliver(dispute.encode())).isInstanceOfSatisfying(PaymentEvent.class, event -> {
            assertThat(event.type()).isEqualTo(PaymentEvent.Type.DISPUTE);
            assertThat(event.orderId()).isNull();
            assertThat(event.processorOrderId()).isEqualTo("ord_1");
            assertThat(event.paymentId()).isEqualTo("tran_1");
            assertThat(event.amount()).isEqualTo(new Money(1210, "USD"));
        });
    }
}
