package co.corouter.server.payments;

import co.corouter.server.common.Timestamps;
import co.corouter.plugin.api.ProviderContext.SecretResolver;
import co.corouter.plugin.api.payment.CheckoutRequest;
import co.corouter.plugin.api.payment.CheckoutStatus;
import co.corouter.plugin.api.payment.Offer;
import co.corouter.plugin.api.payment.PaymentContext;
import co.corouter.plugin.api.payment.PaymentEvent;
import co.corouter.plugin.api.payment.PaymentException;
import co.corouter.plugin.api.payment.PaymentGateway;
import co.corouter.plugin.api.payment.PaymentProcessor;
import co.corouter.plugin.api.payment.WebhookRefusal;
import co.corouter.server.accounts.AccountsContract;
import co.corouter.server.billing.BillingContract;
import co.corouter.server.billing.LedgerRepository;
import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import co.corouter.server.common.Ids;
import co.corouter.server.common.Money;
import co.corouter.server.config.ServerOptions.PaymentOptions;
import co.corouter.server.metering.MeteringContract;
import co.corouter.server.payments.OrderBook.Applied;
import co.corouter.server.payments.OrderBook.Order;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.security.SecureRandom;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The payments context: sells credit top-ups through the configured {@link PaymentGateway}s and turns their verified
 * webhooks (and, for late or lost ones, the reconciliation job's checkout lookups) into ledger movements through the
 * {@link OrderBook}. Nothing here trusts the browser or an event's amounts: the order says what is credited.
 *
 * <p>Every method runs on an event loop and returns at once.
 */
public final class Payments {

    private static final Logger log = LoggerFactory.getLogger(Payments.class);

    /** What the webhook endpoint answers the processor: 2xx stops its retries, anything else asks for another. */
    public record WebhookAnswer(int status, String outcome) {
    }

    private final Vertx vertx;
    private final OrderBook orders;
    private final LedgerRepository ledger;
    private final BillingContract.Credits credits;
    private final Map<String, PaymentGateway> gateways;
    private final PaymentOptions options;
    private final Supplier<String> publicUrl;
    private final SecureRandom random = new SecureRandom();

    public Payments(Vertx vertx, OrderBook orders, LedgerRepository ledger, BillingContract.Credits credits,
            Map<String, PaymentGateway> gateways, PaymentOptions options, Supplier<String> publicUrl) {
        this.vertx = vertx;
        this.orders = orders;
        this.ledger = ledger;
        this.credits = credits;
        this.gateways = gateways;
        this.options = options;
        this.publicUrl = publicUrl;
    }

    /**
     * Builds a gateway for every instance in {@code options.instances()} from the processor plugin of its type, in
     * configuration order. An instance whose type no plugin serves, or whose configuration is invalid, fails: a node
     * that would take money but cannot must not run. Blocking (plugin factories may be): call it on a worker.
     */
    public static Map<String, PaymentGateway> gateways(Vertx vertx, Map<String, PaymentProcessor> processors,
            PaymentOptions options, SecretResolver secrets) {
        Map<String, PaymentGateway> gateways = new LinkedHashMap<>();
        options.instances().forEach(entry -> {
            String name = entry.getKey();
            if (!name.matches("[a-z0-9][a-z0-9_-]{0,39}")) {
                throw new IllegalArgumentException("payments." + name + ": an instance name is lower-case letters, "
                        + "digits, '-' and '_' (it is the webhook path /webhooks/payments/<name>)");
            }
            JsonObject instance = (JsonObject) entry.getValue();
            String type = instance.getString("type");
            PaymentProcessor processor = processors.get(type);
            if (processor == null) {
                throw new IllegalArgumentException("payments." + name + ".type: no payment plugin serves type '" + type
                        + "' (loaded: " + processors.keySet() + ")");
            }
            try {
                gateways.put(name, processor.create(new PaymentContext(vertx, name, secrets),
                        instance.getJsonObject("config", new JsonObject())));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("payments." + name + ".config: " + e.getMessage(), e);
            }
            log.info("payment instance '{}' ({}) ready; webhooks at /webhooks/payments/{}", name, type, name);
        });
        return java.util.Collections.unmodifiableMap(gateways);
    }

    /** The instance that sells top-ups in the console (the first configured), or null. */
    public String processor() {
        return gateways.isEmpty() ? null : gateways.keySet().iterator().next();
    }

    /** The top-up instance's USD offers: credit is in US dollars. */
    public List<Offer> offers() {
        String name = processor();
        if (name == null) {
            return List.of();
        }
        return gateways.get(name).offers().stream().filter(o -> o.unitPrice().currency().equals("USD")).toList();
    }

    long maxUnits(Offer offer) {
        if (!offer.unitsAllowed()) {
            return 1;
        }
        return Math.max(1, options.maxTopUpNanos() / (offer.unitPrice().minorUnits() * OrderBook.NANOS_PER_CENT));
    }

    public JsonObject offersJson() {
        JsonArray list = new JsonArray();
        for (Offer offer : offers()) {
            list.add(new JsonObject().put("key", offer.key())
                    .put("price_usd", Money.toUsdText(offer.unitPrice().minorUnits() * OrderBook.NANOS_PER_CENT))
                    .put("units_allowed", offer.unitsAllowed()).put("max_units", maxUnits(offer)));
        }
        return new JsonObject().put("processor", processor()).put("offers", list);
    }

    // ------------------------------------------------------------------------------------------------ top-ups

    /**
     * Opens an order and its checkout. The order is stored, pending, before the processor is asked, so a webhook for it
     * always finds it; if the checkout cannot be opened the order fails and nothing was charged.
     */
    public Future<JsonObject> topUp(long accountId, String email, Object offerKey, Object unitsValue) {
        String name = processor();
        if (name == null) {
            return Future.failedFuture(new ApiException(ErrorCodes.UNAVAILABLE,
                    "top-ups are not enabled on this deployment (no payments: section in corouter.yaml)"));
        }
        if (!(offerKey instanceof String key)) {
            return Future.failedFuture(field("offer", "'offer' must be the key of one of /api/billing/offers"));
        }
        Offer offer = offers().stream().filter(o -> o.key().equals(key)).findFirst().orElse(null);
        if (offer == null) {
            return Future.failedFuture(field("offer", "no offer '" + printable(key) + "'"));
        }
        long units;
        if (unitsValue == null) {
            units = 1;
        } else if (unitsValue instanceof Integer || unitsValue instanceof Long) {
            units = ((Number) unitsValue).longValue();
        } else {
            return Future.failedFuture(field("units", "'units' must be a whole number"));
        }
        long max = maxUnits(offer);
        if (units < 1 || units > max) {
            return Future.failedFuture(field("units", offer.unitsAllowed()
                    ? "'units' must be between 1 and " + max : "offer '" + key + "' is bought one at a time"));
        }
        co.corouter.plugin.api.payment.Money amount = offer.unitPrice().times(units);
        long creditNanos = Math.multiplyExact(amount.minorUnits(), OrderBook.NANOS_PER_CENT);
        String orderId = "ord_" + Ids.random(random, 24);
        Order order = new Order(orderId, accountId, name, offer.key(), offer.productId(), units,
                amount.minorUnits(), amount.currency(), creditNanos, "pending", null, null, null, 0, null, null);
        return ledger.frozen(accountId).compose(frozen -> {
            if (frozen) {
                return Future.failedFuture(new ApiException(ErrorCodes.FORBIDDEN, "account frozen: a payment of this "
                        + "account was reversed after its credit was spent; the operator must settle it first"));
            }
            return orders.pendingCount(accountId);
        }).compose(pending -> {
            if (pending >= options.maxPendingOrders()) {
                return Future.failedFuture(new ApiException(ErrorCodes.RATE_LIMITED, "too many unpaid top-ups are "
                        + "open: pay or abandon one first (they expire after " + options.expireAfterHours() + " h)"));
            }
            return orders.insert(order);
        }).compose(v -> gateways.get(name).createCheckout(new CheckoutRequest(orderId, offer.productId(), units,
                        amount, URI.create(publicUrl.get() + "/billing/return/" + name), email,
                        Map.of("corouter_order", orderId)))
                .recover(failure -> orders.markFailed(orderId).transform(ignored -> {
                    log.warn("payment instance '{}': checkout for order {} failed: {}", name, orderId,
                            failure.getMessage());
                    return Future.failedFuture(new ApiException(ErrorCodes.BAD_GATEWAY,
                            "the payment processor could not open a checkout: " + (failure instanceof PaymentException
                                    ? failure.getMessage() : "unexpected failure")));
                }))
                .compose(checkout -> orders.attachCheckout(orderId, checkout.checkoutId()).compose(x -> {
                    log.info("order {} of account {} opened: {} x {} = {} (checkout {})", orderId, accountId,
                            units, offer.key(), amount, checkout.checkoutId());
                    return orders.find(accountId, orderId).compose(this::orderJson)
                            .map(json -> new JsonObject().put("order", json)
                                    .put("checkout_url", checkout.checkoutUrl()));
                })));
    }

    private static ApiException field(String name, String message) {
        return new ApiException(ErrorCodes.BAD_REQUEST, message,
                new JsonObject().put("fields", new JsonObject().put(name, message)));
    }

    private static String printable(String value) {
        String cut = value.length() > 40 ? value.substring(0, 40) + "…" : value;
        return cut.replaceAll("[^\\p{Print}]", "?");
    }

    public Future<JsonObject> order(long accountId, String orderId) {
        return orders.find(accountId, orderId).compose(order -> {
            if (order == null) {
                return Future.failedFuture(new ApiException(ErrorCodes.NOT_FOUND, "no such order"));
            }
            return orderJson(order);
        });
    }

    public Future<List<Order>> orders(long accountId, OffsetDateTime beforeAt, String beforeId, int limit) {
        return orders.list(accountId, beforeAt, beforeId, limit);
    }

    public Future<JsonObject> orderJson(Order order) {
        return orders.events(order.id()).map(events -> {
            JsonArray list = new JsonArray();
            events.forEach(e -> list.add(new JsonObject()
                    .put("kind", e.kind().equals("payment") ? "paid" : e.kind())
                    .put("outcome", e.outcome())
                    .put("amount_usd", Money.toUsdText(e.kind().equals("payment") ? e.amount() : -e.amount()))
                    .put("at", Timestamps.iso(e.at()))));
            return summary(order).put("events", list);
        });
    }

    /** An order without its events, for lists. */
    public static JsonObject summary(Order order) {
        return new JsonObject().put("id", order.id()).put("state", order.state()).put("offer", order.offerKey())
                .put("product_id", order.productId()).put("units", order.units())
                .put("amount_minor", order.amountMinor()).put("currency", order.currency())
                .put("amount_text", amountText(order.amountMinor(), order.currency()))
                .put("credit_usd", Money.toUsdText(order.credits()))
                .put("clawed_back_usd", Money.toUsdText(order.clawedBack()))
                .put("processor", order.processor()).put("checkout_id", order.checkoutId())
                .put("processor_order_id", order.processorOrderId())
                .put("created_at", Timestamps.iso(order.createdAt()))
                .put("paid_at", Timestamps.iso(order.paidAt()));
    }

    static String amountText(long minor, String currency) {
        String digits = java.math.BigDecimal.valueOf(minor, 2).toPlainString();
        return switch (currency) {
            case "USD" -> "$" + digits;
            case "EUR" -> "€" + digits;
            default -> digits + " " + currency;
        };
    }

    // ------------------------------------------------------------------------------------------------ webhooks

    /**
     * One webhook delivery to {@code /webhooks/payments/<instance>}: verified on its raw bytes by the gateway, then
     * applied once. Refusals and events that move nothing get a log line naming why (never the body or a secret).
     */
    public Future<WebhookAnswer> webhook(String instance, Buffer rawBody, MultiMap headers) {
        PaymentGateway gateway = gateways.get(instance);
        if (gateway == null) {
            return Future.succeededFuture(new WebhookAnswer(404, "no such payment instance"));
        }
        return gateway.verifyWebhook(rawBody, headers).compose(result -> {
            if (result instanceof WebhookRefusal refusal) {
                log.warn("payment webhook to '{}' refused ({}): {}", instance, refusal.reason(), refusal.detail());
                int status = switch (refusal.reason()) {
                    case BAD_SIGNATURE -> 401;
                    case MALFORMED -> 400;
                    case UNKNOWN_TYPE -> 200;
                };
                return Future.succeededFuture(new WebhookAnswer(status, refusal.reason().name().toLowerCase()));
            }
            PaymentEvent event = (PaymentEvent) result;
            return orders.apply(instance, event).map(applied -> {
                announce(instance, event.eventId(), event.rawType(), applied);
                return new WebhookAnswer(200, applied.outcome());
            });
        });
    }

    private void announce(String instance, String eventId, String rawType, Applied applied) {
        switch (applied.outcome()) {
            case "unknown_order", "mismatch" -> log.warn("payment event {} ({}) to '{}' moves no money: {}: {}",
                    eventId, rawType, instance, applied.outcome(), applied.detail());
            case "duplicate" -> log.debug("payment event {} to '{}' was applied before", eventId, instance);
            default -> log.info("payment event {} ({}) to '{}': {} order {} of account {} (credited {}, clawed back "
                            + "{}, owed {} nano-USD){}", eventId, rawType, instance, applied.outcome(),
                    applied.orderId(), applied.accountId(), applied.credited(), applied.clawedBack(), applied.owed(),
                    applied.frozen() ? "; the wallet is FROZEN" : "");
        }
        if (!applied.moved() && !"deferred".equals(applied.outcome())) {
            return;
        }
        long account = applied.accountId();
        vertx.eventBus().publish(BillingContract.CREDIT_CHANGED, new BillingContract.CreditChanged(account));
        if (applied.frozen()) {
            vertx.eventBus().publish(AccountsContract.KEYS_CHANGED, new AccountsContract.KeysChanged(account));
        }
        credits.balance(account).onSuccess(balance -> vertx.eventBus().publish(MeteringContract.consoleFeed(account),
                new JsonObject().put("type", "billing").put("order_id", applied.orderId())
                        .put("state", applied.orderState()).put("balance_usd", Money.toUsdText(balance.balance()))));
    }

    /**
     * The browser came back from the checkout to {@code /billing/return/<instance>?…}. A valid signature is a reason to
     * ask the processor now rather than wait for the webhook; the credit still comes only from what the processor says.
     *
     * @return the order's id, or null when the query names no order of this instance
     */
    public Future<String> returned(String instance, String rawQuery) {
        PaymentGateway gateway = gateways.get(instance);
        if (gateway == null) {
            return Future.succeededFuture(null);
        }
        return gateway.verifyReturn(rawQuery == null ? "" : rawQuery).compose(back -> {
            if (back.orderId() == null) {
                return Future.succeededFuture(null);
            }
            return orders.find(instance, back.orderId()).compose(order -> {
                if (order == null) {
                    log.warn("return to '{}' names unknown order {}", instance, printable(back.orderId()));
                    return Future.succeededFuture(null);
                }
                if (!back.signatureValid()) {
                    log.warn("return to '{}' for order {} has a bad signature: showing the order, not reconciling",
                            instance, order.id());
                    return Future.succeededFuture(order.id());
                }
                if (!"pending".equals(order.state()) || order.checkoutId() == null) {
                    return Future.succeededFuture(order.id());
                }
                return reconcile(order).transform(ignored -> Future.succeededFuture(order.id()));
            });
        });
    }

    // ------------------------------------------------------------------------------------------------ reconciliation

    /** Asks the processor about one pending order and applies what it says (a paid checkout credits once). */
    public Future<Applied> reconcile(Order order) {
        PaymentGateway gateway = gateways.get(order.processor());
        if (gateway == null || order.checkoutId() == null) {
            return Future.succeededFuture(null);
        }
        return gateway.lookupCheckout(order.checkoutId()).compose(status -> {
            if (status.state() == CheckoutStatus.State.PAID) {
                PaymentEvent event = new PaymentEvent("reconcile:" + status.checkoutId(), PaymentEvent.Type.PAYMENT,
                        "checkout.lookup", status.orderId() == null ? order.id() : status.orderId(),
                        status.checkoutId(), status.processorOrderId(), status.paymentId(), status.productId(),
                        status.units(), status.amount(), null, java.time.Instant.now());
                return orders.apply(order.processor(), event).map(applied -> {
                    announce(order.processor(), event.eventId(), event.rawType(), applied);
                    return applied;
                });
            }
            if (order.createdAt().isBefore(OffsetDateTime.now().minusHours(options.expireAfterHours()))) {
                return orders.expire(order.id()).map(expired -> {
                    if (expired) {
                        log.info("order {} expired unpaid (checkout {} is {})", order.id(), order.checkoutId(),
                                status.rawStatus());
                    }
                    return (Applied) null;
                });
            }
            return Future.succeededFuture((Applied) null);
        });
    }

    /** One pass of the reconciliation job: every order pending for longer than the configured wait. */
    public Future<Integer> reconcilePending() {
        if (gateways.isEmpty()) {
            return Future.succeededFuture(0);
        }
        return orders.pending(options.reconcileAfterSeconds(), 200).compose(pending -> {
            Future<Integer> chain = Future.succeededFuture(0);
            for (Order order : pending) {
                chain = chain.compose(done -> reconcile(order)
                        .map(applied -> done + (applied != null && applied.credited() > 0 ? 1 : 0))
                        .recover(failure -> {
                            log.warn("reconciling order {}: {}", order.id(), failure.getMessage());
                            return Future.succeededFuture(done);
                        }));
            }
            return chain;
        });
    }

    public PaymentOptions options() {
        return options;
    }

    /** Releases every gateway's clients. */
    public Future<Void> close() {
        List<Future<Void>> closing = new ArrayList<>();
        gateways.values().forEach(g -> closing.add(g.close()));
        return Future.join(closing).mapEmpty();
    }
}
