package co.corouter.server.console.data;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;

/**
 * The privacy rights' SQL over the console's people tables ({@code users}, {@code sessions}, {@code login_events}):
 * what the export shows of them, the erasure, the sign-in history's retention purge, and the bridge-token secret.
 * Never a password hash, session token or CSRF token in what it returns.
 */
final class PrivacyRepository {

    private final Pool pool;

    PrivacyRepository(Pool pool) {
        this.pool = pool;
    }

    /** The deployment's bridge-token secret: created once by the first node that asks, then shared. */
    Future<byte[]> bridgeSecret(byte[] candidate) {
        return pool.preparedQuery("INSERT INTO bridge_token_secret (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING")
                .execute(Tuple.of(Buffer.buffer(candidate)))
                .compose(v -> pool.query("SELECT secret FROM bridge_token_secret WHERE id = 1").execute())
                .map(rows -> rows.iterator().next().getBuffer(0).getBytes());
    }

    /** The user's row, every column but the password hash; null when there is no such user. */
    Future<JsonObject> profile(long userId) {
        return pool.preparedQuery("""
                        SELECT id, account_id, email, email_verified_at, display_name, locale, adult_confirmed_at,
                               policy_version, password_changed_at, created_at, erased_at
                        FROM users WHERE id = $1""")
                .execute(Tuple.of(userId))
                .map(rows -> rows.size() == 0 ? null : json(rows.iterator().next()));
    }

    /** The stored Argon2id hash (null once erased); only for checking a password, never shown. */
    Future<String> passwordHash(long userId) {
        return pool.preparedQuery("SELECT password_hash FROM users WHERE id = $1 AND erased_at IS NULL")
                .execute(Tuple.of(userId))
                .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getString(0));
    }

    /** Every session of the user (without its token or CSRF token), oldest first. */
    Future<JsonArray> sessions(long userId) {
        return pool.preparedQuery("""
                        SELECT id, user_agent, ip, created_at, last_seen_at, expires_at, revoked_at
                        FROM sessions WHERE user_id = $1 ORDER BY id""")
                .execute(Tuple.of(userId))
                .map(PrivacyRepository::list);
    }

    /** The user's sign-in history within the retention window, oldest first. */
    Future<JsonArray> logins(long userId) {
        return pool.preparedQuery("""
                        SELECT id, ip, user_agent, outcome, created_at FROM login_events
                        WHERE user_id = $1 ORDER BY created_at, id""")
                .execute(Tuple.of(userId))
                .map(PrivacyRepository::list);
    }

    /**
     * Erases the user's personal data in one transaction: every session ended, the sign-in history deleted, the row
     * pseudonymised (email {@code erased-<id>@invalid}, no sign-in name, no password, no display name). The row stays
     * so that what must be kept (billing, usage metadata) still points at an id.
     */
    Future<Void> erase(long userId) {
        return pool.withTransaction(conn -> conn.preparedQuery(
                                "UPDATE sessions SET revoked_at = coalesce(revoked_at, now()) WHERE user_id = $1")
                        .execute(Tuple.of(userId))
                        .compose(v -> conn.preparedQuery("DELETE FROM login_events WHERE user_id = $1")
                                .execute(Tuple.of(userId)))
                        .compose(v -> conn.preparedQuery("""
                                        UPDATE users SET email = 'erased-' || id || '@invalid', email_normalized = NULL,
                                                         password_hash = NULL, display_name = '',
                                                         erased_at = coalesce(erased_at, now())
                                        WHERE id = $1""")
                                .execute(Tuple.of(userId))))
                .mapEmpty();
    }

    /** Deletes up to {@code limit} sign-in events older than {@code cutoff}; returns how many. */
    Future<Integer> purgeLogins(OffsetDateTime cutoff, int limit) {
        return pool.preparedQuery("""
                        DELETE FROM login_events WHERE id IN (
                            SELECT id FROM login_events WHERE created_at < $1 ORDER BY created_at LIMIT $2)""")
                .execute(Tuple.of(cutoff, limit))
                .map(RowSet::rowCount);
    }

    private static JsonArray list(RowSet<Row> rows) {
        JsonArray list = new JsonArray();
        rows.forEach(row -> list.add(json(row)));
        return list;
    }

    /** A row as JSON: column names as keys, times as ISO-8601 UTC. */
    private static JsonObject json(Row row) {
        JsonObject json = new JsonObject();
        for (int i = 0; i < row.size(); i++) {
            Object value = row.getValue(i);
            json.put(row.getColumnName(i), value instanceof OffsetDateTime at ? at.toInstant().toString() : value);
        }
        return json;
    }
}
