package co.corouter.testkit.creem;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
class FakeCreemTest {

    private static final String KEY = "creem_test_KEY123";
    private static final String SECRET = "whsec_test_corouter";

    @RegisterExtension
    static final FakeCreemExtension CREEM = new FakeCreemExtension(creem -> creem.apiKey(KEY).webhookSecret(SECRET)
            .product("prod_10", "$10 credit", 1000, "USD").product("prod_one", "$1 credit", 100, "USD"));

    private HttpClient client;
    private WebhookReceiver receiver;

    @BeforeEach
    void start(Vertx vertx, FakeCreem creem) throws Exception {
        client = vertx.createHttpClient();
        receiver = new WebhookReceiver().start(vertx).await();
        creem.webhookUrl(receiver.url());
    }

    @Test
    void signsWebhooksAsTheSpecsTestVectorSays(FakeCreem creem) {
        String body = "{\"id\":\"evt_test1\",\"eventType\":\"checkout.completed\",\"created_at\":1728734325927,"
                + "\"object\":{\"id\":\"ch_test1\",\"object\":\"checkout\",\"request_id\":\"topup_42\","
                + "\"status\":\"completed\"}}";
        assertThat(creem.sign(body.getBytes(StandardCharsets.UTF_8)))
                .isEqualTo("732b9b5122f203539a6e1f4d2b17436c8aae3d670a141bb6cfaed844c2af7861");
    }

    @Test
    void signsReturnUrlsAsTheSpecsTestVectorSays() {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("checkout_id", "ch_1QyIQDw9cbFWdA1ry5Qc6I");
        params.put("order_id", "ord_4ucZ7Ts3r7EhSrl5yQE4G6");
        params.put("customer_id", "cust_2KaCAtu6l3tpjIr8Nr9XOp");
        params.put("product_id", "prod_6tW66i0oZM7w1qXReHJrwg");
        params.put("request_id", "topup_42");
        assertThat(FakeCreem.returnSignature(params, KEY))
                .isEqualTo("c3a5f2ed91636208bf1d50fd3731edf5b6f82762a30e4d732c1543a251cabd76");
    }

    @Test
    void createsAPendingCheckoutWithDeterministicIdsAndRetrievesIt(FakeCreem creem, VertxTestContext testContext) {
        createCheckout(creem, checkoutBody("topup_1", "prod_one", 5)).compose(created -> {
            assertThat(created.status()).isEqualTo(200);
            return call(creem, HttpMethod.GET, "/v1/checkouts?checkout_id=" + created.body().getString("id"), KEY,
                    null);
        }).onComplete(testContext.succeeding(found -> testContext.verify(() -> {
            assertThat(found.status()).isEqualTo(200);
            JsonObject checkout = found.body();
            assertThat(checkout.getString("id")).isEqualTo("ch_fake000001");
            assertThat(checkout.getString("status")).isEqualTo("pending");
            assertThat(checkout.getString("request_id")).isEqualTo("topup_1");
            assertThat(checkout.getLong("units")).isEqualTo(5);
            assertThat(checkout.getString("checkout_url")).isEqualTo(creem.checkoutPageUrl("ch_fake000001"));
            assertThat(creem.requests()).extracting(RecordedCreemRequest::path)
                    .containsExactly("/v1/checkouts", "/v1/checkouts");
            testContext.completeNow();
        })));
    }

    @Test
    void answers403InCreemsErrorShapeWithoutTheRightApiKey(FakeCreem creem, VertxTestContext testContext) {
        call(creem, HttpMethod.POST, "/v1/checkouts", "creem_test_WRONG", checkoutBody("topup_1", "prod_10", 1))
                .onComplete(testContext.succeeding(answer -> testContext.verify(() -> {
                    assertThat(answer.status()).isEqualTo(403);
                    assertThat(answer.body().getString("error")).isEqualTo("Forbidden");
                    assertThat(answer.body().getString("trace_id")).isNotBlank();
                    assertThat(answer.body().getLong("timestamp")).isPositive();
                    assertThat(creem.checkout("ch_fake000001")).isNull();
                    testContext.completeNow();
                })));
    }

