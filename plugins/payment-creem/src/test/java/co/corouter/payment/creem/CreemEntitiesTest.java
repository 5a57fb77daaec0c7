package co.corouter.payment.creem;

import co.corouter.plugin.api.payment.CheckoutRequest;
import co.corouter.plugin.api.payment.CheckoutStatus;
import co.corouter.plugin.api.payment.Money;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CreemEntitiesTest {

    @Test
    void theCheckoutBodySendsOurOrderIdAsRequestIdAndOnlyTheFieldsGiven() {
        CheckoutRequest request = new CheckoutRequest("topup_42", "prod_one", 10, new Money(1000, "USD"),
                URI.create("https://router.example.com/billing/return/creem"), "alice@example.com",
                Map.of("topup_id", "topup_42"));

        assertThat(CreemEntities.checkoutBody(request)).isEqualTo(new JsonObject()
                .put("product_id", "prod_one").put("request_id", "topup_42").put("units", 10L)
                .put("success_url", "https://router.example.com/billing/return/creem")
                .put("customer", new JsonObject().put("email", "alice@example.com"))
                .put("metadata", new JsonObject().put("topup_id", "topup_42")));
        assertThat(CreemEntities.checkoutBody(new CheckoutRequest("o", "p", 1, new Money(100, "USD"), null, null,
                null)).fieldNames()).containsExactlyInAnyOrder("product_id", "request_id", "units");
    }

    @Test
    void aRetrievedCheckoutIsPaidWhenCompletedOrItsOrderIsPaid() {
        JsonObject pending = new JsonObject().put("id", "ch_1").put("status", "pending").put("product", "prod_1")
                .put("request_id", "topup_1").put("units", 2);
        assertThat(CreemEntities.checkoutStatus(pending)).isEqualTo(new CheckoutStatus("ch_1", "topup_1",
                CheckoutStatus.State.PENDING, "pending", null, null, "prod_1", 2, null));

        JsonObject paid = pending.copy().put("status", "processing").put("product", new JsonObject().put("id", "prod_1"))
                .put("order", new JsonObject().put("id", "ord_1").put("status", "paid").put("amount", 200)
                        .put("currency", "EUR").put("transaction", "tran_1"));
        assertThat(CreemEntities.checkoutStatus(paid)).isEqualTo(new CheckoutStatus("ch_1", "topup_1",
                CheckoutStatus.State.PAID, "processing", "ord_1", "tran_1", "prod_1", 2, new Money(200, "EUR")));

        assertThat(CreemEntities.checkoutStatus(pending.copy().put("status", "expired")).state())
                .isEqualTo(CheckoutStatus.State.OTHER);
        assertThatThrownBy(() -> CreemEntities.checkoutStatus(new JsonObject().put("status", "pending")))
                .hasMessage("id is missing");
    }
}
