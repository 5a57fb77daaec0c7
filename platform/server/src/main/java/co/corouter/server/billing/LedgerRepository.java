package co.corouter.server.billing;

import co.corouter.server.common.Timestamps;
import co.corouter.server.billing.BillingContract.Balance;
import co.corouter.server.billing.BillingContract.Movement;
import co.corouter.server.billing.BillingContract.UsageCharge;
import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import io.vertx.core.Future;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The double-entry ledger, wallets and node leases in PostgreSQL: the only code that reads or writes those tables.
 * Every movement is balanced entries plus the wallet's materialised balance, in one transaction, keyed by an
 * idempotency key. A wallet row is created by the first movement into it.
 */
public final class LedgerRepository implements BillingContract.UsageCharges, BillingContract.History {

    /**
     * A usage batch's charges (see {@link BillingContract.UsageCharges}): per account one charge transaction and its two
     * entries, the wallet debited, and this node's lease row shrunk by at most what it holds (a node whose lease was
     * swept must not eat into another node's lease). The wallets are locked first, in account order.
     */
    static final String COLLECT_USAGE = """
            WITH per_account AS (
                SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::text[])
                    AS t(account_id, total, requests, idempotency_key)
            ), charge AS (
                INSERT INTO ledger_transactions (idempotency_key, kind, account_id, amount, reason)
                SELECT idempotency_key, 'charge', account_id, total, 'usage of ' || requests || ' requests'
                FROM per_account
                RETURNING id, account_id, amount
            ), entries AS (
                INSERT INTO ledger_entries (txn_id, book, account_id, amount)
                SELECT id, 'customer', account_id, -amount FROM charge
                UNION ALL
                SELECT id, 'revenue', NULL, amount FROM charge
            ), held AS (
                SELECT l.account_id, LEAST(l.amount, c.amount) AS cut
                FROM leases l JOIN charge c ON c.account_id = l.account_id
                WHERE l.node_id = $5
                FOR UPDATE OF l
            ), wallet AS (
                UPDATE wallets w SET balance = w.balance - c.amount, leased = w.leased - coalesce(h.cut, 0)
                FROM charge c LEFT JOIN held h ON h.account_id = c.account_id
                WHERE w.account_id = c.account_id
                RETURNING w.account_id, w.balance
            ), lease AS (
                UPDATE leases l SET amount = l.amount - h.cut FROM held h
                WHERE l.node_id = $5 AND l.account_id = h.account_id
            )
            SELECT c.account_id, c.id, coalesce(w.balance, 0)::bigint
            FROM charge c LEFT JOIN wallet w ON w.account_id = c.account_id""";

    private final Pool pool;

    public LedgerRepository(Pool pool) {
        this.pool = pool;
    }

    /** Operator credit: grants → customer. Replaying the same idempotency key changes nothing. */
    public Future<Movement> grant(long accountId, long amount, String reason, String idempotencyKey) {
        if (amount <= 0) {
            return Future.failedFuture(new IllegalArgumentException("a grant must be positive"));
        }
        return credit(accountId, amount, reason, idempotencyKey).recover(LedgerRepository::refusal);
    }

    /** Database refusals that are the caller's mistake, as client errors (never a 500). */
    private static Future<Movement> refusal(Throwable failure) {
        if (failure instanceof PgException pg && pg.getSqlState() != null) {
            switch (pg.getSqlState()) {
                case "23503" -> {
                    return Future.failedFuture(new ApiException(ErrorCodes.NOT_FOUND, "no such account"));
                }
                case "22003" -> {
                    return Future.failedFuture(new ApiException(ErrorCodes.BAD_REQUEST,
                            "the balance would exceed the largest amount corouter can hold"));
                }
                default -> {
                }
            }
        }
        return Future.failedFuture(failure);
    }

