package co.corouter.server.payments;

import co.corouter.plugin.api.payment.Money;
import co.corouter.plugin.api.payment.PaymentEvent;
import co.corouter.server.billing.LedgerRepository;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.math.BigInteger;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;

/**
 * Orders and what verified payment events do to them, in PostgreSQL. Every event is applied in one transaction that
 * first claims its id in {@code payment_events} (a duplicate, however many arrive at once, finds the id taken and does
 * nothing), then locks the order, checks the event against it and moves money through the ledger:
 * <ul>
 *   <li>a payment moves the order pending (or expired/failed: the customer did pay) → paid with one conditional
 *       update, and only that update credits — the order's credits, never an amount from the event;</li>
 *   <li>a refund or dispute claws back the order's credits in proportion to the amount reversed, never more than is
 *       left; credit that is spent or leased is owed and freezes the wallet, never a negative balance;</li>
 *   <li>a refund that arrives before its payment (webhooks are unordered) is kept, deferred, and applied when the
 *       payment is credited.</li>
 * </ul>
 * Product, units, currency and amount must equal the order's, or nothing moves and the event is recorded as a mismatch.
 */
public final class OrderBook {

    /** One USD cent in nano-dollars: a processor's minor units of USD to corouter's credit. */
    static final long NANOS_PER_CENT = 10_000_000L;

    /** An order as stored. */
    public record Order(String id, long accountId, String processor, String offerKey, String productId, long units,
                        long amountMinor, String currency, long credits, String state, String checkoutId,
                        String processorOrderId, String paymentId, long clawedBack, OffsetDateTime createdAt,
                        OffsetDateTime paidAt) {
    }

    /** An event's effect on an order. */
    public record OrderEvent(String kind, String outcome, long amount, OffsetDateTime at) {
    }

    /** What applying one event did; {@code accountId} is 0 and {@code orderId} null when it matched no order. */
    public record Applied(String outcome, String orderId, long accountId, String orderState, long credited,
                          long clawedBack, long owed, boolean frozen, String detail) {

        boolean duplicate() {
            return "duplicate".equals(outcome);
        }

        /** Whether the account's balance changed. */
        public boolean moved() {
            return credited > 0 || clawedBack > 0 || owed > 0;
        }
    }

    private static final String ORDER_COLUMNS = "id, account_id, processor, offer_key, product_id, units, amount_minor, "
            + "currency, credits, state, checkout_id, processor_order_id, payment_id, clawed_back, created_at, paid_at";

    private final Pool pool;
    private final LedgerRepository ledger;

    public OrderBook(Pool pool, LedgerRepository ledger) {
        this.pool = pool;
        this.ledger = ledger;
    }

    static Order order(Row row) {
        return new Order(row.getString(0), row.getLong(1), row.getString(2), row.getString(3), row.getString(4),
                row.getLong(5), row.getLong(6), row.getString(7), row.getLong(8), row.getString(9), row.getString(10),
                row.getString(11), row.getString(12), row.getLong(13), row.getOffsetDateTime(14),
                row.getOffsetDateTime(15));
    }

    // ------------------------------------------------------------------------------------------------ orders

    public Future<Void> insert(Order order) {
        return pool.preparedQuery("""
                        INSERT INTO payment_orders (id, account_id, processor, offer_key, product_id, units, amount_minor,
                                                    currency, credits)
                        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""")
                .execute(Tuple.from(new Object[] {order.id(), order.accountId(), order.processor(), order.offerKey(),
                        order.productId(), order.units(), order.amountMinor(), order.currency(), order.credits()}))
                .mapEmpty();
    }

    /** Orders of the account still waiting for their payment, opened in the last day. */
    public Future<Integer> pendingCount(long accountId) {
        return pool.preparedQuery("""
                        SELECT count(*)::int FROM payment_orders
                        WHERE account_id = $1 AND state = 'pending' AND created_at > now() - interval '1 day'""")
                .execute(Tuple.of(accountId)).map(rows -> rows.iterator().next().getInteger(0));
    }

