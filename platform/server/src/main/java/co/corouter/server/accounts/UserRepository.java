package co.corouter.server.accounts;

import co.corouter.server.common.Timestamps;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.Locale;

/**
 * The console's people in PostgreSQL: users (each owning one account), their sessions and sign-in history, the
 * single-use record of mailed links, and the secret those links are signed with. Sessions are found by the SHA-256 of
 * their id, never the id itself. Every statement is one round trip; the ones a link triggers consume the link in the
 * same transaction as their effect.
 */
public final class UserRepository {

    /** A user as sign-in needs it; {@code passwordHash} is null once erased. */
    public record User(long id, long accountId, String email, String passwordHash, boolean verified) {
    }

    /** A live session with its user: what every signed-in request is checked against. */
    public record Session(long id, long userId, long accountId, String email, String csrfToken) {
    }

    private final Pool pool;

    public UserRepository(Pool pool) {
        this.pool = pool;
    }

    /** The sign-in name of an email: trimmed and lower-cased. */
    public static String normalize(String email) {
        return email.trim().toLowerCase(Locale.ROOT);
    }

    /** The deployment's link-signing secret: created once by the first node that asks (from {@code candidate}). */
    public Future<byte[]> linkSigningSecret(byte[] candidate) {
        return pool.preparedQuery("INSERT INTO link_signing_secret (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING")
                .execute(Tuple.of(Buffer.buffer(candidate)))
                .compose(v -> pool.query("SELECT secret FROM link_signing_secret WHERE id = 1").execute())
                .map(rows -> rows.iterator().next().getBuffer(0).getBytes());
    }

    /**
     * Creates an account and its user, unverified; returns the user, or null when the email is taken (nothing is
     * created then).
     */
    public Future<User> signUp(String email, String passwordHash, String policyVersion, String locale) {
        String normalized = normalize(email);
        return pool.preparedQuery("""
                        WITH a AS (
                            INSERT INTO accounts (name) SELECT 'console'
                            WHERE NOT EXISTS (SELECT 1 FROM users WHERE email_normalized = $2)
                            RETURNING id)
                        INSERT INTO users (account_id, email, email_normalized, password_hash, adult_confirmed_at,
                                           policy_version, locale)
                        SELECT id, $1, $2, $3, now(), $4, $5 FROM a
                        ON CONFLICT (email_normalized) DO NOTHING
                        RETURNING id, account_id""")
                .execute(Tuple.of(email.trim(), normalized, passwordHash, policyVersion, locale))
                .map(rows -> {
                    if (rows.size() == 0) {
                        return null;
                    }
                    Row row = rows.iterator().next();
                    return new User(row.getLong(0), row.getLong(1), email.trim(), passwordHash, false);
                });
    }

    /**
     * The demo user of {@code accountId}: created verified with this password hash, or given it if the user exists
     * (every start prints a fresh password, as it prints a fresh key).
     */
    public Future<Void> ensureDemoUser(long accountId, String email, String passwordHash) {
        return pool.preparedQuery("""
                        INSERT INTO users (account_id, email, email_normalized, email_verified_at, password_hash,
                                           display_name, adult_confirmed_at, policy_version)
                        VALUES ($1, $2, $3, now(), $4, 'Demo', now(), 'demo')
                        ON CONFLICT (email_normalized) DO UPDATE SET password_hash = EXCLUDED.password_hash,
                            password_changed_at = now()""")
                .execute(Tuple.of(accountId, email, normalize(email), passwordHash))
                .mapEmpty();
    }

    /** The user signing in with {@code email} (any case), or null. */
    public Future<User> findByEmail(String email) {
        return pool.preparedQuery("""
                        SELECT id, account_id, email, password_hash, email_verified_at IS NOT NULL
                        FROM users WHERE email_normalized = $1 AND erased_at IS NULL""")
                .execute(Tuple.of(normalize(email)))
                .map(UserRepository::user);
    }

    public Future<User> findById(long userId) {
        return pool.preparedQuery("""
                        SELECT id, account_id, email, password_hash, email_verified_at IS NOT NULL
                        FROM users WHERE id = $1 AND erased_at IS NULL""")
                .execute(Tuple.of(userId))
                .map(UserRepository::user);
    }

    private static User user(RowSet<Row> rows) {
        if (rows.size() == 0) {
            return null;
        }
        Row row = rows.iterator().next();
        return new User(row.getLong(0), row.getLong(1), row.getString(2), row.getString(3), row.getBoolean(4));
    }

