package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import co.corouter.testkit.creem.FakeCreem;
import co.corouter.testkit.creem.Mismatch;
import co.corouter.testkit.creem.Payment;
import co.corouter.testkit.creem.WebhookDelivery;
import co.corouter.testkit.creem.WebhookPlan;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * Top-ups through the fake Creem, end to end over HTTP: an order is opened through the payments context, the fake's
 * customer pays, and its signed webhooks (duplicated, concurrent, reordered, mis-signed, mismatched, dropped) reach
 * {@code /webhooks/payments/creem}. Every test asserts the ledger afterwards: each transaction balanced, each wallet
 * equal to its entries, and balance = grants + top-ups − charges − claw-backs.
 */
class PaymentsTest {

    static final long USD = 1_000_000_000L;
    static final String PRICEY = "test/pricey";

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder().withFakeCreem()
            .set("billing", "reconcile_after_seconds", 0)
            .model(new JsonObject().put("id", PRICEY).put("name", "Pricey mock").put("provider", "mock")
                    .put("upstream_model", "mock-small").put("context_length", 8192).put("max_output_tokens", 64)
                    .put("pricing", new JsonObject().put("prompt_per_million", "10000.00")
                            .put("completion_per_million", "100000.00")))
            .build();

    static final ListAppender<ILoggingEvent> LOG = new ListAppender<>();
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void captureLogs() {
        LOG.start();
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(LOG);
    }

    @AfterAll
    static void releaseLogs() {
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
                .detachAppender(LOG);
    }

    @BeforeEach
    void resetFake() {
        NODE.creem().reset();
        LOG.list.clear();
    }

    FakeCreem creem() {
        return NODE.creem();
    }

    /** An order of {@code offer} for the account, through the same call the console's top-up route makes. */
    JsonObject open(long accountId, String offer, Long units) {
        return CorouterNode.await(NODE.node().payments().topUp(accountId, "buyer@example.com", offer, units));
    }

    static String checkoutId(JsonObject opened) {
        return opened.getJsonObject("order").getString("checkout_id");
    }

    static String orderId(JsonObject opened) {
        return opened.getJsonObject("order").getString("id");
    }

    String state(String orderId) {
        return NODE.sql("SELECT state FROM payment_orders WHERE id = $1", orderId).iterator().next().getString(0);
    }

    long topUps(long accountId) {
        return NODE.sql("SELECT count(*) FROM ledger_transactions WHERE account_id = $1 AND kind = 'topup'",
                accountId).iterator().next().getLong(0);
    }

    long ofKind(long accountId, String kind) {
        return NODE.sql("SELECT coalesce(sum(amount), 0)::bigint FROM ledger_transactions WHERE account_id = $1 "
                + "AND kind = $2", accountId, kind).iterator().next().getLong(0);
    }

    /** balance = grants + top-ups − charges − claw-backs, the wallet equals its entries, every transaction balanced. */
    void assertMoney(long accountId) {
        NODE.assertLedgerBalances();
        long expected = ofKind(accountId, "grant") + ofKind(accountId, "topup") - ofKind(accountId, "charge")
                - ofKind(accountId, "refund");
        assertThat(NODE.balance(accountId)).isEqualTo(expected).isGreaterThanOrEqualTo(0);
        assertThat(NODE.ledgerBalance(accountId)).isEqualTo(expected);
    }