    private Future<Movement> credit(long accountId, long amount, String reason, String idempotencyKey) {
        return pool.withTransaction(conn -> conn.preparedQuery("""
                        INSERT INTO ledger_transactions (idempotency_key, kind, account_id, amount, reason)
                        VALUES ($1, 'grant', $2, $3, $4)
                        ON CONFLICT (idempotency_key) DO NOTHING RETURNING id""")
                .execute(Tuple.of(idempotencyKey, accountId, amount, reason))
                .compose(inserted -> {
                    if (inserted.size() == 0) {
                        return conn.preparedQuery("""
                                        SELECT t.id, w.balance, t.account_id, t.amount, t.kind FROM ledger_transactions t
                                        JOIN wallets w ON w.account_id = t.account_id WHERE t.idempotency_key = $1""")
                                .execute(Tuple.of(idempotencyKey))
                                .compose(rows -> {
                                    Row row = rows.iterator().next();
                                    if (row.getLong(2) != accountId || row.getLong(3) != amount
                                            || !"grant".equals(row.getString(4))) {
                                        return Future.failedFuture(new ApiException(ErrorCodes.CONFLICT,
                                                "idempotency_key was already used for a different movement"));
                                    }
                                    return Future.succeededFuture(new Movement(row.getLong(0), row.getLong(1), true));
                                });
                    }
                    long txn = inserted.iterator().next().getLong(0);
                    return conn.preparedQuery("""
                                    INSERT INTO ledger_entries (txn_id, book, account_id, amount)
                                    VALUES ($1, 'grants', NULL, -$3::bigint), ($1, 'customer', $2, $3::bigint)""")
                            .execute(Tuple.of(txn, accountId, amount))
                            .compose(v -> conn.preparedQuery("""
                                            INSERT INTO wallets (account_id, balance) VALUES ($1, $2)
                                            ON CONFLICT (account_id) DO UPDATE SET balance = wallets.balance + $2
                                            RETURNING balance""")
                                    .execute(Tuple.of(accountId, amount)))
                            .map(rows -> new Movement(txn, rows.iterator().next().getLong(0), false));
                }));
    }

    /**
     * Credits a paid order inside the caller's transaction: one 'topup' transaction (payments → customer) whose
     * idempotency key is the order's, so an order is credited at most once whatever calls this.
     *
     * @return the account's balance after it, or empty when the order had been credited before
     */
    public Future<java.util.Optional<Long>> topUp(SqlConnection tx, long accountId, long credits, String orderId,
            String reason) {
        return tx.preparedQuery("""
                        WITH txn AS (
                            INSERT INTO ledger_transactions (idempotency_key, kind, account_id, amount, reason, order_id)
                            VALUES ('topup:' || $3, 'topup', $1, $2, $4, $3)
                            ON CONFLICT (idempotency_key) DO NOTHING RETURNING id
                        ), entries AS (
                            INSERT INTO ledger_entries (txn_id, book, account_id, amount)
                            SELECT id, 'payments', NULL, -$2::bigint FROM txn
                            UNION ALL SELECT id, 'customer', $1, $2::bigint FROM txn
                        ), wallet AS (
                            INSERT INTO wallets (account_id, balance) SELECT $1, $2 FROM txn
                            ON CONFLICT (account_id) DO UPDATE SET balance = wallets.balance + EXCLUDED.balance
                            RETURNING balance
                        )
                        SELECT (SELECT balance FROM wallet)""")
                .execute(Tuple.of(accountId, credits, orderId, reason))
                .map(rows -> java.util.Optional.ofNullable(rows.iterator().next().getLong(0)));
    }

    /**
     * What a claw-back did: {@code taken} left the balance (a 'refund' transaction, customer → payments), {@code owed}
     * more could not be taken without dipping into credit that is spent or leased to nodes, and then the wallet is
     * frozen. The balance never goes below zero.
     */
    public record Clawback(long taken, long owed, boolean frozen, long balance) {
    }

    /**
     * Takes back up to {@code amount} of an account's credit inside the caller's transaction (a refund or charge-back
     * of a payment). Credit leased to nodes is not taken: they may be spending it right now. Whatever cannot be taken
     * is recorded as owed and freezes the wallet (no more leases; the account's keys are refused).
     */
    public Future<Clawback> clawBack(SqlConnection tx, long accountId, long amount, String idempotencyKey,
            String orderId, String reason) {
        return tx.preparedQuery("""
                        WITH wallet AS (
                            SELECT account_id, balance, leased FROM wallets WHERE account_id = $1 FOR UPDATE
                        ), plan AS (
                            SELECT LEAST($2::bigint, coalesce((SELECT balance - leased FROM wallet), 0)) AS take
                        ), txn AS (
                            INSERT INTO ledger_transactions (idempotency_key, kind, account_id, amount, reason, order_id)
                            SELECT $3, 'refund', $1, take, $4, $5 FROM plan WHERE take > 0
                            ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, amount
                        ), entries AS (
                            INSERT INTO ledger_entries (txn_id, book, account_id, amount)
                            SELECT id, 'customer', $1, -amount FROM txn
                            UNION ALL SELECT id, 'payments', NULL, amount FROM txn
                        ), updated AS (
                            UPDATE wallets w SET balance = w.balance - coalesce((SELECT amount FROM txn), 0),
                                owed = w.owed + ($2::bigint - (SELECT take FROM plan)),
                                frozen_at = CASE WHEN $2::bigint > (SELECT take FROM plan)
                                                 THEN coalesce(w.frozen_at, now()) ELSE w.frozen_at END
                            WHERE w.account_id = $1
                            RETURNING w.balance, w.frozen_at IS NOT NULL AS frozen
                        )
                        SELECT (SELECT take FROM plan), (SELECT balance FROM updated),
                               coalesce((SELECT frozen FROM updated), false)""")
                .execute(Tuple.of(accountId, amount, idempotencyKey, reason, orderId))
                .map(rows -> {
                    Row row = rows.iterator().next();
                    long taken = row.getLong(0);
                    Long balance = row.getLong(1);
                    return new Clawback(taken, amount - taken, row.getBoolean(2), balance == null ? 0 : balance);
                });
    }

