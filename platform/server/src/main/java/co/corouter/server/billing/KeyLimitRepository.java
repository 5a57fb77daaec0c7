package co.corouter.server.billing;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;

/**
 * The periods of limited keys in PostgreSQL ({@code key_limit_usage}) and the holds of the requests in flight against
 * them ({@code key_limit_holds}): the only code that reads or writes those tables. Every change is one statement that
 * locks the key's period row, so the row lock orders concurrent requests of every node.
 */
public final class KeyLimitRepository implements BillingContract.KeyLimits {

    /**
     * Holds {@code $3} of the period for request {@code $5} of node {@code $6}: creates the period's row holding it, or
     * adds it to the row's reservations — in both cases only while spent + reserved stays within the limit {@code $4} —
     * and records the request's hold with its expiry. ON CONFLICT DO UPDATE locks the period row and checks its latest
     * version, so two requests (on any node) cannot both take its last nano-dollar.
     */
    private static final String RESERVE = """
            WITH held AS (
                INSERT INTO key_limit_usage (api_key_id, period_start, spent, reserved)
                SELECT $1, $2, 0, $3::bigint WHERE $3::bigint <= $4::bigint
                ON CONFLICT (api_key_id, period_start) DO UPDATE SET reserved = key_limit_usage.reserved + EXCLUDED.reserved
                WHERE key_limit_usage.spent + key_limit_usage.reserved + EXCLUDED.reserved <= $4::bigint
                RETURNING 1)
            INSERT INTO key_limit_holds (request_id, node_id, api_key_id, period_start, amount, expires_at)
            SELECT $5, $6, $1, $2, $3::bigint, now() + $7::int * interval '1 second' FROM held
            RETURNING 1""";

    /**
     * Request {@code $1} ended: its hold leaves the reservations and what it cost ({@code $2}) joins the period's spend,
     * in one statement that does nothing when the hold is gone. So a retried settlement never counts twice; a hold the
     * sweep already released (its node renewed nothing for a whole TTL) counts nothing.
     */
    private static final String SETTLE = """
            WITH released AS (
                DELETE FROM key_limit_holds WHERE request_id = $1 RETURNING api_key_id, period_start, amount)
            UPDATE key_limit_usage u SET reserved = u.reserved - r.amount, spent = u.spent + $2::bigint
            FROM released r WHERE u.api_key_id = r.api_key_id AND u.period_start = r.period_start""";

    /** Renews the holds this node still has in flight; others of the node (settled, or lost) are left to expire. */
    private static final String RENEW = """
            UPDATE key_limit_holds SET expires_at = now() + $2::int * interval '1 second'
            WHERE node_id = $1 AND request_id = ANY($3::text[])""";

    /**
     * Releases the holds nobody renewed (their node died or lost them). SKIP LOCKED leaves a hold that its request is
     * settling right now to that settlement, so each hold leaves the reservations exactly once.
     */
    private static final String SWEEP = """
            WITH expired AS (
                DELETE FROM key_limit_holds WHERE request_id IN (
                    SELECT request_id FROM key_limit_holds WHERE expires_at < now()
                    ORDER BY request_id FOR UPDATE SKIP LOCKED)
                RETURNING api_key_id, period_start, amount),
            per_period AS (
                SELECT api_key_id, period_start, sum(amount)::bigint AS amount FROM expired GROUP BY 1, 2)
            UPDATE key_limit_usage u SET reserved = u.reserved - p.amount
            FROM per_period p WHERE u.api_key_id = p.api_key_id AND u.period_start = p.period_start
            RETURNING p.amount""";

    private final Pool pool;

    public KeyLimitRepository(Pool pool) {
        this.pool = pool;
    }

    /** True when the hold was taken; false when the period's remaining limit cannot cover it. */
    public Future<Boolean> reserve(String requestId, String nodeId, int ttlSeconds, long keyId,
            OffsetDateTime periodStart, long amount, long limit) {
        return pool.preparedQuery(RESERVE)
                .execute(Tuple.tuple().addLong(keyId).addOffsetDateTime(periodStart).addLong(amount).addLong(limit)
                        .addString(requestId).addString(nodeId).addInteger(ttlSeconds))
                .map(rows -> rows.rowCount() == 1);
    }

    /** {@code 0 <= charged <= the hold}: the hold of a request that ended. Idempotent. */
    public Future<Void> settle(String requestId, long charged) {
        return pool.preparedQuery(SETTLE).execute(Tuple.of(requestId, charged)).mapEmpty();
    }

    public Future<Void> renew(String nodeId, int ttlSeconds, String[] requestIds) {
        return pool.preparedQuery(RENEW).execute(Tuple.of(nodeId, ttlSeconds, requestIds)).mapEmpty();
    }

    /** The nano-USD released, summed over the periods it went back to. */
    public Future<Long> sweepExpired() {
        return pool.preparedQuery(SWEEP).execute().map(rows -> {
            long released = 0;
            for (Row row : rows) {
                released += row.getLong(0);
            }
            return released;
        });
    }

    @Override
    public Future<Long> committed(long keyId, OffsetDateTime periodStart) {
        return pool.preparedQuery("""
                        SELECT coalesce((SELECT spent + reserved FROM key_limit_usage
                                         WHERE api_key_id = $1 AND period_start = $2), 0)::bigint""")
                .execute(Tuple.of(keyId, periodStart))
                .map(rows -> {
                    Row row = rows.iterator().next();
                    return row.getLong(0);
                });
    }
}