    public Future<Void> attachCheckout(String orderId, String checkoutId) {
        return pool.preparedQuery("UPDATE payment_orders SET checkout_id = $2, updated_at = now() WHERE id = $1")
                .execute(Tuple.of(orderId, checkoutId)).mapEmpty();
    }

    /** A checkout that could not be opened: the order can never be paid. */
    public Future<Void> markFailed(String orderId) {
        return pool.preparedQuery("""
                        UPDATE payment_orders SET state = 'failed', updated_at = now()
                        WHERE id = $1 AND state = 'pending'""")
                .execute(Tuple.of(orderId)).mapEmpty();
    }

    /** A pending order whose checkout the processor no longer offers; a late payment would still credit it. */
    public Future<Boolean> expire(String orderId) {
        return pool.preparedQuery("""
                        UPDATE payment_orders SET state = 'expired', updated_at = now()
                        WHERE id = $1 AND state = 'pending' RETURNING id""")
                .execute(Tuple.of(orderId)).map(rows -> rows.size() == 1);
    }

    /** The account's order, or null. */
    public Future<Order> find(long accountId, String orderId) {
        return pool.preparedQuery("SELECT " + ORDER_COLUMNS + " FROM payment_orders WHERE id = $1 AND account_id = $2")
                .execute(Tuple.of(orderId, accountId))
                .map(rows -> rows.size() == 0 ? null : order(rows.iterator().next()));
    }

    /** The processor's order by our id, or null. */
    public Future<Order> find(String processor, String orderId) {
        return pool.preparedQuery("SELECT " + ORDER_COLUMNS + " FROM payment_orders WHERE id = $1 AND processor = $2")
                .execute(Tuple.of(orderId, processor))
                .map(rows -> rows.size() == 0 ? null : order(rows.iterator().next()));
    }

    /** The account's orders, newest first, strictly before ({@code beforeAt}, {@code beforeId}) when given. */
    public Future<List<Order>> list(long accountId, OffsetDateTime beforeAt, String beforeId, int limit) {
        String after = beforeAt == null ? "" : " AND created_at <= $3 AND (created_at, id) < ($3, $4)";
        return pool.preparedQuery("SELECT " + ORDER_COLUMNS + " FROM payment_orders WHERE account_id = $1" + after
                        + " ORDER BY created_at DESC, id DESC LIMIT $2")
                .execute(beforeAt == null ? Tuple.of(accountId, limit) : Tuple.of(accountId, limit, beforeAt, beforeId))
                .map(rows -> {
                    List<Order> list = new ArrayList<>(rows.rowCount());
                    rows.forEach(row -> list.add(order(row)));
                    return list;
                });
    }

    /** What moved money on the order, oldest first. */
    public Future<List<OrderEvent>> events(String orderId) {
        return pool.preparedQuery("""
                        SELECT type, outcome, amount, received_at FROM payment_events
                        WHERE order_id = $1 AND outcome IN ('credited', 'clawed_back', 'deferred')
                        ORDER BY received_at, event_id""")
                .execute(Tuple.of(orderId))
                .map(rows -> {
                    List<OrderEvent> list = new ArrayList<>();
                    rows.forEach(row -> list.add(new OrderEvent(row.getString(0), row.getString(1), row.getLong(2),
                            row.getOffsetDateTime(3))));
                    return list;
                });
    }

    /** Orders still pending whose checkout was opened more than {@code olderThanSeconds} ago, oldest first. */
    public Future<List<Order>> pending(int olderThanSeconds, int limit) {
        return pool.preparedQuery("SELECT " + ORDER_COLUMNS + " FROM payment_orders WHERE state = 'pending' "
                        + "AND checkout_id IS NOT NULL AND created_at < now() - $1::int * interval '1 second' "
                        + "ORDER BY created_at LIMIT $2")
                .execute(Tuple.of(olderThanSeconds, limit))
                .map(rows -> {
                    List<Order> list = new ArrayList<>();
                    rows.forEach(row -> list.add(order(row)));
                    return list;
                });
    }

