package co.corouter.testkit.creem;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

/**
 * A stand-in for Creem (creem.io) on 127.0.0.1, speaking the API and webhook protocol of {@code specs/creem.md}:
 * {@code POST/GET /v1/checkouts}, {@code GET/POST /v1/products}, {@code GET /v1/transactions}, {@code POST /v1/refunds}
 * with {@code x-api-key} (403 without the right one) and Creem's error body; a hosted checkout page at
 * {@link #checkoutPageUrl}; and signed webhooks ({@code creem-signature}) to {@link #webhookUrl} that can be duplicated,
 * sent concurrently, delayed, dropped, held and released out of order, mis-signed, or describe a payment that does not
 * match the order ({@link Mismatch}).
 *
 * <pre>
 * FakeCreem creem = new FakeCreem().apiKey("creem_test_KEY").webhookSecret("whsec_x").webhookUrl(url);
 * creem.product("prod_10", "$10 credit", 1000, "USD");
 * creem.start(vertx) ...                                 // creem.baseUrl(): http://127.0.0.1:PORT
 * creem.nextWebhook(WebhookPlan.normal().copies(3).concurrently());
 * creem.pay(checkoutId).onSuccess(payment -&gt; ...);       // or POST {baseUrl}/fake/checkouts/{id}/pay
 * creem.deliveries()                                     // every attempt with the receiver's answer
 * </pre>
 *
 * <p>Test-only endpoints, not Creem's: {@code POST /fake/checkouts/{id}/pay} (answers the {@link Payment} as JSON, or
 * 303 to the signed success URL with {@code ?redirect=true}, as the checkout page's button does) and
 * {@code POST /fake/checkouts/{id}/dispute}. Ids are deterministic ({@code ch_fake000001}, ...). Nothing waits on a
 * timer unless a plan asks for a delay. Safe to drive from a test thread.
 */
public final class FakeCreem {

    private static final String MODE = "test";
    private static final HexFormat HEX = HexFormat.of();

    private final Map<String, JsonObject> products = new ConcurrentHashMap<>();
    private final Map<String, JsonObject> checkouts = new ConcurrentHashMap<>();
    private final Map<String, JsonObject> transactions = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> counters = new ConcurrentHashMap<>();
    private final ConcurrentLinkedDeque<RecordedCreemRequest> requests = new ConcurrentLinkedDeque<>();
    private final ConcurrentLinkedDeque<WebhookDelivery> deliveries = new ConcurrentLinkedDeque<>();
    private final Queue<WebhookPlan> nextPlans = new ConcurrentLinkedQueue<>();
    private final Queue<Integer> nextFailures = new ConcurrentLinkedQueue<>();
    private final List<Held> held = new ArrayList<>();
    private final AtomicReference<WebhookPlan> defaultPlan = new AtomicReference<>(WebhookPlan.normal());
    private volatile String idTag = "";
    private volatile String apiKey = "creem_test_fake";
    private volatile String webhookSecret = "whsec_fake";
    private volatile String webhookUrl;
    private volatile long taxAmount;
    private volatile boolean holding;
    private volatile LongSupplier clock = System::currentTimeMillis;
    private volatile Vertx vertx;
    private volatile HttpServer server;
    private volatile HttpClientAgent client;

    // ---------------------------------------------------------------- life-cycle and configuration

    /** Starts listening on 127.0.0.1 on a free port. */
    public Future<FakeCreem> start(Vertx vertx) {
        return start(vertx, 0);
    }

