package co.corouter.server.billing;

import co.corouter.server.billing.KeyLimitBook.Period;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The periods of limited keys in PostgreSQL ({@code key_limit_usage}: what each period spent, and what it has leased to
 * nodes) and the nodes' leases of them ({@code key_limit_leases}): the only code that reads or writes those tables.
 * Like the balances' leases ({@link LedgerRepository}), every statement locks the period rows before the lease rows.
 */
public final class KeyLimitRepository implements BillingContract.KeySpends {

    /**
     * Leases up to {@code $3} of the period to node {@code $5}, but only if at least {@code $4} of the key's current limit
     * is neither spent nor leased: no two nodes can lease the same nano-dollar of it. A key whose limit was removed
     * meanwhile is granted what was asked. (The period's row exists: {@link #ENSURE_PERIOD} ran first.)
     */
    private static final String LEASE = """
            WITH free AS (
                SELECT u.api_key_id, u.period_start,
                       LEAST($3::bigint, coalesce(k.spend_limit - u.spent - u.reserved, $3::bigint)) AS amount
                FROM key_limit_usage u JOIN api_keys k ON k.id = u.api_key_id
                WHERE u.api_key_id = $1 AND u.period_start = $2
                  AND coalesce(k.spend_limit - u.spent - u.reserved, $3::bigint) >= GREATEST($4::bigint, 1)
                FOR UPDATE OF u
            ), granted AS (
                UPDATE key_limit_usage u SET reserved = u.reserved + f.amount FROM free f
                WHERE u.api_key_id = f.api_key_id AND u.period_start = f.period_start RETURNING f.amount
            ), lease AS (
                INSERT INTO key_limit_leases (node_id, api_key_id, period_start, amount, expires_at)
                SELECT $5, $1, $2, amount, now() + $6::int * interval '1 second' FROM granted
                ON CONFLICT (node_id, api_key_id, period_start) DO UPDATE
                    SET amount = key_limit_leases.amount + EXCLUDED.amount, expires_at = EXCLUDED.expires_at
            )
            SELECT coalesce((SELECT amount FROM granted), 0)::bigint""";

    private static final String ENSURE_PERIOD = """
            INSERT INTO key_limit_usage (api_key_id, period_start, spent, reserved) VALUES ($1, $2, 0, 0)
            ON CONFLICT (api_key_id, period_start) DO NOTHING""";

    private static final String LOCK_PERIODS = """
            SELECT 1 FROM key_limit_usage
            WHERE (api_key_id, period_start) IN (SELECT * FROM unnest($1::bigint[], $2::timestamptz[]))
            ORDER BY api_key_id, period_start FOR UPDATE""";

    /**
     * A usage batch's charges of limited keys, per period ({@code $1}, {@code $2}, {@code $3}): added to what the
     * period spent, and taken out of node {@code $4}'s lease of it — by at most what that lease holds (a node whose
     * lease was swept must not eat into another node's).
     */
    private static final String SPEND = """
            WITH spend AS (
                SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::bigint[]) AS t(api_key_id, period_start, amount)
            ), held AS (
                SELECT l.api_key_id, l.period_start, LEAST(l.amount, s.amount) AS cut
                FROM key_limit_leases l JOIN spend s ON s.api_key_id = l.api_key_id AND s.period_start = l.period_start
                WHERE l.node_id = $4
                FOR UPDATE OF l
            ), lease AS (
                UPDATE key_limit_leases l SET amount = l.amount - h.cut FROM held h
                WHERE l.node_id = $4 AND l.api_key_id = h.api_key_id AND l.period_start = h.period_start
            )
            UPDATE key_limit_usage u SET spent = u.spent + s.amount, reserved = u.reserved - coalesce(h.cut, 0)
            FROM spend s LEFT JOIN held h ON h.api_key_id = s.api_key_id AND h.period_start = s.period_start
            WHERE u.api_key_id = s.api_key_id AND u.period_start = s.period_start""";

    private final Pool pool;

    public KeyLimitRepository(Pool pool) {
        this.pool = pool;
    }

    /** The amount leased (0 when less than {@code need} was free). */
    public Future<Long> lease(String nodeId, Period period, long want, long need, int ttlSeconds) {
        return pool.withTransaction(conn -> conn.preparedQuery(ENSURE_PERIOD)
                .execute(Tuple.of(period.keyId(), period.start()))
                .compose(ensured -> conn.preparedQuery(LEASE).execute(Tuple.tuple().addLong(period.keyId())
                        .addOffsetDateTime(period.start()).addLong(want).addLong(need).addString(nodeId)
                        .addInteger(ttlSeconds)))
                .map(rows -> rows.iterator().next().getLong(0)));
    }

    /** Renews this node's leases; returns the periods whose lease rows still exist. */
    public Future<Collection<Period>> renew(String nodeId, int ttlSeconds) {
        return pool.preparedQuery("""
                        UPDATE key_limit_leases SET expires_at = now() + $2::int * interval '1 second'
                        WHERE node_id = $1 RETURNING api_key_id, period_start""")
                .execute(Tuple.of(nodeId, ttlSeconds))
                .map(rows -> {
                    List<Period> alive = new ArrayList<>();
                    for (Row row : rows) {
                        alive.add(new Period(row.getLong(0), row.getOffsetDateTime(1)));
                    }
                    return alive;
                });
    }