    /** What {@code GET /api/me} shows (without the balance, which is billing's), or null. */
    public Future<JsonObject> profile(long userId) {
        return pool.preparedQuery("""
                        SELECT u.id, u.email, u.email_verified_at IS NOT NULL, u.display_name, u.locale, u.account_id,
                               a.restricted_at IS NOT NULL, u.created_at
                        FROM users u JOIN accounts a ON a.id = u.account_id
                        WHERE u.id = $1 AND u.erased_at IS NULL""")
                .execute(Tuple.of(userId))
                .map(rows -> {
                    if (rows.size() == 0) {
                        return null;
                    }
                    Row row = rows.iterator().next();
                    return new JsonObject().put("id", row.getLong(0)).put("email", row.getString(1))
                            .put("email_verified", row.getBoolean(2)).put("display_name", row.getString(3))
                            .put("locale", row.getString(4)).put("account_id", row.getLong(5))
                            .put("restricted", row.getBoolean(6))
                            .put("created_at", Timestamps.iso(row.getOffsetDateTime(7)));
                });
    }

    /** Sets the given fields (a null leaves one as it is). */
    public Future<Void> updateProfile(long userId, String displayName, String locale) {
        return pool.preparedQuery("""
                        UPDATE users SET display_name = coalesce($2, display_name), locale = coalesce($3, locale)
                        WHERE id = $1 AND erased_at IS NULL""")
                .execute(Tuple.of(userId, displayName, locale))
                .mapEmpty();
    }

    /** Records one sign-in attempt; {@code userId} null when the email matched no user. */
    public Future<Void> recordLogin(Long userId, String ip, String userAgent, String outcome) {
        return pool.preparedQuery("INSERT INTO login_events (user_id, ip, user_agent, outcome) VALUES ($1, $2, $3, $4)")
                .execute(Tuple.of(userId, ip, userAgent, outcome))
                .mapEmpty();
    }

    // ---- sessions

    /** Opens a session ending at the latest {@code absoluteHours} from now; returns its id. */
    public Future<Long> createSession(long userId, byte[] tokenHash, String csrfToken, String userAgent, String ip,
            int absoluteHours) {
        return pool.preparedQuery("""
                        INSERT INTO sessions (user_id, token_hash, csrf_token, user_agent, ip, expires_at)
                        VALUES ($1, $2, $3, $4, $5, now() + make_interval(hours => $6)) RETURNING id""")
                .execute(Tuple.of(userId, Buffer.buffer(tokenHash), csrfToken, userAgent, ip, absoluteHours))
                .map(rows -> rows.iterator().next().getLong(0));
    }

    /**
     * The live session with this token hash, or null: not revoked, before its absolute expiry, seen within
     * {@code idleMinutes}, its user not erased. Marks it seen, at most once a minute, in the same statement.
     */
    public Future<Session> findSession(byte[] tokenHash, int idleMinutes) {
        return pool.preparedQuery("""
                        WITH s AS (
                            SELECT s.id, s.user_id, u.account_id, u.email, s.csrf_token, s.last_seen_at
                            FROM sessions s JOIN users u ON u.id = s.user_id
                            WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
                              AND s.last_seen_at > now() - make_interval(mins => $2) AND u.erased_at IS NULL),
                        seen AS (
                            UPDATE sessions SET last_seen_at = now() FROM s
                            WHERE sessions.id = s.id AND s.last_seen_at < now() - interval '1 minute')
                        SELECT id, user_id, account_id, email, csrf_token FROM s""")
                .execute(Tuple.of(Buffer.buffer(tokenHash), idleMinutes))
                .map(rows -> {
                    if (rows.size() == 0) {
                        return null;
                    }
                    Row row = rows.iterator().next();
                    return new Session(row.getLong(0), row.getLong(1), row.getLong(2), row.getString(3),
                            row.getString(4));
                });
    }

    /** Ends the session if it is the user's; false when it is not (or already ended). */
    public Future<Boolean> revokeSession(long userId, long sessionId) {
        return pool.preparedQuery("""
                        UPDATE sessions SET revoked_at = now()
                        WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING id""")
                .execute(Tuple.of(sessionId, userId))
                .map(rows -> rows.size() > 0);
    }

    /** Ends the session with this token hash, whoever's it is (a new sign-in replaces the one it came with). */
    public Future<Void> revokeSessionByToken(byte[] tokenHash) {
        return pool.preparedQuery("UPDATE sessions SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL")
                .execute(Tuple.of(Buffer.buffer(tokenHash)))
                .mapEmpty();
    }

    /** The user's live sessions, newest first; {@code current} marks {@code currentId}. */
    public Future<JsonArray> sessions(long userId, long currentId) {
        return pool.preparedQuery("""
                        SELECT id, user_agent, ip, created_at, last_seen_at FROM sessions
                        WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()
                        ORDER BY created_at DESC, id DESC""")
                .execute(Tuple.of(userId))
                .map(rows -> {
                    JsonArray data = new JsonArray();
                    for (Row row : rows) {
                        data.add(new JsonObject().put("id", row.getLong(0)).put("current", row.getLong(0) == currentId)
                                .put("user_agent", row.getString(1)).put("ip", row.getString(2))
                                .put("created_at", Timestamps.iso(row.getOffsetDateTime(3)))
                                .put("last_seen_at", Timestamps.iso(row.getOffsetDateTime(4))));
                    }
                    return data;
                });
    }