    /** Whether the account's wallet is frozen (a reversed payment could not be clawed back in full). */
    public Future<Boolean> frozen(long accountId) {
        return pool.preparedQuery("SELECT frozen_at IS NOT NULL FROM wallets WHERE account_id = $1")
                .execute(Tuple.of(accountId))
                .map(rows -> rows.size() == 1 && rows.iterator().next().getBoolean(0));
    }

    /**
     * The operator settles a frozen wallet: collects what it owes from its unleased balance (a 'refund' transaction),
     * forgives the rest when {@code writeOff}, and unfreezes it once nothing is owed.
     */
    public Future<BillingContract.Settlement> settle(long accountId, boolean writeOff, String idempotencyKey) {
        return pool.withTransaction(tx -> tx.preparedQuery(
                        "SELECT balance, leased, owed FROM wallets WHERE account_id = $1 FOR UPDATE")
                .execute(Tuple.of(accountId))
                .compose(rows -> {
                    if (rows.size() == 0) {
                        return Future.failedFuture(new ApiException(ErrorCodes.NOT_FOUND, "the account has no wallet"));
                    }
                    Row row = rows.iterator().next();
                    long owed = row.getLong(2);
                    long take = Math.min(owed, row.getLong(0) - row.getLong(1));
                    long remaining = writeOff ? 0 : owed - take;
                    Future<?> collected = take <= 0 ? Future.succeededFuture() : tx.preparedQuery("""
                                    WITH txn AS (
                                        INSERT INTO ledger_transactions (idempotency_key, kind, account_id, amount, reason)
                                        VALUES ($1, 'refund', $2, $3, 'debt of a reversed payment collected')
                                        RETURNING id
                                    )
                                    INSERT INTO ledger_entries (txn_id, book, account_id, amount)
                                    SELECT id, 'customer', $2, -$3::bigint FROM txn
                                    UNION ALL SELECT id, 'payments', NULL, $3::bigint FROM txn""")
                            .execute(Tuple.of(idempotencyKey, accountId, take));
                    long collectedAmount = Math.max(take, 0);
                    return collected.compose(v -> tx.preparedQuery("""
                                    UPDATE wallets SET balance = balance - $2::bigint, owed = $3::bigint,
                                        frozen_at = CASE WHEN $3::bigint = 0 THEN NULL ELSE frozen_at END
                                    WHERE account_id = $1 RETURNING frozen_at IS NOT NULL""")
                            .execute(Tuple.of(accountId, collectedAmount, remaining)))
                            .map(updated -> new BillingContract.Settlement(owed, collectedAmount, remaining,
                                    updated.iterator().next().getBoolean(0)));
                }));
    }

    /**
     * Leases up to {@code want} of the account's unleased credit to {@code nodeId}, but only if at least
     * {@code need} is free. One conditional statement: no two nodes can lease the same nano-dollar.
     *
     * @return the amount leased (0 when less than {@code need} was free)
     */
    public Future<Long> lease(String nodeId, long accountId, long want, long need, int ttlSeconds) {
        return pool.preparedQuery("""
                        WITH free AS (
                            SELECT account_id, LEAST($3::bigint, balance - leased) AS amount
                            FROM wallets
                            WHERE account_id = $2 AND balance - leased >= $4::bigint AND balance - leased > 0
                              AND frozen_at IS NULL
                            FOR UPDATE
                        ), granted AS (
                            UPDATE wallets w SET leased = w.leased + f.amount FROM free f
                            WHERE w.account_id = f.account_id RETURNING f.amount
                        ), lease AS (
                            INSERT INTO leases (node_id, account_id, amount, expires_at)
                            SELECT $1, $2, amount, now() + $5::int * interval '1 second' FROM granted
                            ON CONFLICT (node_id, account_id) DO UPDATE
                                SET amount = leases.amount + EXCLUDED.amount, expires_at = EXCLUDED.expires_at
                        )
                        SELECT coalesce((SELECT amount FROM granted), 0)::bigint""")
                .execute(Tuple.of(nodeId, accountId, want, need, ttlSeconds))
                .map(rows -> rows.iterator().next().getLong(0));
    }

