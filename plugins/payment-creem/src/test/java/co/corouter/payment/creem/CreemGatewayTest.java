package co.corouter.payment.creem;

import co.corouter.plugin.api.payment.CheckoutRequest;
import co.corouter.plugin.api.payment.CheckoutStatus;
import co.corouter.plugin.api.payment.Money;
import co.corouter.plugin.api.payment.PaymentContext;
import co.corouter.plugin.api.payment.PaymentEvent;
import co.corouter.plugin.api.payment.PaymentException;
import co.corouter.plugin.api.payment.PaymentGateway;
import co.corouter.plugin.api.payment.WebhookRefusal;
import co.corouter.plugin.api.payment.WebhookResult;
import co.corouter.testkit.creem.FakeCreem;
import co.corouter.testkit.creem.FakeCreemExtension;
import co.corouter.testkit.creem.Payment;
import co.corouter.testkit.creem.WebhookPlan;
import co.corouter.testkit.creem.WebhookReceiver;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The plugin against {@link FakeCreem}: every case asserts the answer and what the fake received. */
@ExtendWith(VertxExtension.class)
class CreemGatewayTest {

    private static final String KEY = "creem_test_KEY123";
    private static final String SECRET = "whsec_test_corouter";

    @RegisterExtension
    static final FakeCreemExtension CREEM = new FakeCreemExtension(creem -> creem.apiKey(KEY).webhookSecret(SECRET)
            .product("prod_10", "$10 credit", 1000, "USD").product("prod_one", "$1 credit", 100, "USD"));

    private WebhookReceiver receiver;
    private PaymentGateway gateway;

    @BeforeEach
    void start(Vertx vertx, FakeCreem creem) throws Exception {
        receiver = new WebhookReceiver().start(vertx).await();
        creem.webhookUrl(receiver.url());
        gateway = gateway(vertx, creem, KEY);
    }

    @AfterEach
    void stop() throws Exception {
        gateway.close().await();
    }

    private static PaymentGateway gateway(Vertx vertx, FakeCreem creem, String apiKey) {
        Map<String, String> secrets = Map.of("CREEM_API_KEY", apiKey, "CREEM_WEBHOOK_SECRET", SECRET);
        JsonObject config = CreemOptionsTest.config(creem.baseUrl()).put("request_timeout_ms", 5000);
        return new CreemProcessor().create(new PaymentContext(vertx, "creem", secrets::get), config);
    }

    private static CheckoutRequest order(String orderId, String productId, long units, long amount) {
        return new CheckoutRequest(orderId, productId, units, new Money(amount, "USD"),
                URI.create("https://router.example.com/billing/return/creem"), "alice@example.com",
                Map.of("topup_id", orderId));
    }

    private Future<WebhookResult> lastWebhook() {
        WebhookReceiver.Received delivery = receiver.received().get(receiver.received().size() - 1);
        return gateway.verifyWebhook(Buffer.buffer(delivery.body()),
                MultiMap.caseInsensitiveMultiMap().add("creem-signature", String.valueOf(delivery.signature())));
    }

    @Test
    void aCheckoutIsOpenedPaidAndItsSignedWebhookVerifiedAgainstTheOrder(FakeCreem creem,
                                                                        VertxTestContext testContext) {
        gateway.createCheckout(order("topup_42", "prod_one", 10, 1000))
                .compose(checkout -> {
                    assertThat(checkout.checkoutUrl()).isEqualTo(creem.checkoutPageUrl(checkout.checkoutId()));
                    return creem.pay(checkout.checkoutId());
                })
                .compose(payment -> lastWebhook().map(event -> Map.entry(payment, event)))
                .onComplete(testContext.succeeding(paid -> testContext.verify(() -> {
                    Payment payment = paid.getKey();
                    assertThat(paid.getValue()).isInstanceOfSatisfying(PaymentEvent.class, event -> {
                        assertThat(event.type()).isEqualTo(PaymentEvent.Type.PAYMENT);
                        assertThat(event.eventId()).isEqualTo(payment.eventId());
                        assertThat(event.orderId()).isEqualTo("topup_42");
                        assertThat(event.checkoutId()).isEqualTo(payment.checkoutId());
                        assertThat(event.processorOrderId()).isEqualTo(payment.orderId());
                        assertThat(event.paymentId()).isEqualTo(payment.transactionId());
                        assertThat(event.productId()).isEqualTo("prod_one");
                        assertThat(event.units()).isEqualTo(10);
                        assertThat(event.amount()).isEqualTo(new Money(1000, "USD"));
                    });
                    JsonObject sent = creem.requests().get(0).body();
                    assertThat(creem.requests().get(0).apiKey()).isEqualTo(KEY);
                    assertThat(sent.getString("request_id")).isEqualTo("topup_42");
                    assertThat(sent.getLong("units")).isEqualTo(10);
                    assertThat(sent.getJsonObject("metadata").getString("topup_id")).isEqualTo("topup_42");
                    testContext.completeNow();
                })));
    }

