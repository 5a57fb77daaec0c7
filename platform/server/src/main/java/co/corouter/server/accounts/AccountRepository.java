package co.corouter.server.accounts;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

/** Accounts and API keys in PostgreSQL. */
public final class AccountRepository {

    private final Pool pool;

    public AccountRepository(Pool pool) {
        this.pool = pool;
    }

    /** Creates an account (billing opens its wallet with the first movement into it). */
    public Future<Long> createAccount(String name) {
        return pool.preparedQuery("INSERT INTO accounts (name) VALUES ($1) RETURNING id")
                .execute(Tuple.of(name))
                .map(rows -> rows.iterator().next().getLong(0));
    }

    /**
     * The deployment's key-signing secret: created once by the first node that asks (from {@code candidate}), then
     * the same for every node on this database.
     */
    public Future<byte[]> keySigningSecret(byte[] candidate) {
        return pool.preparedQuery("""
                        INSERT INTO key_signing_secret (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING""")
                .execute(Tuple.of(io.vertx.core.buffer.Buffer.buffer(candidate)))
                .compose(v -> pool.query("SELECT secret FROM key_signing_secret WHERE id = 1").execute())
                .map(rows -> rows.iterator().next().getBuffer(0).getBytes());
    }

    public Future<Long> findAccountByName(String name) {
        return pool.preparedQuery("SELECT id FROM accounts WHERE name = $1 ORDER BY id LIMIT 1")
                .execute(Tuple.of(name))
                .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getLong(0));
    }

    public Future<JsonObject> account(long accountId) {
        return pool.preparedQuery("SELECT id, name, created_at FROM accounts WHERE id = $1")
                .execute(Tuple.of(accountId))
                .map(rows -> {
                    if (rows.size() == 0) {
                        return null;
                    }
                    Row row = rows.iterator().next();
                    return new JsonObject().put("id", row.getLong("id")).put("name", row.getString("name"))
                            .put("created_at", row.getOffsetDateTime("created_at").toString());
                });
    }

    /** Stores a new key's hash; returns its id. */
    public Future<Long> createKey(long accountId, String key, String label) {
        return pool.preparedQuery(
                        "INSERT INTO api_keys (account_id, key_hash, display, label) VALUES ($1, $2, $3, $4) RETURNING id")
                .execute(Tuple.of(accountId, io.vertx.core.buffer.Buffer.buffer(ApiKeys.hash(key)), ApiKeys.display(key),
                        label))
                .map(rows -> rows.iterator().next().getLong(0));
    }

    /** Marks the key revoked; returns its hash (hex) so caches can drop it, or null when there is no such key. */
    public Future<String> revokeKey(long keyId) {
        return pool.preparedQuery(
                        "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING key_hash")
                .execute(Tuple.of(keyId))
                .map(rows -> rows.size() == 0 ? null
                        : java.util.HexFormat.of().formatHex(rows.iterator().next().getBuffer(0).getBytes()));
    }

    /** The active key with this hash, or null. */
    public Future<AccountsContract.Principal> findActiveKey(byte[] hash) {
        return pool.preparedQuery("SELECT id, account_id, label FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL")
                .execute(Tuple.of(io.vertx.core.buffer.Buffer.buffer(hash)))
                .map(rows -> {
                    if (rows.size() == 0) {
                        return null;
                    }
                    Row row = rows.iterator().next();
                    return new AccountsContract.Principal(row.getLong(0), row.getLong(1), row.getString(2));
                });
    }

    public Future<JsonArray> keys(long accountId) {
        return pool.preparedQuery(
                        "SELECT id, display, label, created_at, revoked_at FROM api_keys WHERE account_id = $1 ORDER BY id")
                .execute(Tuple.of(accountId))
                .map(rows -> {
                    JsonArray keys = new JsonArray();
                    for (Row row : rows) {
                        keys.add(new JsonObject().put("id", row.getLong("id")).put("display", row.getString("display"))
                                .put("label", row.getString("label"))
                                .put("created_at", row.getOffsetDateTime("created_at").toString())
                                .put("revoked", row.getOffsetDateTime("revoked_at") != null));
                    }
                    return keys;
                });
    }
}