    /** Gives back part of a lease: at most what this node's lease row holds. */
    public Future<Void> release(String nodeId, Period period, long amount) {
        if (amount <= 0) {
            return Future.succeededFuture();
        }
        return pool.withTransaction(conn -> lockPeriods(conn, List.of(period))
                .compose(locked -> conn.preparedQuery("""
                                WITH held AS (
                                    SELECT LEAST(amount, $4::bigint) AS cut FROM key_limit_leases
                                    WHERE node_id = $1 AND api_key_id = $2 AND period_start = $3 FOR UPDATE
                                ), lease AS (
                                    UPDATE key_limit_leases l SET amount = l.amount - h.cut FROM held h
                                    WHERE l.node_id = $1 AND l.api_key_id = $2 AND l.period_start = $3
                                )
                                UPDATE key_limit_usage u SET reserved = u.reserved - h.cut FROM held h
                                WHERE u.api_key_id = $2 AND u.period_start = $3""")
                        .execute(Tuple.of(nodeId, period.keyId(), period.start(), amount)))
                .mapEmpty());
    }

    /** Releases every lease whose node stopped renewing it (a crashed node); the nano-USD given back. */
    public Future<Long> sweepExpired() {
        return pool.withTransaction(conn -> conn.query("""
                        SELECT 1 FROM key_limit_usage u
                        WHERE EXISTS (SELECT 1 FROM key_limit_leases l WHERE l.api_key_id = u.api_key_id
                                      AND l.period_start = u.period_start AND l.expires_at < now())
                        ORDER BY u.api_key_id, u.period_start FOR UPDATE""").execute()
                .compose(locked -> conn.query("""
                        WITH dead AS (
                            DELETE FROM key_limit_leases WHERE expires_at < now()
                            RETURNING api_key_id, period_start, amount
                        ), per_period AS (
                            SELECT api_key_id, period_start, sum(amount)::bigint AS total FROM dead GROUP BY 1, 2
                        )
                        UPDATE key_limit_usage u SET reserved = GREATEST(u.reserved - p.total, 0)
                        FROM per_period p WHERE u.api_key_id = p.api_key_id AND u.period_start = p.period_start
                        RETURNING p.total""").execute())
                .map(rows -> {
                    long released = 0;
                    for (Row row : rows) {
                        released += row.getLong(0);
                    }
                    return released;
                }));
    }

    /** Removes this node's lease rows entirely, returning what they held to the periods (a graceful stop). */
    public Future<Void> releaseAll(String nodeId) {
        return pool.withTransaction(conn -> conn.preparedQuery("""
                        SELECT 1 FROM key_limit_usage u
                        WHERE EXISTS (SELECT 1 FROM key_limit_leases l WHERE l.api_key_id = u.api_key_id
                                      AND l.period_start = u.period_start AND l.node_id = $1)
                        ORDER BY u.api_key_id, u.period_start FOR UPDATE""").execute(Tuple.of(nodeId))
                .compose(locked -> conn.preparedQuery("""
                                WITH mine AS (
                                    DELETE FROM key_limit_leases WHERE node_id = $1
                                    RETURNING api_key_id, period_start, amount
                                )
                                UPDATE key_limit_usage u SET reserved = GREATEST(u.reserved - m.amount, 0)
                                FROM mine m WHERE u.api_key_id = m.api_key_id AND u.period_start = m.period_start""")
                        .execute(Tuple.of(nodeId)))
                .mapEmpty());
    }

    @Override
    public Future<Void> spend(SqlConnection transaction, String nodeId, List<BillingContract.KeySpend> spends) {
        if (spends.isEmpty()) {
            return Future.succeededFuture();
        }
        List<Period> periods = new ArrayList<>();
        Long[] keys = new Long[spends.size()];
        OffsetDateTime[] starts = new OffsetDateTime[spends.size()];
        Long[] amounts = new Long[spends.size()];
        for (int i = 0; i < spends.size(); i++) {
            BillingContract.KeySpend spend = spends.get(i);
            keys[i] = spend.keyId();
            starts[i] = spend.periodStart();
            amounts[i] = spend.amount();
            periods.add(new Period(spend.keyId(), spend.periodStart()));
        }
        return lockPeriods(transaction, periods)
                .compose(locked -> transaction.preparedQuery(SPEND)
                        .execute(Tuple.tuple().addValue(keys).addValue(starts).addValue(amounts).addString(nodeId)))
                .mapEmpty();
    }

    /** What the key's period has spent plus what it has leased to nodes (0 for a period nothing was leased of). */
    public Future<Long> spentAndLeased(long keyId, OffsetDateTime periodStart) {
        return pool.preparedQuery("""
                        SELECT coalesce((SELECT spent + reserved FROM key_limit_usage
                                         WHERE api_key_id = $1 AND period_start = $2), 0)::bigint""")
                .execute(Tuple.of(keyId, periodStart))
                .map(rows -> rows.iterator().next().getLong(0));
    }

    private static Future<?> lockPeriods(SqlConnection conn, List<Period> periods) {
        Long[] keys = new Long[periods.size()];
        OffsetDateTime[] starts = new OffsetDateTime[periods.size()];
        for (int i = 0; i < periods.size(); i++) {
            keys[i] = periods.get(i).keyId();
            starts[i] = periods.get(i).start();
        }
        return conn.preparedQuery(LOCK_PERIODS).execute(Tuple.tuple().addValue(keys).addValue(starts));
    }
}