    @Test
    void theSignedReturnUrlVerifiesAndLeadsToAPaidLookup(FakeCreem creem, VertxTestContext testContext) {
        gateway.createCheckout(order("topup_7", "prod_10", 1, 1000))
                .compose(checkout -> creem.pay(checkout.checkoutId()))
                .compose(payment -> gateway.verifyReturn(URI.create(payment.redirectUrl()).getRawQuery()))
                .compose(returned -> {
                    assertThat(returned.signatureValid()).isTrue();
                    assertThat(returned.orderId()).isEqualTo("topup_7");
                    return gateway.lookupCheckout(returned.checkoutId());
                })
                .onComplete(testContext.succeeding(status -> testContext.verify(() -> {
                    assertThat(status.state()).isEqualTo(CheckoutStatus.State.PAID);
                    assertThat(status.orderId()).isEqualTo("topup_7");
                    assertThat(status.productId()).isEqualTo("prod_10");
                    assertThat(status.amount()).isEqualTo(new Money(1000, "USD"));
                    assertThat(status.paymentId()).startsWith("tran_");
                    assertThat(creem.requests()).extracting(r -> r.method() + " " + r.path())
                            .containsExactly("POST /v1/checkouts", "GET /v1/checkouts");
                    testContext.completeNow();
                })));
    }

    @Test
    void aReturnUrlSignedWithAnotherKeyIsNotValid(VertxTestContext testContext) {
        gateway.verifyReturn("checkout_id=ch_1&order_id=ord_1&request_id=topup_1&signature=" + "a".repeat(64))
                .onComplete(testContext.succeeding(returned -> testContext.verify(() -> {
                    assertThat(returned.signatureValid()).isFalse();
                    testContext.completeNow();
                })));
    }

    @Test
    void aRefundIsAcceptedAndItsWebhookClawsBackThroughOurOrder(FakeCreem creem, VertxTestContext testContext) {
        creem.taxAmount(210);
        receiver.onDelivery(delivery -> {
            if (delivery.bodyText().contains("refund.created")) {
                lastWebhook().onComplete(testContext.succeeding(result -> testContext.verify(() -> {
                    assertThat(result).isInstanceOfSatisfying(PaymentEvent.class, event -> {
                        assertThat(event.type()).isEqualTo(PaymentEvent.Type.REFUND);
                        assertThat(event.orderId()).isEqualTo("topup_9");
                        assertThat(event.amount()).isEqualTo(new Money(1210, "USD"));
                        assertThat(event.amountPaid()).isEqualTo(new Money(1210, "USD"));
                    });
                    assertThat(creem.requests()).extracting(r -> r.path()).contains("/v1/refunds");
                    testContext.completeNow();
                })));
            }
        });
        gateway.createCheckout(order("topup_9", "prod_10", 1, 1000))
                .compose(checkout -> creem.pay(checkout.checkoutId()))
                .compose(payment -> gateway.refund(payment.transactionId()))
                .onComplete(testContext.succeeding(refund -> testContext.verify(() -> {
                    assertThat(refund.refundId()).startsWith("ref_");
                    assertThat(refund.rawStatus()).isEqualTo("succeeded");
                })));
    }