    List<String> warnings() {
        return LOG.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.WARN))
                .map(ILoggingEvent::getFormattedMessage).toList();
    }

    HttpResponse<String> deliver(String body, String signature) {
        return NODE.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + NODE.port()
                        + "/webhooks/payments/creem"))
                .header("Content-Type", "application/json").header("creem-signature", signature)
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    @Test
    void theSameEventDeliveredOneHundredTimesTwentyAtOnceCreditsOnce() throws Exception {
        CorouterNode.Account account = NODE.newAccount("0");
        JsonObject opened = open(account.id(), "usd_10", null);
        assertThat(opened.getString("checkout_url")).startsWith(creem().baseUrl() + "/checkout/");
        assertThat(state(orderId(opened))).isEqualTo("pending");

        creem().nextWebhook(WebhookPlan.normal().copies(20).concurrently());
        Payment payment = CorouterNode.await(creem().pay(checkoutId(opened)));
        List<WebhookDelivery> first = creem().deliveries();
        assertThat(first).hasSize(20).allMatch(WebhookDelivery::acknowledged);

        // 80 more copies of the very same signed bytes, 20 at a time
        WebhookDelivery original = first.get(0);
        List<Integer> statuses = new ArrayList<>();
        for (int round = 0; round < 4; round++) {
            List<CompletableFuture<HttpResponse<String>>> batch = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                batch.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + NODE.port()
                                + "/webhooks/payments/creem")).header("creem-signature", original.signature())
                        .POST(HttpRequest.BodyPublishers.ofString(original.body())).build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
            for (CompletableFuture<HttpResponse<String>> response : batch) {
                statuses.add(response.get().statusCode());
            }
        }
        assertThat(statuses).hasSize(80).containsOnly(200);

        assertThat(topUps(account.id())).isEqualTo(1);
        assertThat(ofKind(account.id(), "topup")).isEqualTo(10 * USD);
        assertThat(NODE.balance(account.id())).isEqualTo(10 * USD);
        assertThat(state(orderId(opened))).isEqualTo("paid");
        Row event = NODE.sql("SELECT count(*), min(outcome) FROM payment_events WHERE event_id = $1",
                payment.eventId()).iterator().next();
        assertThat(event.getLong(0)).isEqualTo(1);
        assertThat(event.getString(1)).isEqualTo("credited");
        assertMoney(account.id());
    }

    @Test
    void unitsBuyTheirMultipleAndTheConsoleSeesTheOrderPaid() {
        CorouterNode.Account account = NODE.newAccount("0");
        JsonObject opened = open(account.id(), "usd_any", 7L);
        assertThat(opened.getJsonObject("order").getString("credit_usd")).isEqualTo("7.000000000");
        CorouterNode.await(creem().pay(checkoutId(opened)));
        assertThat(NODE.balance(account.id())).isEqualTo(7 * USD);
        JsonObject receipt = CorouterNode.await(NODE.node().payments().order(account.id(), orderId(opened)));
        assertThat(receipt.getString("state")).isEqualTo("paid");
        assertThat(receipt.getString("amount_text")).isEqualTo("$7.00");
        assertThat(receipt.getJsonArray("events")).hasSize(1);
        assertMoney(account.id());
    }

    @Test
    void aRefundThatArrivesBeforeItsPaymentIsAppliedWhenThePaymentArrives() {
        CorouterNode.Account account = NODE.newAccount("2.00");
        JsonObject opened = open(account.id(), "usd_10", null);
        creem().holdWebhooks();
        Payment payment = CorouterNode.await(creem().pay(checkoutId(opened)));
        HttpResponse<String> refunded = NODE.send(HttpRequest.newBuilder(URI.create(creem().baseUrl() + "/v1/refunds"))
                .header("x-api-key", CorouterNode.CREEM_API_KEY).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(new JsonObject()
                        .put("transaction_id", payment.transactionId()).encode())));
        assertThat(refunded.statusCode()).isEqualTo(200);
        assertThat(topUps(account.id())).isZero();

        CorouterNode.await(creem().releaseHeld(true));   // the refund first, then the payment
        List<WebhookDelivery> order = creem().deliveries();
        assertThat(order).extracting(WebhookDelivery::eventType).containsExactly("refund.created", "checkout.completed");
        assertThat(order).allMatch(WebhookDelivery::acknowledged);

        assertThat(ofKind(account.id(), "topup")).isEqualTo(10 * USD);
        assertThat(ofKind(account.id(), "refund")).isEqualTo(10 * USD);
        assertThat(NODE.balance(account.id())).isEqualTo(2 * USD);
        assertThat(state(orderId(opened))).isEqualTo("refunded");
        assertMoney(account.id());
    }

    @Test
    void badSignatureWrongProductWrongAmountWrongUnitsAndUnknownOrdersCreditNothingAndSayWhy() {
        CorouterNode.Account account = NODE.newAccount("0");

        JsonObject forged = open(account.id(), "usd_10", null);
        creem().nextWebhook(WebhookPlan.normal().misSigned());
        CorouterNode.await(creem().pay(checkoutId(forged)));
        assertThat(creem().deliveries()).singleElement().extracting(WebhookDelivery::status).isEqualTo(401);
        assertThat(warnings()).anyMatch(line -> line.contains("refused (BAD_SIGNATURE)"));

        String[][] cases = {{"product", "product prod_other is not the order's"},
                {"amount", "amount 999 is not the order's 1000"}, {"currency", "currency EUR is not the order's USD"},
                {"units", "units 3 are not the order's 1"}, {"request", "the event names order ord_someone_else"}};
        List<String> orders = new ArrayList<>(List.of(orderId(forged)));
        for (String[] c : cases) {
            creem().reset();
            LOG.list.clear();
            JsonObject opened = open(account.id(), "usd_10", null);
            orders.add(orderId(opened));
            Mismatch mismatch = switch (c[0]) {
                case "product" -> Mismatch.productId("prod_other");
                case "amount" -> Mismatch.amount(999);
                case "currency" -> Mismatch.currency("EUR");
                case "units" -> Mismatch.units(3);
                default -> Mismatch.requestId("ord_someone_else");
            };
            CorouterNode.await(creem().pay(checkoutId(opened), mismatch));
            assertThat(creem().deliveries()).singleElement().extracting(WebhookDelivery::status).isEqualTo(200);
            assertThat(warnings()).as(c[0]).anyMatch(line -> line.contains("moves no money: mismatch")
                    && line.contains(c[1]));
            assertThat(state(orderId(opened))).isEqualTo("pending");
        }

        creem().reset();
        LOG.list.clear();
        CorouterNode.await(creem().sendEvent("checkout.completed", new JsonObject().put("id", "ch_nobody").put("object", "checkout")
                .put("request_id", "ord_nobody").put("status", "completed").put("units", 1)
                .put("product", new JsonObject().put("id", CorouterNode.CREEM_PRODUCT_10).put("price", 1000)
                        .put("currency", "USD"))
                .put("order", new JsonObject().put("id", "ord_creem_x").put("amount", 1000).put("currency", "USD")
                        .put("product", CorouterNode.CREEM_PRODUCT_10).put("status", "paid").put("amount_paid", 1000)
                        .put("transaction", "tran_x")).put("mode", "test")));
        assertThat(creem().deliveries()).singleElement().extracting(WebhookDelivery::status).isEqualTo(200);
        assertThat(warnings()).anyMatch(line -> line.contains("moves no money: unknown_order")
                && line.contains("ord_nobody"));

        assertThat(topUps(account.id())).isZero();
        assertThat(NODE.balance(account.id())).isZero();
        for (String id : orders) {
            assertThat(state(id)).isEqualTo("pending");
        }
        // nothing secret in what was logged: no webhook secret, no API key, no body
        assertThat(LOG.list).noneMatch(e -> e.getFormattedMessage().contains(CorouterNode.CREEM_WEBHOOK_SECRET)
                || e.getFormattedMessage().contains(CorouterNode.CREEM_API_KEY));
        assertMoney(account.id());
    }

    @Test
    void aRefundAfterTheCreditWasSpentFreezesTheAccountInsteadOfGoingNegative() {
        CorouterNode.Account account = NODE.newAccount("0");
        JsonObject opened = open(account.id(), "usd_10", null);
        Payment payment = CorouterNode.await(creem().pay(checkoutId(opened)));
        assertThat(NODE.balance(account.id())).isEqualTo(10 * USD);

        // spend most of it: each request costs a few dollars at the pricey model's prices
        int served = 0;
        while (served < 5) {
            HttpResponse<String> response = NODE.chat(account.key(), new JsonObject().put("model", PRICEY)
                    .put("max_tokens", 16).put("messages", new io.vertx.core.json.JsonArray()
                            .add(new JsonObject().put("role", "user").put("content", "spend"))));
            assertThat(response.statusCode()).isEqualTo(200);
            served++;
        }
        NODE.flushUsage();
        long spent = ofKind(account.id(), "charge");
        assertThat(spent).isGreaterThan(6 * USD).isLessThan(10 * USD);

        HttpResponse<String> refunded = NODE.send(HttpRequest.newBuilder(URI.create(creem().baseUrl() + "/v1/refunds"))
                .header("x-api-key", CorouterNode.CREEM_API_KEY).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(new JsonObject()
                        .put("transaction_id", payment.transactionId()).encode())));
        assertThat(refunded.statusCode()).isEqualTo(200);
        NODE.awaitCondition("the refund's webhook is acknowledged", () -> creem().deliveries().stream()
                .anyMatch(d -> d.eventType().equals("refund.created") && d.acknowledged()));

        Row wallet = NODE.sql("SELECT balance, leased, owed, frozen_at IS NOT NULL FROM wallets WHERE account_id = $1",
                account.id()).iterator().next();
        long balance = wallet.getLong(0);
        long leased = wallet.getLong(1);
        long owed = wallet.getLong(2);
        assertThat(wallet.getBoolean(3)).isTrue();
        assertThat(balance).isEqualTo(leased).isGreaterThanOrEqualTo(0);   // all that was free was taken
        assertThat(ofKind(account.id(), "refund") + owed).isEqualTo(10 * USD);
        assertThat(state(orderId(opened))).isEqualTo("refunded");
        assertMoney(account.id());

        // frozen: the key is refused before any work, and no new top-up can be opened
        HttpResponse<String> refused = NODE.chat(account.key(), new JsonObject().put("model", PRICEY)
                .put("messages", new io.vertx.core.json.JsonArray()
                        .add(new JsonObject().put("role", "user").put("content", "more"))));
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(refused.body()).contains("account frozen");
        String frozenTopUp = CorouterNode.await(NODE.node().payments().topUp(account.id(), null, "usd_10", null)
                .transform(done -> io.vertx.core.Future.<String>succeededFuture(done.failed()
                        ? done.cause().getMessage() : "opened")));
        assertThat(frozenTopUp).contains("account frozen");

        // the operator forgives the rest: the wallet thaws, and the books still balance
        JsonObject settled = new JsonObject(NODE.admin("POST", "/admin/accounts/" + account.id() + "/settle",
                new JsonObject().put("write_off", true), 200));
        assertThat(settled.getBoolean("frozen")).isFalse();
        assertThat(NODE.chat(account.key(), new JsonObject().put("model", CorouterNode.MOCK_MODEL)
                .put("messages", new io.vertx.core.json.JsonArray()
                        .add(new JsonObject().put("role", "user").put("content", "hi")))).statusCode())
                .isNotEqualTo(403);
        assertMoney(account.id());
    }

    @Test
    void aDisputeClawsBackThePayment() {
        CorouterNode.Account account = NODE.newAccount("1.00");
        JsonObject opened = open(account.id(), "usd_10", null);
        CorouterNode.await(creem().pay(checkoutId(opened)));
        creem().nextWebhook(WebhookPlan.normal().copies(3));
        CorouterNode.await(creem().dispute(checkoutId(opened)));
        assertThat(ofKind(account.id(), "refund")).isEqualTo(10 * USD);
        assertThat(NODE.balance(account.id())).isEqualTo(USD);
        assertThat(state(orderId(opened))).isEqualTo("refunded");
        assertMoney(account.id());
    }

    @Test
    void aLostWebhookIsReconciledOnceAndALateOneChangesNothing() throws Exception {
        CorouterNode.Account account = NODE.newAccount("0");
        JsonObject opened = open(account.id(), "usd_10", null);
        creem().holdWebhooks();
        CorouterNode.await(creem().pay(checkoutId(opened)));
        assertThat(topUps(account.id())).isZero();

        int credited = CorouterNode.await(NODE.node().payments().reconcilePending());
        assertThat(credited).isGreaterThanOrEqualTo(1);
        assertThat(CorouterNode.await(NODE.node().payments().reconcilePending())).isZero();
        assertThat(state(orderId(opened))).isEqualTo("paid");

        CorouterNode.await(creem().releaseHeld(false));   // the late webhook
        assertThat(creem().deliveries()).singleElement().matches(WebhookDelivery::acknowledged);
        assertThat(topUps(account.id())).isEqualTo(1);
        assertThat(NODE.balance(account.id())).isEqualTo(10 * USD);
        assertMoney(account.id());
    }

    @Test
    void theReturnUrlIsCheckedAndLeadsToTheOrdersPage() throws Exception {
        CorouterNode.Account account = NODE.newAccount("0");
        JsonObject opened = open(account.id(), "usd_10", null);
        creem().holdWebhooks();
        Payment payment = CorouterNode.await(creem().pay(checkoutId(opened)));
        String redirect = payment.redirectUrl();
        assertThat(redirect).startsWith("http://127.0.0.1:" + NODE.port() + "/billing/return/creem?");

        // a tampered query: shown, never reconciled
        HttpClient noFollow = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
        HttpResponse<String> tampered = noFollow.send(HttpRequest.newBuilder(URI.create(
                redirect.replaceAll("signature=[0-9a-f]+", "signature=00"))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(tampered.statusCode()).isEqualTo(303);
        assertThat(state(orderId(opened))).isEqualTo("pending");

        HttpResponse<String> back = noFollow.send(HttpRequest.newBuilder(URI.create(redirect)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(back.statusCode()).isEqualTo(303);
        assertThat(back.headers().firstValue("Location")).contains("/console/#/billing/orders/" + orderId(opened));
        assertThat(state(orderId(opened))).isEqualTo("paid");   // reconciled with the processor at once
        assertThat(topUps(account.id())).isEqualTo(1);

        HttpResponse<String> unknown = noFollow.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + NODE.port() + "/billing/return/creem?request_id=ord_nobody&checkout_id=ch_x")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(unknown.statusCode()).isEqualTo(400);
        CorouterNode.await(creem().releaseHeld(false));
        assertThat(topUps(account.id())).isEqualTo(1);
        assertMoney(account.id());
    }

    @Test
    void webhooksToAnUnknownInstanceOrWithAMalformedSignedBodyAreRefused() {
        HttpResponse<String> unknown = NODE.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + NODE.port()
                + "/webhooks/payments/stripe")).POST(HttpRequest.BodyPublishers.ofString("{}")));
        assertThat(unknown.statusCode()).isEqualTo(404);
        String body = "{not json";
        HttpResponse<String> malformed = deliver(body, creem().sign(body.getBytes()));
        assertThat(malformed.statusCode()).isEqualTo(400);
        HttpResponse<String> unsigned = deliver("{}", "");
        assertThat(unsigned.statusCode()).isEqualTo(401);
    }

    @Test
    void topUpInputIsValidated() {
        CorouterNode.Account account = NODE.newAccount("0");
        for (Object[] bad : new Object[][] {{"usd_nope", null}, {"usd_10", 2L}, {"usd_any", 0L},
                {"usd_any", 1_000_000L}, {42, null}}) {
            String message = CorouterNode.await(NODE.node().payments().topUp(account.id(), null, bad[0], bad[1])
                    .transform(done -> io.vertx.core.Future.<String>succeededFuture(done.failed()
                            ? done.cause().getMessage() : "opened")));
            assertThat(message).as(String.valueOf(bad[0])).isNotEqualTo("opened");
        }
        assertThat(NODE.sql("SELECT count(*) FROM payment_orders WHERE account_id = $1", account.id()).iterator()
                .next().getLong(0)).isZero();
        assertThat(creem().requests()).noneMatch(r -> r.path().equals("/v1/checkouts"));
    }
}