    // ------------------------------------------------------------------------------------------------ events

    /** Applies one verified event of {@code processor}, exactly once per event id. */
    public Future<Applied> apply(String processor, PaymentEvent event) {
        return pool.withTransaction(tx -> tx.preparedQuery("""
                        INSERT INTO payment_events (processor, event_id, type, raw_type, outcome)
                        VALUES ($1, $2, $3, $4, 'processing') ON CONFLICT DO NOTHING RETURNING event_id""")
                .execute(Tuple.of(processor, event.eventId(), kind(event.type()),
                        event.rawType() == null ? "" : event.rawType()))
                .compose(claimed -> {
                    if (claimed.size() == 0) {
                        return Future.succeededFuture(new Applied("duplicate", event.orderId(), 0, null, 0, 0, 0,
                                false, "event " + event.eventId() + " was applied before"));
                    }
                    return lockOrder(tx, processor, event).compose(order -> act(tx, processor, event, order))
                            .compose(applied -> record(tx, processor, event, applied).map(applied));
                }));
    }

    private static String kind(PaymentEvent.Type type) {
        return type.name().toLowerCase(java.util.Locale.ROOT);
    }

    private Future<Order> lockOrder(SqlConnection tx, String processor, PaymentEvent event) {
        if (event.orderId() == null && event.checkoutId() == null && event.processorOrderId() == null) {
            return Future.succeededFuture(null);
        }
        return tx.preparedQuery("SELECT " + ORDER_COLUMNS + " FROM payment_orders WHERE processor = $1 AND "
                        + "(id = $2 OR checkout_id = $3 OR processor_order_id = $4) ORDER BY (id = $2) DESC LIMIT 1 "
                        + "FOR UPDATE")
                .execute(Tuple.of(processor, event.orderId(), event.checkoutId(), event.processorOrderId()))
                .map(rows -> rows.size() == 0 ? null : order(rows.iterator().next()));
    }

    private Future<Applied> act(SqlConnection tx, String processor, PaymentEvent event, Order order) {
        if (event.type() == PaymentEvent.Type.IGNORED) {
            return Future.succeededFuture(new Applied("ignored", order == null ? null : order.id(),
                    order == null ? 0 : order.accountId(), order == null ? null : order.state(), 0, 0, 0, false,
                    "event type " + event.rawType() + " needs nothing"));
        }
        if (order == null) {
            return Future.succeededFuture(new Applied("unknown_order", null, 0, null, 0, 0, 0, false,
                    "no order " + event.orderId() + " (checkout " + event.checkoutId() + ") of " + processor));
        }
        if (event.orderId() != null && !event.orderId().equals(order.id())) {
            return Future.succeededFuture(new Applied("mismatch", order.id(), order.accountId(), order.state(), 0, 0, 0,
                    false, "the event names order " + event.orderId() + " but its checkout is order " + order.id()));
        }
        return switch (event.type()) {
            case PAYMENT -> pay(tx, processor, event, order);
            case REFUND, DISPUTE -> reverse(tx, processor, event, order);
            case IGNORED -> throw new IllegalStateException();
        };
    }