    @Test
    void aMisSignedDeliveryIsRefusedAsABadSignature(FakeCreem creem, VertxTestContext testContext) {
        creem.nextWebhook(WebhookPlan.normal().misSigned());
        gateway.createCheckout(order("topup_1", "prod_10", 1, 1000))
                .compose(checkout -> creem.pay(checkout.checkoutId()))
                .compose(payment -> lastWebhook())
                .onComplete(testContext.succeeding(result -> testContext.verify(() -> {
                    assertThat(result).isInstanceOfSatisfying(WebhookRefusal.class,
                            refusal -> assertThat(refusal.reason()).isEqualTo(WebhookRefusal.Reason.BAD_SIGNATURE));
                    testContext.completeNow();
                })));
    }

    @Test
    void aCheckoutThatDoesNotBuyAConfiguredOfferAtItsPriceIsRefusedWithoutCallingCreem(
            FakeCreem creem, VertxTestContext testContext) {
        Future.all(failureOf(gateway.createCheckout(order("o1", "prod_10", 1, 999))),
                        failureOf(gateway.createCheckout(order("o2", "prod_10", 2, 2000))),
                        failureOf(gateway.createCheckout(order("o3", "prod_unknown", 1, 1000))))
                .onComplete(testContext.succeeding(all -> testContext.verify(() -> {
                    for (int i = 0; i < 3; i++) {
                        assertKind(all.resultAt(i), PaymentException.Kind.BAD_REQUEST);
                    }
                    assertThat(((Throwable) all.resultAt(1)).getMessage()).contains("one unit at a time");
                    assertThat(creem.requests()).isEmpty();
                    testContext.completeNow();
                })));
    }

    private static Future<Throwable> failureOf(Future<?> call) {
        return call.<Throwable>map(success -> new AssertionError("expected a failure, got " + success))
                .recover(Future::succeededFuture);
    }

    @Test
    void aWrongKeyIsAnAuthFailure(Vertx vertx, FakeCreem creem, VertxTestContext testContext) {
        PaymentGateway wrongKey = gateway(vertx, creem, "creem_test_WRONG");
        wrongKey.createCheckout(order("topup_1", "prod_10", 1, 1000))
                .onComplete(testContext.failing(failure -> testContext.verify(() -> {
                    assertKind(failure, PaymentException.Kind.AUTH);
                    assertThat(((PaymentException) failure).processorStatus()).isEqualTo(403);
                    assertThat(failure.getMessage()).contains("Forbidden").contains("trace_id")
                            .doesNotContain("creem_test_WRONG");
                    assertThat(creem.requests()).singleElement()
                            .satisfies(r -> assertThat(r.status()).isEqualTo(403));
                    testContext.completeNow();
                })));
    }

    @Test
    void anUnknownCheckoutIsNotFoundAndA5xxIsUnavailable(FakeCreem creem, VertxTestContext testContext) {
        failureOf(gateway.lookupCheckout("ch_nope"))
                .compose(notFound -> {
                    creem.failNext(500);
                    return failureOf(gateway.lookupCheckout("ch_nope"))
                            .map(unavailable -> new Throwable[]{notFound, unavailable});
                })
                .onComplete(testContext.succeeding(failures -> testContext.verify(() -> {
                    assertKind(failures[0], PaymentException.Kind.NOT_FOUND);
                    assertKind(failures[1], PaymentException.Kind.UNAVAILABLE);
                    assertThat(((PaymentException) failures[1]).processorStatus()).isEqualTo(500);
                    assertThat(creem.requests()).extracting(r -> r.status()).containsExactly(404, 500);
                    testContext.completeNow();
                })));
    }

    @Test
    void anUnreachableCreemIsUnavailable(Vertx vertx, FakeCreem creem, VertxTestContext testContext) {
        JsonObject config = CreemOptionsTest.config("http://127.0.0.1:1").put("connect_timeout_ms", 2000);
        PaymentGateway unreachable = new CreemProcessor().create(new PaymentContext(vertx, "creem",
                Map.of("CREEM_API_KEY", KEY, "CREEM_WEBHOOK_SECRET", SECRET)::get), config);
        unreachable.refund("tran_1").onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertKind(failure, PaymentException.Kind.UNAVAILABLE);
            testContext.completeNow();
        })));
    }

    private static void assertKind(Throwable failure, PaymentException.Kind kind) {
        assertThat(failure).isInstanceOfSatisfying(PaymentException.class, e -> assertThat(e.kind()).isEqualTo(kind));
    }
}