    @Test
    void refusesAnUnknownProductWith404AndACustomerWithBothIdAndEmailWith400(FakeCreem creem,
                                                                            VertxTestContext testContext) {
        JsonObject both = checkoutBody("topup_1", "prod_10", 1)
                .put("customer", new JsonObject().put("id", "cust_1").put("email", "a@example.com"));
        createCheckout(creem, checkoutBody("topup_1", "prod_nope", 1))
                .compose(unknown -> createCheckout(creem, both).map(twoCustomers -> List.of(unknown, twoCustomers)))
                .onComplete(testContext.succeeding(answers -> testContext.verify(() -> {
                    assertThat(answers.get(0).status()).isEqualTo(404);
                    assertThat(answers.get(0).body().getJsonArray("message")).containsExactly("Product not found");
                    assertThat(answers.get(1).status()).isEqualTo(400);
                    assertThat(answers.get(1).body().getJsonArray("message").getString(0))
                            .contains("customer.id, customer.email");
                    testContext.completeNow();
                })));
    }

    @Test
    void payingCompletesTheCheckoutAndDeliversOneSignedCheckoutCompletedWithTheOrder(FakeCreem creem,
                                                                                    VertxTestContext testContext) {
        creem.taxAmount(210);
        createCheckout(creem, checkoutBody("topup_42", "prod_10", 1))
                .compose(created -> creem.pay(created.body().getString("id")))
                .onComplete(testContext.succeeding(payment -> testContext.verify(() -> {
                    assertThat(receiver.received()).hasSize(1);
                    WebhookReceiver.Received delivery = receiver.received().get(0);
                    assertThat(delivery.signature()).isEqualTo(creem.sign(delivery.body()));
                    JsonObject event = new JsonObject(Buffer.buffer(delivery.body()));
                    assertThat(event.getString("id")).isEqualTo(payment.eventId());
                    assertThat(event.getString("eventType")).isEqualTo("checkout.completed");
                    JsonObject object = event.getJsonObject("object");
                    assertThat(object.getString("request_id")).isEqualTo("topup_42");
                    assertThat(object.getString("status")).isEqualTo("completed");
                    assertThat(object.getJsonObject("product").getString("id")).isEqualTo("prod_10");
                    JsonObject order = object.getJsonObject("order");
                    assertThat(order.getLong("amount")).isEqualTo(1000);
                    assertThat(order.getLong("amount_paid")).isEqualTo(1210);
                    assertThat(order.getString("transaction")).isEqualTo(payment.transactionId());
                    assertThat(creem.checkout(payment.checkoutId()).getString("status")).isEqualTo("completed");
                    assertThat(creem.deliveries()).singleElement().satisfies(d -> {
                        assertThat(d.acknowledged()).isTrue();
                        assertThat(d.validlySigned()).isTrue();
                    });
                    assertThat(payment.redirectUrl()).startsWith("https://router.example.com/return?checkout_id="
                            + payment.checkoutId() + "&order_id=" + payment.orderId()).contains("&signature=");
                    testContext.completeNow();
                })));
    }

    @Test
    void redeliversTheSameBytesConcurrentlyAndRecordsEveryAnswer(FakeCreem creem, VertxTestContext testContext) {
        creem.nextWebhook(WebhookPlan.normal().copies(3).concurrently());
        createCheckout(creem, checkoutBody("topup_1", "prod_10", 1))
                .compose(created -> creem.pay(created.body().getString("id")))
                .onComplete(testContext.succeeding(payment -> testContext.verify(() -> {
                    assertThat(receiver.received()).hasSize(3)
                            .extracting(WebhookReceiver.Received::bodyText).containsOnly(
                                    receiver.received().get(0).bodyText());
                    assertThat(creem.deliveries()).hasSize(3).allMatch(WebhookDelivery::acknowledged);
                    testContext.completeNow();
                })));
    }