    /** Renews this node's leases; returns the accounts whose lease rows still exist. */
    public Future<List<Long>> heartbeat(String nodeId, int ttlSeconds) {
        return pool.preparedQuery("""
                        UPDATE leases SET expires_at = now() + $2::int * interval '1 second'
                        WHERE node_id = $1 RETURNING account_id""")
                .execute(Tuple.of(nodeId, ttlSeconds))
                .map(LedgerRepository::accountIds);
    }

    /** Gives back part of a lease: at most what this node's lease row holds. */
    public Future<Void> release(String nodeId, long accountId, long amount) {
        if (amount <= 0) {
            return Future.succeededFuture();
        }
        return pool.withTransaction(conn -> conn.preparedQuery(BillingContract.LOCK_WALLETS)
                .execute(Tuple.of(new Long[] {accountId}))
                .compose(locked -> conn.preparedQuery("""
                                WITH held AS (
                                    SELECT account_id, LEAST(amount, $3::bigint) AS cut FROM leases
                                    WHERE node_id = $1 AND account_id = $2 FOR UPDATE
                                ), lease AS (
                                    UPDATE leases l SET amount = l.amount - h.cut FROM held h
                                    WHERE l.node_id = $1 AND l.account_id = h.account_id
                                )
                                UPDATE wallets w SET leased = w.leased - h.cut FROM held h
                                WHERE w.account_id = h.account_id""")
                        .execute(Tuple.of(nodeId, accountId, amount)))
                .mapEmpty());
    }

    /** Releases every lease whose node stopped renewing it (a crashed node). */
    public Future<Integer> sweepExpired() {
        return pool.withTransaction(conn -> conn.query("""
                        SELECT account_id FROM wallets
                        WHERE account_id IN (SELECT account_id FROM leases WHERE expires_at < now())
                        ORDER BY account_id FOR UPDATE""").execute()
                .compose(locked -> conn.preparedQuery("""
                        WITH dead AS (
                            DELETE FROM leases WHERE expires_at < now() RETURNING account_id, amount
                        ), per_account AS (
                            SELECT account_id, sum(amount)::bigint AS total FROM dead GROUP BY account_id
                        )
                        UPDATE wallets w SET leased = GREATEST(w.leased - p.total, 0)
                        FROM per_account p WHERE w.account_id = p.account_id RETURNING w.account_id""")
                .execute())
                .map(RowSet::rowCount));
    }

    /** Removes this node's lease rows entirely, returning what they held to the accounts. */
    public Future<Void> releaseAll(String nodeId) {
        return pool.withTransaction(conn -> conn.preparedQuery("""
                        SELECT account_id FROM wallets
                        WHERE account_id IN (SELECT account_id FROM leases WHERE node_id = $1)
                        ORDER BY account_id FOR UPDATE""").execute(Tuple.of(nodeId))
                .compose(locked -> conn.preparedQuery("""
                                WITH mine AS (
                                    DELETE FROM leases WHERE node_id = $1 RETURNING account_id, amount
                                )
                                UPDATE wallets w SET leased = GREATEST(w.leased - m.amount, 0)
                                FROM mine m WHERE w.account_id = m.account_id""")
                        .execute(Tuple.of(nodeId)))
                .mapEmpty());
    }

