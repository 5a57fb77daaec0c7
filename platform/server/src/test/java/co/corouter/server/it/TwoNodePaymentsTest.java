package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import co.corouter.testkit.creem.Payment;
import co.corouter.testkit.creem.WebhookDelivery;
import co.corouter.testkit.creem.WebhookPlan;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two nodes on one database, both taking Creem's webhooks (a load balancer sends each delivery anywhere): the same
 * payment event arriving at both, many times at once, credits once, and a refund arriving at the other node than the
 * payment claws back once.
 */
class TwoNodePaymentsTest {

    static final long USD = 1_000_000_000L;

    @RegisterExtension
    static final CorouterNode A = CorouterNode.builder().withFakeCreem().build();
    @RegisterExtension
    static final CorouterNode B = CorouterNode.builder().withFakeCreem().build();

    final HttpClient http = HttpClient.newHttpClient();

    List<Integer> replay(WebhookDelivery delivery, int times) throws Exception {
        List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
        for (int i = 0; i < times; i++) {
            CorouterNode node = i % 2 == 0 ? A : B;
            sent.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port()
                            + "/webhooks/payments/creem")).header("creem-signature", delivery.signature())
                    .POST(HttpRequest.BodyPublishers.ofString(delivery.body())).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        List<Integer> statuses = new ArrayList<>();
        for (CompletableFuture<HttpResponse<String>> response : sent) {
            statuses.add(response.get().statusCode());
        }
        return statuses;
    }

    long ofKind(long accountId, String kind) {
        return A.sql("SELECT coalesce(sum(amount), 0)::bigint FROM ledger_transactions WHERE account_id = $1 "
                + "AND kind = $2", accountId, kind).iterator().next().getLong(0);
    }

    @Test
    void oneEventAtBothNodesFortyTimesAtOnceCreditsOnceAndItsRefundClawsBackOnce() throws Exception {
        CorouterNode.Account account = A.newAccount("0");
        JsonObject opened = CorouterNode.await(A.node().payments().topUp(account.id(), null, "usd_10", null));
        String checkoutId = opened.getJsonObject("order").getString("checkout_id");
        A.creem().holdWebhooks();
        Payment payment = CorouterNode.await(A.creem().pay(checkoutId));
        CorouterNode.await(A.creem().releaseHeld(false));
        WebhookDelivery paid = A.creem().deliveries().get(0);

        assertThat(replay(paid, 40)).containsOnly(200);
        assertThat(ofKind(account.id(), "topup")).isEqualTo(10 * USD);
        assertThat(A.sql("SELECT count(*) FROM ledger_transactions WHERE account_id = $1 AND kind = 'topup'",
                account.id()).iterator().next().getLong(0)).isEqualTo(1);

        HttpResponse<String> refunded = A.send(HttpRequest.newBuilder(URI.create(A.creem().baseUrl() + "/v1/refunds"))
                .header("x-api-key", CorouterNode.CREEM_API_KEY).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(new JsonObject()
                        .put("transaction_id", payment.transactionId()).encode())));
        assertThat(refunded.statusCode()).isEqualTo(200);
        A.awaitCondition("the refund's webhook is acknowledged", () -> A.creem().deliveries().stream()
                .anyMatch(d -> d.eventType().equals("refund.created") && d.acknowledged()));
        WebhookDelivery refund = A.creem().deliveries().stream().filter(d -> d.eventType().equals("refund.created"))
                .findFirst().orElseThrow();
        assertThat(replay(refund, 40)).containsOnly(200);

        assertThat(ofKind(account.id(), "refund")).isEqualTo(10 * USD);
        assertThat(A.balance(account.id())).isZero();
        assertThat(A.ledgerBalance(account.id())).isZero();
        A.assertLedgerBalances();
    }
}