    /** Sets a new password and ends every session of the user but {@code keepSessionId} (0: all of them). */
    public Future<Void> changePassword(long userId, String passwordHash, long keepSessionId) {
        return pool.withTransaction(conn -> setPassword(conn, userId, passwordHash, keepSessionId)).mapEmpty();
    }

    private static Future<Boolean> setPassword(SqlConnection conn, long userId, String passwordHash,
            long keepSessionId) {
        return conn.preparedQuery("""
                        UPDATE users SET password_hash = $2, password_changed_at = clock_timestamp()
                        WHERE id = $1 AND erased_at IS NULL""")
                .execute(Tuple.of(userId, passwordHash))
                .compose(updated -> conn.preparedQuery("""
                                UPDATE sessions SET revoked_at = now()
                                WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL""")
                        .execute(Tuple.of(userId, keepSessionId))
                        .map(revoked -> updated.rowCount() == 1));
    }

    /** When the user's password last changed, in epoch milliseconds (a reset link names it), or -1. */
    public Future<Long> passwordChangedAt(long userId) {
        return pool.preparedQuery("""
                        SELECT floor(extract(epoch FROM password_changed_at) * 1000)::bigint FROM users
                        WHERE id = $1 AND erased_at IS NULL""")
                .execute(Tuple.of(userId))
                .map(rows -> rows.size() == 0 ? -1L : rows.iterator().next().getLong(0));
    }

    // ---- single-use links: each consumes its link and applies its effect in one transaction

    /** Marks the email verified if it is still the user's; false when the link was used or no longer applies. */
    public Future<Boolean> verifyEmail(String jti, OffsetDateTime expiresAt, long userId, String email) {
        return pool.withTransaction(conn -> consume(conn, jti, "verify", expiresAt).compose(fresh -> !fresh
                ? Future.succeededFuture(false)
                : conn.preparedQuery("""
                                UPDATE users SET email_verified_at = coalesce(email_verified_at, now())
                                WHERE id = $1 AND email_normalized = $2 AND erased_at IS NULL""")
                        .execute(Tuple.of(userId, normalize(email)))
                        .map(rows -> rows.rowCount() == 1)));
    }

    /**
     * Moves the user to {@code newEmail}, verified (the link reached it); false when the link was used, or the
     * address was taken in the meantime.
     */
    public Future<Boolean> changeEmail(String jti, OffsetDateTime expiresAt, long userId, String newEmail) {
        return pool.withTransaction(conn -> consume(conn, jti, "email_change", expiresAt).compose(fresh -> !fresh
                ? Future.succeededFuture(false)
                : conn.preparedQuery("""
                                UPDATE users SET email = $2, email_normalized = $3, email_verified_at = now()
                                WHERE id = $1 AND erased_at IS NULL
                                  AND NOT EXISTS (SELECT 1 FROM users o WHERE o.email_normalized = $3 AND o.id <> $1)""")
                        .execute(Tuple.of(userId, newEmail.trim(), normalize(newEmail)))
                        .map(rows -> rows.rowCount() == 1)));
    }

    /**
     * Sets a new password and ends every session of the user, if the password has not changed since the link was
     * mailed ({@code passwordChangedAt}, epoch ms); false when the link was used or is stale.
     */
    public Future<Boolean> resetPassword(String jti, OffsetDateTime expiresAt, long userId, long passwordChangedAt,
            String passwordHash) {
        return pool.withTransaction(conn -> consume(conn, jti, "reset", expiresAt).compose(fresh -> !fresh
                ? Future.succeededFuture(false)
                : conn.preparedQuery("""
                                SELECT 1 FROM users WHERE id = $1 AND erased_at IS NULL
                                  AND floor(extract(epoch FROM password_changed_at) * 1000)::bigint = $2
                                FOR UPDATE""")
                        .execute(Tuple.of(userId, passwordChangedAt))
                        .compose(rows -> rows.size() == 0 ? Future.succeededFuture(false)
                                : setPassword(conn, userId, passwordHash, 0))));
    }

    /** Records the link as used; false when it already was. */
    private static Future<Boolean> consume(SqlConnection conn, String jti, String purpose, OffsetDateTime expiresAt) {
        return conn.preparedQuery("""
                        INSERT INTO used_links (jti, purpose, expires_at) VALUES ($1, $2, $3)
                        ON CONFLICT (jti) DO NOTHING RETURNING jti""")
                .execute(Tuple.of(jti, purpose, expiresAt))
                .map(rows -> rows.size() == 1);
    }
}