    /** Starts listening on 127.0.0.1:{@code port} (0: a free one). */
    public Future<FakeCreem> start(Vertx vertx, int port) {
        this.vertx = vertx;
        this.client = vertx.httpClientBuilder().with(new PoolOptions().setHttp1MaxSize(64)).build();
        HttpServer created = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(port));
        created.requestHandler(this::handle);
        return created.listen().map(listening -> {
            server = listening;
            return this;
        });
    }

    /** Stops listening and closes the webhook client. */
    public Future<Void> close() {
        HttpServer current = server;
        server = null;
        Future<Void> closed = current == null ? Future.succeededFuture() : current.close();
        return closed.compose(v -> client == null ? Future.succeededFuture() : client.close());
    }

    /** The API root, e.g. {@code http://127.0.0.1:PORT} (requests go to {@code /v1/...}). */
    public String baseUrl() {
        HttpServer current = server;
        if (current == null) {
            throw new IllegalStateException("the fake Creem is not started");
        }
        return "http://127.0.0.1:" + current.actualPort();
    }

    /** The hosted checkout page of {@code checkoutId} ({@code checkout_url} in the API). */
    public String checkoutPageUrl(String checkoutId) {
        return baseUrl() + "/checkout/" + checkoutId;
    }

    /** The API key every request must carry as {@code x-api-key}; it also salts return-URL signatures. */
    /**
     * Puts {@code tag} into every id ({@code ch_fake<tag>000001}) and keeps counting across {@link #reset()}, so ids
     * never repeat against a database that outlives this fake (a test suite's shared database, a dev machine's).
     */
    public FakeCreem idTag(String tag) {
        if (!tag.matches("[0-9A-Za-z]{0,16}")) {
            throw new IllegalArgumentException("an id tag is up to 16 letters and digits");
        }
        this.idTag = tag;
        return this;
    }

    public FakeCreem apiKey(String key) {
        apiKey = key;
        return this;
    }

    /** The secret webhooks are signed with. */
    public FakeCreem webhookSecret(String secret) {
        webhookSecret = secret;
        return this;
    }

    /** Where webhooks go; {@code null} (the default) records them as dropped. */
    public FakeCreem webhookUrl(String url) {
        webhookUrl = url;
        return this;
    }

    /** Tax Creem adds on top of each order ({@code order.tax_amount}), in minor units; default 0. */
    public FakeCreem taxAmount(long minorUnits) {
        taxAmount = minorUnits;
        return this;
    }

    /** The clock of {@code created_at} fields, in epoch milliseconds. */
    public FakeCreem clock(LongSupplier epochMillis) {
        clock = epochMillis;
        return this;
    }

    /** Registers a one-time product, as if created in Creem's dashboard. */
    public FakeCreem product(String productId, String name, long price, String currency) {
        products.put(productId, productEntity(productId, name, price, currency));
        return this;
    }

    /** The plan of every webhook that has no {@link #nextWebhook queued} one. */
    public FakeCreem webhookPlan(WebhookPlan plan) {
        defaultPlan.set(plan);
        return this;
    }

    /** Plans for the next webhook events, in order. */
    public FakeCreem nextWebhook(WebhookPlan... plans) {
        nextPlans.addAll(List.of(plans));
        return this;
    }

    /** The next API requests answer these statuses with Creem's error body, whatever they ask (e.g. 500, 503). */
    public FakeCreem failNext(int... statuses) {
        for (int status : statuses) {
            nextFailures.add(status);
        }
        return this;
    }

    /** Holds webhook events instead of sending them, until {@link #releaseHeld}. */
    public FakeCreem holdWebhooks() {
        holding = true;
        return this;
    }

    /**
     * Stops holding and delivers the held events, newest first when {@code reversed} (out of order), one after the
     * other. Completes when all were delivered.
     */
    public Future<Void> releaseHeld(boolean reversed) {
        List<Held> batch;
        synchronized (held) {
            holding = false;
            batch = new ArrayList<>(held);
            held.clear();
        }
        if (reversed) {
            java.util.Collections.reverse(batch);
        }
        Future<Void> chain = Future.succeededFuture();
        for (Held event : batch) {
            chain = chain.compose(v -> deliver(event.event(), event.plan()).mapEmpty());
        }
        return chain;
    }

    /**
     * Forgets checkouts, transactions, requests, deliveries, plans and held events and restarts the ids; keeps
     * products, keys and the webhook URL.
     */
    public FakeCreem reset() {
        checkouts.clear();
        transactions.clear();
        if (idTag.isEmpty()) {
            counters.keySet().removeIf(prefix -> !prefix.equals("prod")); // products outlive a reset
        }
        requests.clear();
        deliveries.clear();
        nextPlans.clear();
        nextFailures.clear();
        synchronized (held) {
            held.clear();
            holding = false;
        }
        defaultPlan.set(WebhookPlan.normal());
        taxAmount = 0;
        return this;
    }

    // ---------------------------------------------------------------- what happened

    /** API requests received (not the fake's own endpoints), in arrival order. */
    public List<RecordedCreemRequest> requests() {
        return List.copyOf(requests);
    }

    /** Every webhook attempt, in the order the answers came. */
    public List<WebhookDelivery> deliveries() {
        return List.copyOf(deliveries);
    }

    /** The checkout as {@code GET /v1/checkouts} would answer it, or {@code null}. */
    public JsonObject checkout(String checkoutId) {
        JsonObject checkout = checkouts.get(checkoutId);
        return checkout == null ? null : checkout.copy();
    }

    // ---------------------------------------------------------------- the customer and the merchant

    /** The customer pays {@code checkoutId}: the checkout completes and {@code checkout.completed} is delivered. */
    public Future<Payment> pay(String checkoutId) {
        return pay(checkoutId, Mismatch.NONE);
    }

    /**
     * The customer pays, and the {@code checkout.completed} event misreports what was paid as {@code mismatch} says.
     * Completes after the event was delivered (or held, or dropped); fails if the checkout is unknown or not pending.
     */
    public Future<Payment> pay(String checkoutId, Mismatch mismatch) {
        JsonObject paid;
        Payment payment;
        synchronized (checkouts) {
            JsonObject checkout = checkouts.get(checkoutId);
            if (checkout == null) {
                return Future.failedFuture(new IllegalArgumentException("no checkout " + checkoutId));
            }
            if (!"pending".equals(checkout.getString("status"))) {
                return Future.failedFuture(new IllegalStateException(checkoutId + " is " + checkout.getString("status")));
            }
            JsonObject product = products.get(checkout.getString("product"));
            long units = checkout.getLong("units");
            long amount = Math.multiplyExact(product.getLong("price"), units);
            String customerId = nextId("cust");
            String orderId = nextId("ord");
            String transactionId = nextId("tran");
            String now = java.time.Instant.ofEpochMilli(clock.getAsLong()).toString();
            JsonObject customer = new JsonObject().put("id", customerId).put("object", "customer")
                    .put("email", checkout.getJsonObject("customer", new JsonObject())
                            .getString("email", "customer@example.com"))
                    .put("name", "Fake Customer").put("country", "NL")
                    .put("created_at", now).put("updated_at", now).put("mode", MODE);
            JsonObject order = new JsonObject().put("object", "order").put("id", orderId).put("customer", customerId)
                    .put("product", product.getString("id")).put("amount", amount)
                    .put("currency", product.getString("currency")).put("sub_total", amount)
                    .put("tax_amount", taxAmount).put("amount_due", amount + taxAmount)
                    .put("amount_paid", amount + taxAmount).put("status", "paid").put("type", "onetime")
                    .put("transaction", transactionId).put("created_at", now).put("updated_at", now)
                    .put("mode", MODE);
            paid = checkout.copy().put("status", "completed").put("order", order).put("customer", customer);
            checkouts.put(checkoutId, paid);
            transactions.put(transactionId, new JsonObject().put("id", transactionId).put("object", "transaction")
                    .put("amount", amount).put("amount_paid", amount + taxAmount).put("discount_amount", 0)
                    .put("currency", product.getString("currency")).put("type", "payment")
                    .put("tax_amount", taxAmount).put("status", "paid").put("refunded_amount", 0)
                    .put("order", orderId).put("customer", customerId).put("checkout", checkoutId)
                    .put("created_at", clock.getAsLong()).put("mode", MODE));
            payment = new Payment(checkoutId, orderId, transactionId, customerId, nextId("evt"),
                    redirectUrl(paid));
        }
        JsonObject object = paid.copy().put("product", products.get(paid.getString("product")).copy());
        applyMismatch(object, mismatch);
        JsonObject event = envelope(payment.eventId(), "checkout.completed", object);
        return deliverPlanned(event).map(payment);
    }

    /** Creem reports a charge-back on a paid checkout: {@code dispute.created}. Completes after delivery. */
    public Future<String> dispute(String checkoutId) {
        JsonObject checkout = checkouts.get(checkoutId);
        if (checkout == null || checkout.getJsonObject("order") == null) {
            return Future.failedFuture(new IllegalArgumentException("no paid checkout " + checkoutId));
        }
        JsonObject order = checkout.getJsonObject("order");
        JsonObject transaction = transactions.get(order.getString("transaction")).put("status", "chargeback");
        JsonObject dispute = new JsonObject().put("id", nextId("disp")).put("object", "dispute")
                .put("amount", order.getLong("amount_paid")).put("currency", order.getString("currency"))
                .put("transaction", transaction.copy())
                .put("checkout", new JsonObject().put("id", checkoutId).put("product", checkout.getString("product"))
                        .put("units", checkout.getLong("units")).put("status", "completed").put("mode", MODE))
                .put("order", order.copy()).put("customer", checkout.getJsonObject("customer").copy())
                .put("created_at", clock.getAsLong()).put("mode", MODE);
        String eventId = nextId("evt");
        return deliverPlanned(envelope(eventId, "dispute.created", dispute)).map(eventId);
    }

    /**
     * Delivers any event, signed like Creem's, under the next plan: to test unknown types, events for unknown orders
     * or hand-made shapes. The envelope is {@code {id, eventType, created_at, object}}.
     */
    public Future<String> sendEvent(String eventType, JsonObject object) {
        String eventId = nextId("evt");
        return deliverPlanned(envelope(eventId, eventType, object)).map(eventId);
    }

    /** The {@code creem-signature} of {@code body} under the configured secret. */
    public String sign(byte[] body) {
        return hmacHex(webhookSecret, body);
    }

    // ---------------------------------------------------------------- HTTP

    private void handle(HttpServerRequest request) {
        request.body().onSuccess(raw -> {
            String path = request.path();
            HttpServerResponse response = request.response();
            if (path.startsWith("/fake/") || path.startsWith("/checkout/")) {
                serveFake(request, response, path);
                return;
            }
            JsonObject body = parseObject(raw);
            // recorded as its answer goes out, so before any webhook the call sets off can reach a receiver
            response.headersEndHandler(v -> requests.add(new RecordedCreemRequest(request.method().name(), path,
                    request.query(), request.getHeader("x-api-key"), body, response.getStatusCode())));
            serveApi(request, response, path, raw, body);
        });
    }

    private int serveApi(HttpServerRequest request, HttpServerResponse response, String path, Buffer raw,
                         JsonObject body) {
        Integer failure = nextFailures.poll();
        if (failure != null) {
            return error(response, failure, reason(failure), List.of("Injected failure"));
        }
        if (!apiKey.equals(request.getHeader("x-api-key"))) {
            return error(response, 403, "Forbidden", null);
        }
        HttpMethod method = request.method();
        if (method == HttpMethod.POST && (raw.length() > 0 && body == null)) {
            return error(response, 400, "Bad Request", List.of("Invalid JSON body"));
        }
        if (method == HttpMethod.POST && path.equals("/v1/checkouts")) {
            return createCheckout(response, body == null ? new JsonObject() : body);
        }
        if (method == HttpMethod.GET && path.equals("/v1/checkouts")) {
            return found(response, checkouts.get(String.valueOf(request.getParam("checkout_id"))), "Checkout");
        }
        if (method == HttpMethod.GET && path.equals("/v1/products")) {
            return found(response, products.get(String.valueOf(request.getParam("product_id"))), "Product");
        }
        if (method == HttpMethod.POST && path.equals("/v1/products")) {
            return createProduct(response, body == null ? new JsonObject() : body);
        }
        if (method == HttpMethod.GET && path.equals("/v1/transactions")) {
            return found(response, transactions.get(String.valueOf(request.getParam("transaction_id"))),
                    "Transaction");
        }
        if (method == HttpMethod.POST && path.equals("/v1/refunds")) {
            return refund(response, body == null ? new JsonObject() : body);
        }
        return error(response, 404, "Not Found", List.of("Cannot " + method + " " + path));
    }

    private int createCheckout(HttpServerResponse response, JsonObject body) {
        List<String> invalid = new ArrayList<>();
        if (!(body.getValue("product_id") instanceof String productId)) {
            return error(response, 400, "Bad Request", List.of("product_id must be a string"));
        }
        Object units = body.getValue("units", 1);
        if (!(units instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue()) || n.longValue() < 1) {
            invalid.add("units must be a positive integer");
        }
        Object successUrl = body.getValue("success_url");
        if (successUrl != null && !(successUrl instanceof String url && url.matches("https?://.+"))) {
            invalid.add("success_url must be a valid URL");
        }
        Object customer = body.getValue("customer");
        if (customer != null && !(customer instanceof JsonObject)) {
            invalid.add("customer must be an object");
        } else if (customer instanceof JsonObject c && c.containsKey("id") && c.containsKey("email")) {
            invalid.add("You may only specify one of these parameters: customer.id, customer.email");
        }
        Object metadata = body.getValue("metadata");
        if (metadata != null && !(metadata instanceof JsonObject)) {
            invalid.add("metadata must be an object");
        }
        Object requestId = body.getValue("request_id");
        if (requestId != null && !(requestId instanceof String)) {
            invalid.add("request_id must be a string");
        }
        if (!invalid.isEmpty()) {
            return error(response, 400, "Bad Request", invalid);
        }
        if (!products.containsKey(productId)) {
            return error(response, 404, "Bad Request", List.of("Product not found"));
        }
        String id = nextId("ch");
        JsonObject checkout = new JsonObject().put("id", id).put("object", "checkout").put("mode", MODE)
                .put("status", "pending").put("product", productId).put("units", ((Number) units).longValue())
                .put("checkout_url", checkoutPageUrl(id))
                .put("success_url", successUrl == null
                        ? products.get(productId).getString("default_success_url") : successUrl);
        if (requestId != null) {
            checkout.put("request_id", requestId);
        }
        if (metadata != null) {
            checkout.put("metadata", metadata);
        }
        if (customer != null) {
            checkout.put("customer", customer);
        }
        checkouts.put(id, checkout);
        return json(response, 200, checkout);
    }

    private int createProduct(HttpServerResponse response, JsonObject body) {
        List<String> invalid = new ArrayList<>();
        if (!(body.getValue("name") instanceof String name) || name.isBlank()) {
            invalid.add("name must be a string");
        }
        if (!(body.getValue("price") instanceof Number price) || price.longValue() < 100) {
            invalid.add("price must not be less than 100");
        }
        if (!(body.getValue("currency") instanceof String currency) || !currency.matches("[A-Z]{3}")) {
            invalid.add("currency must be a valid ISO 4217 code");
        }
        if (!(body.getValue("billing_type") instanceof String)) {
            invalid.add("billing_type must be a string");
        }
        if (!invalid.isEmpty()) {
            return error(response, 400, "Bad Request", invalid);
        }
        String id = nextId("prod");
        JsonObject product = productEntity(id, body.getString("name"), body.getLong("price"),
                body.getString("currency"))
                .put("billing_type", body.getString("billing_type"))
                .put("default_success_url", body.getString("default_success_url"));
        products.put(id, product);
        return json(response, 200, product);
    }

    private int refund(HttpServerResponse response, JsonObject body) {
        if (!(body.getValue("transaction_id") instanceof String transactionId)) {
            return error(response, 400, "Bad Request", List.of("transaction_id must be a string"));
        }
        JsonObject transaction;
        JsonObject refund;
        synchronized (checkouts) {
            transaction = transactions.get(transactionId);
            if (transaction == null) {
                return error(response, 404, "Bad Request", List.of("Transaction not found"));
            }
            if (!"paid".equals(transaction.getString("status"))) {
                return error(response, 400, "Bad Request", List.of("Transaction is not refundable"));
            }
            long refundable = transaction.getLong("amount_paid") - transaction.getLong("refunded_amount");
            transaction.put("status", "refunded").put("refunded_amount", transaction.getLong("amount_paid"));
            JsonObject checkout = checkouts.get(transaction.getString("checkout"));
            JsonObject checkoutRef = new JsonObject().put("id", checkout.getString("id"))
                    .put("object", "checkout").put("product", checkout.getString("product"))
                    .put("units", checkout.getLong("units")).put("status", checkout.getString("status"))
                    .put("mode", MODE);
            if (checkout.containsKey("request_id")) {
                checkoutRef.put("request_id", checkout.getString("request_id"));
            }
            if (checkout.containsKey("metadata")) {
                checkoutRef.put("metadata", checkout.getJsonObject("metadata").copy());
            }
            refund = new JsonObject().put("id", nextId("ref")).put("object", "refund").put("status", "succeeded")
                    .put("refund_amount", refundable).put("refund_currency", transaction.getString("currency"))
                    .put("reason", "requested_by_customer").put("transaction", transaction.copy())
                    .put("checkout", checkoutRef).put("order", checkout.getJsonObject("order").copy())
                    .put("customer", checkout.getJsonObject("customer").copy())
                    .put("created_at", clock.getAsLong()).put("mode", MODE);
        }
        json(response, 200, refund);
        deliverPlanned(envelope(nextId("evt"), "refund.created", refund));
        return 200;
    }

    private void serveFake(HttpServerRequest request, HttpServerResponse response, String path) {
        String[] parts = path.split("/");
        if (request.method() == HttpMethod.GET && parts.length == 3 && parts[1].equals("checkout")) {
            JsonObject checkout = checkouts.get(parts[2]);
            if (checkout == null) {
                response.setStatusCode(404).putHeader("content-type", "text/plain").end("No such checkout");
                return;
            }
            JsonObject product = products.get(checkout.getString("product"));
            response.putHeader("content-type", "text/html; charset=utf-8").end(checkoutPage(checkout, product));
            return;
        }
        if (request.method() == HttpMethod.POST && parts.length == 5 && parts[1].equals("fake")
                && parts[2].equals("checkouts") && (parts[4].equals("pay") || parts[4].equals("dispute"))) {
            String checkoutId = parts[3];
            boolean redirect = "true".equals(request.getParam("redirect"));
            if (parts[4].equals("dispute")) {
                dispute(checkoutId)
                        .onSuccess(eventId -> json(response, 200, new JsonObject().put("event_id", eventId)))
                        .onFailure(e -> json(response, 409, new JsonObject().put("error", e.getMessage())));
                return;
            }
            pay(checkoutId).onSuccess(payment -> {
                if (redirect && payment.redirectUrl() != null) {
                    response.setStatusCode(303).putHeader("location", payment.redirectUrl()).end();
                } else {
                    json(response, 200, payment.toJson());
                }
            }).onFailure(e -> json(response, checkouts.containsKey(checkoutId) ? 409 : 404,
                    new JsonObject().put("error", e.getMessage())));
            return;
        }
        response.setStatusCode(404).end();
    }

    // ---------------------------------------------------------------- webhooks

    private Future<List<WebhookDelivery>> deliverPlanned(JsonObject event) {
        WebhookPlan plan = nextPlans.poll();
        if (plan == null) {
            plan = defaultPlan.get();
        }
        synchronized (held) {
            if (holding) {
                held.add(new Held(event, plan));
                return Future.succeededFuture(List.of());
            }
        }
        return deliver(event, plan);
    }

    private Future<List<WebhookDelivery>> deliver(JsonObject event, WebhookPlan plan) {
        Buffer body = event.toBuffer();
        String eventId = event.getString("id");
        String eventType = event.getString("eventType");
        String rightSignature = hmacHex(webhookSecret, body.getBytes());
        String signature = plan.badSignature() ? hmacHex(webhookSecret + "-wrong", body.getBytes()) : rightSignature;
        String target = webhookUrl;
        if (plan.drop() || target == null) {
            WebhookDelivery dropped = new WebhookDelivery(eventId, eventType, body.toString(), signature,
                    !plan.badSignature(), true, 0, null);
            deliveries.add(dropped);
            return Future.succeededFuture(List.of(dropped));
        }
        Future<Void> start = plan.delayMillis() > 0 ? vertx.timer(plan.delayMillis()).mapEmpty()
                : Future.succeededFuture();
        return start.compose(v -> {
            List<WebhookDelivery> sent = java.util.Collections.synchronizedList(new ArrayList<>());
            if (plan.concurrent()) {
                List<Future<Void>> copies = new ArrayList<>();
                for (int i = 0; i < plan.copies(); i++) {
                    copies.add(attempt(target, body, eventId, eventType, signature, !plan.badSignature(),
                            plan.retries(), sent));
                }
                return Future.join(copies).map(all -> List.copyOf(sent));
            }
            Future<Void> chain = Future.succeededFuture();
            for (int i = 0; i < plan.copies(); i++) {
                chain = chain.compose(x -> attempt(target, body, eventId, eventType, signature, !plan.badSignature(),
                        plan.retries(), sent));
            }
            return chain.map(all -> List.copyOf(sent));
        });
    }

    private Future<Void> attempt(String target, Buffer body, String eventId, String eventType, String signature,
                                 boolean validlySigned, int retriesLeft, List<WebhookDelivery> sent) {
        return client.request(new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(target)
                        .putHeader("content-type", "application/json").putHeader("creem-signature", signature)
                        .setIdleTimeout(30_000))
                .compose(request -> request.send(body))
                .compose(response -> response.body().map(answer -> new WebhookDelivery(eventId, eventType,
                        body.toString(), signature, validlySigned, false, response.statusCode(), answer.toString())))
                .recover(failure -> Future.succeededFuture(new WebhookDelivery(eventId, eventType, body.toString(),
                        signature, validlySigned, false, 0, String.valueOf(failure.getMessage()))))
                .compose(delivery -> {
                    deliveries.add(delivery);
                    sent.add(delivery);
                    if (!delivery.acknowledged() && retriesLeft > 0) {
                        return attempt(target, body, eventId, eventType, signature, validlySigned, retriesLeft - 1,
                                sent);
                    }
                    return Future.succeededFuture();
                });
    }

    // ---------------------------------------------------------------- shapes

    private JsonObject envelope(String eventId, String eventType, JsonObject object) {
        return new JsonObject().put("id", eventId).put("eventType", eventType).put("created_at", clock.getAsLong())
                .put("object", object);
    }

    private static void applyMismatch(JsonObject checkout, Mismatch mismatch) {
        JsonObject order = checkout.getJsonObject("order");
        if (mismatch.requestId() != null) {
            checkout.put("request_id", mismatch.requestId());
        }
        if (mismatch.productId() != null) {
            checkout.getJsonObject("product").put("id", mismatch.productId());
            order.put("product", mismatch.productId());
        }
        if (mismatch.amount() != null) {
            order.put("amount", mismatch.amount()).put("sub_total", mismatch.amount());
        }
        if (mismatch.currency() != null) {
            order.put("currency", mismatch.currency());
        }
        if (mismatch.units() != null) {
            checkout.put("units", mismatch.units());
        }
    }

    private JsonObject productEntity(String id, String name, long price, String currency) {
        String now = java.time.Instant.ofEpochMilli(clock.getAsLong()).toString();
        return new JsonObject().put("id", id).put("object", "product").put("name", name)
                .put("description", name).putNull("image_url").put("price", price).put("currency", currency)
                .put("billing_type", "onetime").put("billing_period", "once").put("status", "active")
                .put("tax_mode", "exclusive").put("tax_category", "saas").putNull("default_success_url")
                .put("created_at", now).put("updated_at", now).put("mode", MODE);
    }

    /** The success URL with Creem's query (spec §3), signed with the API key; {@code null} without a URL. */
    private String redirectUrl(JsonObject checkout) {
        String successUrl = checkout.getString("success_url");
        if (successUrl == null) {
            return null;
        }
        Map<String, String> params = new LinkedHashMap<>();
        params.put("checkout_id", checkout.getString("id"));
        params.put("order_id", checkout.getJsonObject("order").getString("id"));
        params.put("customer_id", checkout.getJsonObject("customer").getString("id"));
        params.put("product_id", checkout.getString("product"));
        if (checkout.getString("request_id") != null) {
            params.put("request_id", checkout.getString("request_id"));
        }
        params.put("signature", returnSignature(params, apiKey));
        StringBuilder url = new StringBuilder(successUrl).append(URI.create(successUrl).getRawQuery() == null
                ? '?' : '&');
        params.forEach((key, value) -> url.append(key).append('=')
                .append(URLEncoder.encode(value, StandardCharsets.UTF_8)).append('&'));
        url.setLength(url.length() - 1);
        return url.toString();
    }

    /** SHA-256 hex of {@code k=v|...|salt=<apiKey>} in the params' order (spec §3). */
    public static String returnSignature(Map<String, String> params, String apiKey) {
        List<String> parts = new ArrayList<>();
        params.forEach((key, value) -> parts.add(key + "=" + value));
        parts.add("salt=" + apiKey);
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest(String.join("|", parts).getBytes(StandardCharsets.UTF_8));
            return HEX.formatHex(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hmacHex(String secret, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return HEX.formatHex(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private String checkoutPage(JsonObject checkout, JsonObject product) {
        String id = checkout.getString("id");
        long total = product.getLong("price") * checkout.getLong("units");
        String state = checkout.getString("status");
        return "<!doctype html><html><head><title>Fake Creem checkout</title></head><body>"
                + "<h1>" + escape(product.getString("name")) + "</h1>"
                + "<p id=\"units\">" + checkout.getLong("units") + " x " + product.getLong("price") + " "
                + escape(product.getString("currency")) + "</p>"
                + "<p id=\"total\">" + total + " " + escape(product.getString("currency")) + "</p>"
                + "<p id=\"status\">" + escape(state) + "</p>"
                + ("pending".equals(state)
                ? "<form method=\"post\" action=\"/fake/checkouts/" + escape(id) + "/pay?redirect=true\">"
                + "<button id=\"pay\" type=\"submit\">Pay</button></form>" : "")
                + "</body></html>";
    }

    private static String escape(String text) {
        return text == null ? "" : text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("\"", "&quot;");
    }

    private int found(HttpServerResponse response, JsonObject entity, String what) {
        return entity == null ? error(response, 404, "Bad Request", List.of(what + " not found"))
                : json(response, 200, entity.copy());
    }

    private int error(HttpServerResponse response, int status, String error, List<String> messages) {
        long n = counters.computeIfAbsent("trace", k -> new AtomicLong()).incrementAndGet();
        JsonObject body = new JsonObject().put("trace_id", String.format("00000000-0000-4000-8000-%012d", n))
                .put("status", status).put("error", error).put("timestamp", clock.getAsLong());
        if (messages != null) {
            body.put("message", new JsonArray(messages));
        }
        return json(response, status, body);
    }

    private static int json(HttpServerResponse response, int status, JsonObject body) {
        response.setStatusCode(status).putHeader("content-type", "application/json").end(body.toBuffer());
        return status;
    }

    private static String reason(int status) {
        return switch (status) {
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 429 -> "Too Many Requests";
            case 502 -> "Bad Gateway";
            case 503 -> "Service Unavailable";
            default -> status >= 500 ? "Internal Server Error" : "Error";
        };
    }

    private String nextId(String prefix) {
        long n = counters.computeIfAbsent(prefix, k -> new AtomicLong()).incrementAndGet();
        return String.format("%s_fake%s%06d", prefix, idTag, n);
    }

    private static JsonObject parseObject(Buffer raw) {
        if (raw == null || raw.length() == 0) {
            return null;
        }
        try {
            return new JsonObject(raw);
        } catch (RuntimeException notAnObject) {
            return null;
        }
    }

    private record Held(JsonObject event, WebhookPlan plan) {
    }

    /**
     * Runs the fake stand-alone so a developer can click through a top-up with no Creem account ({@code scripts/corouter
     * up} does this): {@code java ... FakeCreem --port=8091 --webhook-url=http://127.0.0.1:8080/webhooks/payments/creem
     * --api-key=creem_test_x --webhook-secret=whsec_x}. It sells {@code prod_dev_usd5/10/25} ($5, $10, $25) and
     * {@code prod_dev_usd1} ($1 a unit); its ids carry a start-time tag so they never repeat against a kept database.
     */
    public static void main(String[] args) {
        Map<String, String> flags = new LinkedHashMap<>();
        for (String arg : args) {
            if (!arg.startsWith("--") || !arg.contains("=")) {
                throw new IllegalArgumentException("expected --name=value, got: " + arg);
            }
            flags.put(arg.substring(2, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
        }
        int port = Integer.parseInt(flags.getOrDefault("port", "8091"));
        FakeCreem creem = new FakeCreem().idTag(Long.toString(System.currentTimeMillis(), 36))
                .apiKey(flags.getOrDefault("api-key", "creem_test_fake"))
                .webhookSecret(flags.getOrDefault("webhook-secret", "whsec_fake"))
                .product("prod_dev_usd5", "$5 of corouter credit", 500, "USD")
                .product("prod_dev_usd10", "$10 of corouter credit", 1000, "USD")
                .product("prod_dev_usd25", "$25 of corouter credit", 2500, "USD")
                .product("prod_dev_usd1", "$1 of corouter credit", 100, "USD");
        if (flags.containsKey("webhook-url")) {
            creem.webhookUrl(flags.get("webhook-url"));
        }
        Vertx vertx = Vertx.vertx();
        creem.start(vertx, port)
                .onSuccess(c -> System.out.println("fake Creem listening on " + c.baseUrl()))
                .onFailure(failure -> {
                    System.err.println("fake Creem failed to start: " + failure.getMessage());
                    vertx.close();
                    System.exit(1);
                });
    }
}