    private Future<Applied> pay(SqlConnection tx, String processor, PaymentEvent event, Order order) {
        String mismatch = paymentMismatch(event, order);
        if (mismatch != null) {
            return Future.succeededFuture(new Applied("mismatch", order.id(), order.accountId(), order.state(), 0, 0,
                    0, false, mismatch));
        }
        return tx.preparedQuery("""
                        UPDATE payment_orders SET state = 'paid', paid_at = now(), updated_at = now(),
                            checkout_id = coalesce(checkout_id, $2), processor_order_id = coalesce($3, processor_order_id),
                            payment_id = coalesce($4, payment_id)
                        WHERE id = $1 AND state IN ('pending', 'expired', 'failed') RETURNING id""")
                .execute(Tuple.of(order.id(), event.checkoutId(), event.processorOrderId(), event.paymentId()))
                .compose(moved -> {
                    if (moved.size() == 0) {
                        return Future.succeededFuture(new Applied("already_paid", order.id(), order.accountId(),
                                order.state(), 0, 0, 0, false, "order " + order.id() + " is " + order.state()));
                    }
                    return ledger.topUp(tx, order.accountId(), order.credits(), order.id(),
                                    "top-up " + order.id() + " (" + order.amountMinor() + " " + order.currency() + ")")
                            .compose(balance -> {
                                Applied credited = new Applied("credited", order.id(), order.accountId(), "paid",
                                        balance.isPresent() ? order.credits() : 0, 0, 0, false, "");
                                Order paid = withState(order, "paid", order.clawedBack());
                                return applyDeferred(tx, processor, paid, credited);
                            });
                });
    }

    /** Why a payment does not match the order, or null when it does. */
    static String paymentMismatch(PaymentEvent event, Order order) {
        if (event.productId() == null || !event.productId().equals(order.productId())) {
            return "product " + event.productId() + " is not the order's " + order.productId();
        }
        if (event.units() != order.units()) {
            return "units " + event.units() + " are not the order's " + order.units();
        }
        Money amount = event.amount();
        if (amount == null || !amount.currency().equals(order.currency())) {
            return "currency " + (amount == null ? null : amount.currency()) + " is not the order's " + order.currency();
        }
        if (amount.minorUnits() != order.amountMinor()) {
            return "amount " + amount.minorUnits() + " is not the order's " + order.amountMinor();
        }
        return null;
    }

    private Future<Applied> reverse(SqlConnection tx, String processor, PaymentEvent event, Order order) {
        Money amount = event.amount();
        if (amount == null || amount.minorUnits() <= 0 || !amount.currency().equals(order.currency())) {
            return Future.succeededFuture(new Applied("mismatch", order.id(), order.accountId(), order.state(), 0, 0,
                    0, false, "reversed amount " + amount + " does not fit order " + order.id() + " in "
                    + order.currency()));
        }
        Long paidMinor = event.amountPaid() == null || !event.amountPaid().currency().equals(order.currency())
                ? null : event.amountPaid().minorUnits();
        if (!order.state().equals("paid") && !order.state().equals("refunded")) {
            return tx.preparedQuery("""
                            UPDATE payment_events SET amount_minor = $3, amount_paid_minor = $4, currency = $5
                            WHERE processor = $1 AND event_id = $2""")
                    .execute(Tuple.of(processor, event.eventId(), amount.minorUnits(), paidMinor, amount.currency()))
                    .map(new Applied("deferred", order.id(), order.accountId(), order.state(), 0, 0, 0, false,
                            "order " + order.id() + " is " + order.state() + ": applied once it is paid"));
        }
        return clawBack(tx, event.eventId(), kind(event.type()), processor, order, amount.minorUnits(), paidMinor);
    }

