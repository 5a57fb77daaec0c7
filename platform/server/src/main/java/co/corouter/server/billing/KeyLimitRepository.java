package co.corouter.server.billing;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;

/**
 * The periods of limited keys in PostgreSQL ({@code key_limit_usage}): the only code that reads or writes that table.
 * Every change is one statement on the key's period row, so the row lock orders concurrent requests of every node.
 */
public final class KeyLimitRepository implements BillingContract.KeyLimits {

    /**
     * Holds {@code $3} of the period: creates the period's row holding it, or adds it to the row's reservations — in
     * both cases only while spent + reserved stays within the limit {@code $4}. ON CONFLICT DO UPDATE locks the row and
     * checks its latest version, so two requests (on any node) cannot both take its last nano-dollar.
     */
    private static final String RESERVE = """
            INSERT INTO key_limit_usage (api_key_id, period_start, spent, reserved)
            SELECT $1, $2, 0, $3::bigint WHERE $3::bigint <= $4::bigint
            ON CONFLICT (api_key_id, period_start) DO UPDATE SET reserved = key_limit_usage.reserved + EXCLUDED.reserved
            WHERE key_limit_usage.spent + key_limit_usage.reserved + EXCLUDED.reserved <= $4::bigint
            RETURNING 1""";

    /** The request ended: its hold leaves the reservations and what it cost joins the period's spend. */
    private static final String SETTLE = """
            UPDATE key_limit_usage SET reserved = reserved - $3::bigint, spent = spent + $4::bigint
            WHERE api_key_id = $1 AND period_start = $2""";

    private final Pool pool;

    public KeyLimitRepository(Pool pool) {
        this.pool = pool;
    }

    /** True when the hold was taken; false when the period's remaining limit cannot cover it. */
    public Future<Boolean> reserve(long keyId, OffsetDateTime periodStart, long amount, long limit) {
        return pool.preparedQuery(RESERVE).execute(Tuple.of(keyId, periodStart, amount, limit))
                .map(rows -> rows.rowCount() == 1);
    }

    /** {@code 0 <= charged <= reserved}: the hold of a request that ended. */
    public Future<Void> settle(long keyId, OffsetDateTime periodStart, long reserved, long charged) {
        return pool.preparedQuery(SETTLE).execute(Tuple.of(keyId, periodStart, reserved, charged)).mapEmpty();
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
