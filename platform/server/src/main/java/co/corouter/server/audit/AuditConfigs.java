package co.corouter.server.audit;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;

/** The accounts' audit configurations ({@code audit_configs}): the only code that reads or writes that table. */
final class AuditConfigs {

    /** One account's row. {@code secrets}: the sealed credentials, or null. */
    record Stored(long accountId, String sinkType, JsonObject config, byte[] secrets, boolean enabled, long delivered,
                  long dropped, String lastError, OffsetDateTime lastErrorAt, OffsetDateTime lastDeliveredAt,
                  OffsetDateTime updatedAt) {
    }

    private static final String COLUMNS = "account_id, sink_type, config, secrets, enabled, delivered, dropped, "
            + "last_error, last_error_at, last_delivered_at, updated_at";

    private final Pool pool;

    AuditConfigs(Pool pool) {
        this.pool = pool;
    }

    Future<Stored> find(long accountId) {
        return pool.preparedQuery("SELECT " + COLUMNS + " FROM audit_configs WHERE account_id = $1")
                .execute(Tuple.of(accountId))
                .map(rows -> rows.size() == 0 ? null : stored(rows.iterator().next()));
    }

    /** Every configuration, enabled or draining (a node's start-up). */
    Future<List<Stored>> all() {
        return pool.query("SELECT " + COLUMNS + " FROM audit_configs").execute().map(rows -> {
            List<Stored> list = new ArrayList<>();
            rows.forEach(row -> list.add(stored(row)));
            return list;
        });
    }

    /** Saves (and enables) an account's destination; the delivery counters and the last error start afresh. */
    Future<Void> save(long accountId, String sinkType, JsonObject config, byte[] secrets) {
        return pool.preparedQuery("""
                        INSERT INTO audit_configs (account_id, sink_type, config, secrets, enabled)
                        VALUES ($1, $2, $3, $4, TRUE)
                        ON CONFLICT (account_id) DO UPDATE SET sink_type = EXCLUDED.sink_type,
                            config = EXCLUDED.config, secrets = EXCLUDED.secrets, enabled = TRUE, last_error = NULL,
                            last_error_at = NULL, updated_at = now()""")
                .execute(Tuple.of(accountId, sinkType, config, secrets == null ? null : Buffer.buffer(secrets)))
                .mapEmpty();
    }

    /** Turns audit off; the row stays so the spool can drain to its destination. True when there was one. */
    Future<Boolean> disable(long accountId) {
        return pool.preparedQuery("UPDATE audit_configs SET enabled = FALSE, updated_at = now() WHERE account_id = $1")
                .execute(Tuple.of(accountId)).map(rows -> rows.rowCount() == 1);
    }

    /** Removes the configuration and its credentials (account erasure). */
    Future<Void> delete(long accountId) {
        return pool.preparedQuery("DELETE FROM audit_configs WHERE account_id = $1").execute(Tuple.of(accountId))
                .mapEmpty();
    }

    /** Replaces sealed credentials re-wrapped under the current key, unless they changed meanwhile. */
    Future<Boolean> rewrap(long accountId, byte[] before, byte[] after) {
        return pool.preparedQuery("UPDATE audit_configs SET secrets = $3 WHERE account_id = $1 AND secrets = $2")
                .execute(Tuple.of(accountId, Buffer.buffer(before), Buffer.buffer(after)))
                .map(rows -> rows.rowCount() == 1);
    }

    /** Adds a node's delivery counts and, when there is one, its latest error. */
    Future<Void> report(long accountId, long delivered, long dropped, String lastError, OffsetDateTime errorAt,
            OffsetDateTime deliveredAt) {
        return pool.preparedQuery("""
                        UPDATE audit_configs SET delivered = delivered + $2, dropped = dropped + $3,
                            last_error = CASE WHEN $5::timestamptz IS NULL THEN last_error ELSE $4 END,
                            last_error_at = coalesce($5, last_error_at),
                            last_delivered_at = greatest(last_delivered_at, $6)
                        WHERE account_id = $1""")
                .execute(Tuple.of(accountId, delivered, dropped, lastError, errorAt, deliveredAt))
                .mapEmpty();
    }

    private static Stored stored(Row row) {
        Buffer secrets = row.getBuffer("secrets");
        return new Stored(row.getLong("account_id"), row.getString("sink_type"), (JsonObject) row.getValue("config"),
                secrets == null ? null : secrets.getBytes(), row.getBoolean("enabled"), row.getLong("delivered"),
                row.getLong("dropped"), row.getString("last_error"), row.getOffsetDateTime("last_error_at"),
                row.getOffsetDateTime("last_delivered_at"), row.getOffsetDateTime("updated_at"));
    }
}
