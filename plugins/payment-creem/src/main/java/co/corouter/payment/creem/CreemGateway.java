package co.corouter.payment.creem;

import co.corouter.payment.creem.CreemEntities.MalformedEntity;
import co.corouter.payment.creem.CreemSignatures.ReturnQuery;
import co.corouter.plugin.api.payment.Checkout;
import co.corouter.plugin.api.payment.CheckoutRequest;
import co.corouter.plugin.api.payment.CheckoutReturn;
import co.corouter.plugin.api.payment.CheckoutStatus;
import co.corouter.plugin.api.payment.Offer;
import co.corouter.plugin.api.payment.PaymentException;
import co.corouter.plugin.api.payment.PaymentException.Kind;
import co.corouter.plugin.api.payment.PaymentGateway;
import co.corouter.plugin.api.payment.Refund;
import co.corouter.plugin.api.payment.WebhookResult;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Function;

/**
 * One {@code creem} payment instance: Creem's REST API with {@code x-api-key} over a keep-alive HTTP/1.1 pool, and
 * its webhook and return-URL signatures. Every wait on Creem is bounded by {@code request_timeout_ms}.
 */
final class CreemGateway implements PaymentGateway {

    private final CreemOptions options;
    private final String apiKey;
    private final CreemWebhooks webhooks;
    private final CreemSignatures signatures;
    private final HttpClientAgent client;

    CreemGateway(Vertx vertx, CreemOptions options, String apiKey, String webhookSecret) {
        this.options = options;
        this.apiKey = apiKey;
        this.signatures = new CreemSignatures(webhookSecret, apiKey);
        this.webhooks = new CreemWebhooks(signatures);
        this.client = vertx.httpClientBuilder()
                .with(new HttpClientOptions()
                        .setProtocolVersion(HttpVersion.HTTP_1_1)
                        .setKeepAlive(true)
                        .setConnectTimeout(options.connectTimeoutMs())
                        .setSsl(options.ssl())
                        .setForceSni(options.ssl() && !options.hostIsIpLiteral())
                        .setDefaultHost(options.host())
                        .setDefaultPort(options.port()))
                .build();
    }

    @Override
    public List<Offer> offers() {
        return options.offers();
    }

    @Override
    public Future<Checkout> createCheckout(CheckoutRequest request) {
        String refusal = refusal(request);
        if (refusal != null) {
            return Future.failedFuture(new PaymentException(Kind.BAD_REQUEST, 0, "checkout for order refused: "
                    + refusal));
        }
        return call("create checkout", HttpMethod.POST, "/v1/checkouts", CreemEntities.checkoutBody(request),
                CreemEntities::checkout);
    }

    @Override
    public Future<WebhookResult> verifyWebhook(Buffer rawBody, MultiMap headers) {
        return Future.succeededFuture(webhooks.verify(rawBody, headers));
    }

    @Override
    public Future<CheckoutReturn> verifyReturn(String rawQuery) {
        ReturnQuery query = signatures.verifyReturn(rawQuery);
        return Future.succeededFuture(new CheckoutReturn(query.signatureValid(), query.params().get("request_id"),
                query.params().get("checkout_id"), query.params().get("order_id")));
    }

    @Override
    public Future<CheckoutStatus> lookupCheckout(String checkoutId) {
        return call("retrieve checkout", HttpMethod.GET, "/v1/checkouts?checkout_id=" + encode(checkoutId), null,
                CreemEntities::checkoutStatus);
    }

    @Override
    public Future<Refund> refund(String paymentId) {
        return call("refund", HttpMethod.POST, "/v1/refunds", CreemEntities.refundBody(paymentId),
                CreemEntities::refund);
    }

    @Override
    public Future<Void> close() {
        return client.close();
    }

    /** Why the request cannot be sent as is, or {@code null}: it must buy a configured offer at its price. */
    String refusal(CheckoutRequest request) {
        Offer offer = options.offers().stream().filter(o -> o.productId().equals(request.productId())).findFirst()
                .orElse(null);
        if (offer == null) {
            return "product '" + request.productId() + "' is not configured";
        }
        if (request.units() < 1 || request.units() > 1 && !offer.unitsAllowed()) {
            return "product '" + offer.key() + "' is sold " + (offer.unitsAllowed() ? "in 1 or more units"
                    : "one unit at a time") + ", not " + request.units();
        }
        long expected;
        try {
            expected = Math.multiplyExact(offer.unitPrice().minorUnits(), request.units());
        } catch (ArithmeticException overflow) {
            return "units overflow the amount";
        }
        if (!request.amount().currency().equals(offer.unitPrice().currency())
                || request.amount().minorUnits() != expected) {
            return "amount " + request.amount() + " is not " + request.units() + " x " + offer.unitPrice();
        }
        return null;
    }

    private <T> Future<T> call(String operation, HttpMethod method, String apiPath, JsonObject body,
                               Function<JsonObject, T> parse) {
        RequestOptions request = new RequestOptions()
                .setMethod(method)
                .setURI(options.path(apiPath))
                .setConnectTimeout(options.connectTimeoutMs())
                .setIdleTimeout(options.requestTimeoutMs())
                .putHeader("x-api-key", apiKey)
                .putHeader(HttpHeaders.ACCEPT, "application/json");
        if (body != null) {
            request.putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
        }
        return client.request(request)
                .compose(req -> body == null ? req.send() : req.send(body.toBuffer()))
                .compose(response -> response.body().map(answer -> {
                    if (response.statusCode() / 100 != 2) {
                        throw CreemErrors.ofStatus(operation, response.statusCode(), answer);
                    }
                    return answer;
                }))
                .recover(failure -> Future.failedFuture(CreemErrors.ofFailure(operation, failure)))
                .map(answer -> {
                    JsonObject entity;
                    try {
                        entity = new JsonObject(answer);
                    } catch (RuntimeException notJson) {
                        throw CreemErrors.badResponse(operation, "not a JSON object");
                    }
                    try {
                        return parse.apply(entity);
                    } catch (MalformedEntity | IllegalArgumentException e) {
                        throw CreemErrors.badResponse(operation, e.getMessage());
                    }
                });
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