    /** Claws back the order's share of {@code reversedMinor} and records it on the order. */
    private Future<Applied> clawBack(SqlConnection tx, String eventId, String kind, String processor, Order order,
            long reversedMinor, Long paidMinor) {
        long basis = paidMinor != null && paidMinor > 0 ? paidMinor : order.amountMinor();
        long share = BigInteger.valueOf(order.credits()).multiply(BigInteger.valueOf(reversedMinor))
                .divide(BigInteger.valueOf(basis)).min(BigInteger.valueOf(order.credits())).longValueExact();
        long claim = Math.min(share, order.credits() - order.clawedBack());
        if (claim <= 0) {
            return Future.succeededFuture(new Applied("nothing_left", order.id(), order.accountId(), order.state(), 0,
                    0, 0, false, "order " + order.id() + " has been clawed back in full"));
        }
        return ledger.clawBack(tx, order.accountId(), claim, "clawback:" + processor + ":" + eventId, order.id(),
                        kind + " of top-up " + order.id())
                .compose(clawback -> tx.preparedQuery("""
                                UPDATE payment_orders SET clawed_back = clawed_back + $2, updated_at = now(),
                                    state = CASE WHEN clawed_back + $2 = credits THEN 'refunded' ELSE state END
                                WHERE id = $1 RETURNING state""")
                        .execute(Tuple.of(order.id(), claim))
                        .map(rows -> new Applied("clawed_back", order.id(), order.accountId(),
                                rows.iterator().next().getString(0), 0, clawback.taken(), clawback.owed(),
                                clawback.frozen(), clawback.owed() > 0
                                        ? "could take " + clawback.taken() + " of " + claim + "; the rest is owed" : "")));
    }

    /** Refunds and disputes that arrived before the payment, applied now that it is credited, oldest first. */
    private Future<Applied> applyDeferred(SqlConnection tx, String processor, Order paid, Applied credited) {
        return tx.preparedQuery("""
                        SELECT event_id, type, amount_minor, amount_paid_minor FROM payment_events
                        WHERE processor = $1 AND order_id = $2 AND outcome = 'deferred'
                        ORDER BY received_at, event_id FOR UPDATE""")
                .execute(Tuple.of(processor, paid.id()))
                .compose(rows -> {
                    Future<Applied> chain = Future.succeededFuture(credited);
                    for (Row row : rows) {
                        String eventId = row.getString(0);
                        String kind = row.getString(1);
                        long reversed = row.getLong(2);
                        Long paidMinor = row.getLong(3);
                        chain = chain.compose(sofar -> tx.preparedQuery(
                                        "SELECT clawed_back FROM payment_orders WHERE id = $1")
                                .execute(Tuple.of(paid.id()))
                                .compose(current -> clawBack(tx, eventId, kind, processor,
                                        withState(paid, "paid", current.iterator().next().getLong(0)), reversed,
                                        paidMinor))
                                .compose(applied -> tx.preparedQuery("""
                                                UPDATE payment_events SET outcome = $3, amount = $4, detail = $5
                                                WHERE processor = $1 AND event_id = $2""")
                                        .execute(Tuple.of(processor, eventId, applied.outcome(),
                                                applied.clawedBack() + applied.owed(), applied.detail()))
                                        .map(new Applied(sofar.outcome(), sofar.orderId(), sofar.accountId(),
                                                applied.orderState(), sofar.credited(),
                                                sofar.clawedBack() + applied.clawedBack(),
                                                sofar.owed() + applied.owed(), sofar.frozen() || applied.frozen(),
                                                sofar.detail()))));
                    }
                    return chain;
                });
    }

    private static Order withState(Order order, String state, long clawedBack) {
        return new Order(order.id(), order.accountId(), order.processor(), order.offerKey(), order.productId(),
                order.units(), order.amountMinor(), order.currency(), order.credits(), state, order.checkoutId(),
                order.processorOrderId(), order.paymentId(), clawedBack, order.createdAt(), order.paidAt());
    }

    private Future<Void> record(SqlConnection tx, String processor, PaymentEvent event, Applied applied) {
        long amount = "credited".equals(applied.outcome()) ? applied.credited() : applied.clawedBack() + applied.owed();
        String detail = applied.detail() == null ? "" : applied.detail();
        return tx.preparedQuery("""
                        UPDATE payment_events SET outcome = $3, order_id = $4, amount = $5, detail = left($6, 500)
                        WHERE processor = $1 AND event_id = $2""")
                .execute(Tuple.of(processor, event.eventId(), applied.outcome(), applied.orderId(), amount, detail))
                .mapEmpty();
    }
}