    /** Everything ever credited and charged, the balance and what nodes lease of it (zeros without a wallet). */
    public Future<Balance> balance(long accountId) {
        return pool.preparedQuery("""
                        SELECT coalesce(sum(amount) FILTER (WHERE kind IN ('grant', 'topup', 'adjustment')), 0)::bigint,
                               coalesce(sum(amount) FILTER (WHERE kind = 'charge'), 0)::bigint,
                               coalesce(sum(amount) FILTER (WHERE kind = 'refund'), 0)::bigint,
                               coalesce((SELECT balance FROM wallets WHERE account_id = $1), 0)::bigint,
                               coalesce((SELECT leased FROM wallets WHERE account_id = $1), 0)::bigint,
                               coalesce((SELECT owed FROM wallets WHERE account_id = $1), 0)::bigint,
                               coalesce((SELECT frozen_at IS NOT NULL FROM wallets WHERE account_id = $1), false)
                        FROM ledger_transactions WHERE account_id = $1""")
                .execute(Tuple.of(accountId))
                .map(rows -> {
                    Row row = rows.iterator().next();
                    return new Balance(row.getLong(0), row.getLong(1), row.getLong(2), row.getLong(3), row.getLong(4),
                            row.getLong(5), row.getBoolean(6));
                });
    }

    @Override
    public Future<Map<Long, BillingContract.Collected>> collect(SqlConnection transaction, String nodeId,
            List<UsageCharge> charges) {
        if (charges.isEmpty()) {
            return Future.succeededFuture(Map.of());
        }
        int n = charges.size();
        Long[] accounts = new Long[n];
        Long[] totals = new Long[n];
        Integer[] requests = new Integer[n];
        String[] keys = new String[n];
        for (int i = 0; i < n; i++) {
            UsageCharge charge = charges.get(i);
            accounts[i] = charge.accountId();
            totals[i] = charge.amount();
            requests[i] = charge.requests();
            keys[i] = charge.idempotencyKey();
        }
        Long[] locked = java.util.Arrays.stream(accounts).sorted().toArray(Long[]::new);
        return transaction.preparedQuery(BillingContract.LOCK_WALLETS).execute(Tuple.of(locked))
                .compose(v -> transaction.preparedQuery(COLLECT_USAGE)
                        .execute(Tuple.of(accounts, totals, requests, keys, nodeId)))
                .map(rows -> {
                    Map<Long, BillingContract.Collected> collected = new HashMap<>();
                    rows.forEach(row -> collected.put(row.getLong(0),
                            new BillingContract.Collected(row.getLong(1), row.getLong(2))));
                    return collected;
                });
    }

    @Override
    public Future<List<BillingContract.CreditMovement>> movements(long accountId, java.time.OffsetDateTime beforeAt,
            Long beforeId, int limit) {
        // the index on (account_id, created_at) bounds the scan; the row comparison breaks ties by id. Two statements
        // rather than "$3 IS NULL OR …", which a generic plan cannot bound by the index
        String after = beforeAt == null ? "" : " AND created_at <= $3 AND (created_at, id) < ($3, $4)";
        return pool.preparedQuery("SELECT id, kind, amount, reason, created_at, order_id FROM ledger_transactions "
                        + "WHERE account_id = $1 AND kind <> 'charge'" + after
                        + " ORDER BY created_at DESC, id DESC LIMIT $2")
                .execute(beforeAt == null ? Tuple.of(accountId, limit) : Tuple.of(accountId, limit, beforeAt, beforeId))
                .map(rows -> {
                    List<BillingContract.CreditMovement> list = new ArrayList<>(rows.rowCount());
                    for (Row row : rows) {
                        list.add(new BillingContract.CreditMovement(row.getLong(0), row.getString(1),
                                row.getLong(2), row.getString(3), row.getOffsetDateTime(4), row.getString(5)));
                    }
                    return list;
                });
    }

    @Override
    public Future<io.vertx.core.json.JsonArray> transactions(long accountId) {
        return pool.preparedQuery("""
                        SELECT id, kind, amount, reason, created_at FROM ledger_transactions
                        WHERE account_id = $1 ORDER BY created_at, id""")
                .execute(Tuple.of(accountId))
                .map(rows -> {
                    io.vertx.core.json.JsonArray list = new io.vertx.core.json.JsonArray();
                    for (Row row : rows) {
                        list.add(new io.vertx.core.json.JsonObject().put("id", row.getLong(0))
                                .put("kind", row.getString(1))
                                .put("amount_usd", co.corouter.server.common.Money.toUsdText(row.getLong(2)))
                                .put("reason", row.getString(3))
                                .put("created_at", Timestamps.iso(row.getOffsetDateTime(4))));
                    }
                    return list;
                });
    }

    private static List<Long> accountIds(RowSet<Row> rows) {
        List<Long> ids = new ArrayList<>(rows.rowCount());
        rows.forEach(row -> ids.add(row.getLong(0)));
        return ids;
    }
}