    @Test
    void dropsAndMisSignsAsPlannedAndRetriesAfterAFailure(FakeCreem creem, VertxTestContext testContext) {
        creem.nextWebhook(WebhookPlan.dropped(), WebhookPlan.normal().misSigned(), WebhookPlan.normal().retries(2));
        receiver.answer(200, 500);
        createCheckout(creem, checkoutBody("topup_1", "prod_10", 1))
                .compose(created -> creem.pay(created.body().getString("id")))
                .compose(paid -> creem.sendEvent("subscription.paid", new JsonObject().put("object", "subscription")))
                .compose(ignored -> creem.sendEvent("subscription.active", new JsonObject()))
                .onComplete(testContext.succeeding(last -> testContext.verify(() -> {
                    List<WebhookDelivery> deliveries = creem.deliveries();
                    assertThat(deliveries).extracting(WebhookDelivery::dropped)
                            .containsExactly(true, false, false, false);
                    assertThat(deliveries.get(1).validlySigned()).isFalse();
                    assertThat(receiver.received().get(0).signature())
                            .isNotEqualTo(creem.sign(receiver.received().get(0).body()));
                    assertThat(deliveries.subList(2, 4)).extracting(WebhookDelivery::status).containsExactly(500, 200);
                    assertThat(receiver.received()).hasSize(3);
                    testContext.completeNow();
                })));
    }

    @Test
    void holdsEventsAndReleasesThemOutOfOrder(FakeCreem creem, VertxTestContext testContext) {
        creem.holdWebhooks();
        createCheckout(creem, checkoutBody("topup_1", "prod_10", 1))
                .compose(created -> creem.pay(created.body().getString("id")))
                .compose(payment -> call(creem, HttpMethod.POST, "/v1/refunds", KEY,
                        new JsonObject().put("transaction_id", payment.transactionId())))
                .compose(refunded -> {
                    assertThat(receiver.received()).isEmpty();
                    return creem.releaseHeld(true);
                })
                .onComplete(testContext.succeeding(v -> testContext.verify(() -> {
                    assertThat(creem.deliveries()).extracting(WebhookDelivery::eventType)
                            .containsExactly("refund.created", "checkout.completed");
                    testContext.completeNow();
                })));
    }

    @Test
    void refundsAPaidTransactionOnceAndDeliversRefundCreated(FakeCreem creem, VertxTestContext testContext) {
        creem.taxAmount(210);
        createCheckout(creem, checkoutBody("topup_9", "prod_10", 1))
                .compose(created -> creem.pay(created.body().getString("id")))
                .compose(payment -> refund(creem, payment.transactionId())
                        .compose(first -> refund(creem, payment.transactionId()).map(second -> List.of(first, second))))
                .onComplete(testContext.succeeding(answers -> testContext.verify(() -> {
                    assertThat(answers.get(0).status()).isEqualTo(200);
                    assertThat(answers.get(0).body().getString("status")).isEqualTo("succeeded");
                    assertThat(answers.get(1).status()).isEqualTo(400);
                    testContext.completeNow();
                })));
        // the refund webhook is sent after the refund's answer: wait for it, not for time
        receiver.onDelivery(delivery -> {
            if (delivery.bodyText().contains("refund.created")) {
                testContext.verify(() -> {
                    JsonObject refund = new JsonObject(delivery.bodyText()).getJsonObject("object");
                    assertThat(refund.getLong("refund_amount")).isEqualTo(1210);
                    assertThat(refund.getJsonObject("checkout").getString("request_id")).isEqualTo("topup_9");
                    assertThat(refund.getJsonObject("transaction").getLong("amount_paid")).isEqualTo(1210);
                });
            }
        });
    }

    @Test
    void theHostedPagesPayButtonRedirectsToTheSignedSuccessUrl(FakeCreem creem, VertxTestContext testContext) {
        createCheckout(creem, checkoutBody("topup_7", "prod_one", 3)).compose(created -> {
            String id = created.body().getString("id");
            return page(created.body().getString("checkout_url")).compose(html -> {
                assertThat(html).contains("3 x 100 USD").contains("/fake/checkouts/" + id + "/pay?redirect=true");
                return client.request(new RequestOptions().setMethod(HttpMethod.POST)
                                .setAbsoluteURI(creem.baseUrl() + "/fake/checkouts/" + id + "/pay?redirect=true"))
                        .compose(request -> request.send())
                        .map(response -> response.statusCode() + " " + response.getHeader("location"));
            });
        }).onComplete(testContext.succeeding(answer -> testContext.verify(() -> {
            assertThat(answer).startsWith("303 https://router.example.com/return?checkout_id=ch_fake000001")
                    .contains("&request_id=topup_7&signature=");
            assertThat(receiver.received()).hasSize(1);
            testContext.completeNow();
        })));
    }

    @Test
    void reportsAMismatchedPaymentAndInjectedServerErrors(FakeCreem creem, VertxTestContext testContext) {
        createCheckout(creem, checkoutBody("topup_1", "prod_10", 1))
                .compose(created -> creem.pay(created.body().getString("id"), Mismatch.amount(1)))
                .compose(payment -> {
                    creem.failNext(503);
                    return call(creem, HttpMethod.GET, "/v1/checkouts?checkout_id=" + payment.checkoutId(), KEY,
                            null);
                })
                .onComplete(testContext.succeeding(failed -> testContext.verify(() -> {
                    JsonObject order = new JsonObject(receiver.received().get(0).bodyText()).getJsonObject("object")
                            .getJsonObject("order");
                    assertThat(order.getLong("amount")).isEqualTo(1);
                    assertThat(failed.status()).isEqualTo(503);
                    assertThat(failed.body().getInteger("status")).isEqualTo(503);
                    testContext.completeNow();
                })));
    }

    @Test
    void delaysADeliveryOnATimerWhenAsked(FakeCreem creem, VertxTestContext testContext) {
        creem.nextWebhook(WebhookPlan.normal().delayMillis(50));
        long started = System.nanoTime();
        createCheckout(creem, checkoutBody("topup_1", "prod_10", 1))
                .compose(created -> creem.pay(created.body().getString("id")))
                .onComplete(testContext.succeeding(payment -> testContext.verify(() -> {
                    assertThat((System.nanoTime() - started) / 1_000_000).isGreaterThanOrEqualTo(50);
                    assertThat(receiver.received()).hasSize(1);
                    testContext.completeNow();
                })));
    }

    private static JsonObject checkoutBody(String requestId, String productId, int units) {
        return new JsonObject().put("product_id", productId).put("request_id", requestId).put("units", units)
                .put("success_url", "https://router.example.com/return");
    }

    private Future<Answer> createCheckout(FakeCreem creem, JsonObject body) {
        return call(creem, HttpMethod.POST, "/v1/checkouts", KEY, body);
    }

    private Future<Answer> refund(FakeCreem creem, String transactionId) {
        return call(creem, HttpMethod.POST, "/v1/refunds", KEY, new JsonObject().put("transaction_id", transactionId));
    }

    private Future<String> page(String url) {
        return client.request(new RequestOptions().setAbsoluteURI(url)).compose(request -> request.send())
                .compose(response -> response.body()).map(Buffer::toString);
    }

    private Future<Answer> call(FakeCreem creem, HttpMethod method, String path, String key, JsonObject body) {
        RequestOptions options = new RequestOptions().setMethod(method).setAbsoluteURI(creem.baseUrl() + path)
                .putHeader("content-type", "application/json");
        if (key != null) {
            options.putHeader("x-api-key", key);
        }
        return client.request(options)
                .compose(request -> body == null ? request.send() : request.send(body.toBuffer()))
                .compose(response -> response.body().map(answer -> new Answer(response.statusCode(),
                        new JsonObject(answer))));
    }

    private record Answer(int status, JsonObject body) {
    }
}
