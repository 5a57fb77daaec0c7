package co.corouter.server.accounts;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

/** Accounts and API keys in PostgreSQL; the keys' last use for metering ({@link AccountsContract.KeyUse}). */
public final class AccountRepository implements AccountsContract.KeyUse {

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

    /**
     * An unrevoked key, and whether its owner switched it off or restricted the account's processing, or billing froze
     * the account's wallet (a reversed payment it could not claw back in full).
     */
    record KeyState(AccountsContract.Principal principal, boolean disabled, boolean restricted, boolean frozen) {
    }

    /** The unrevoked key with this hash, or null. */
    public Future<KeyState> findActiveKey(byte[] hash) {
        return pool.preparedQuery("""
                        SELECT k.id, k.account_id, k.label, k.disabled_at IS NOT NULL, a.restricted_at IS NOT NULL,
                               k.spend_limit, k.limit_reset, k.expires_at, w.frozen_at IS NOT NULL
                        FROM api_keys k JOIN accounts a ON a.id = k.account_id
                        LEFT JOIN wallets w ON w.account_id = k.account_id
                        WHERE k.key_hash = $1 AND k.revoked_at IS NULL""")
                .execute(Tuple.of(io.vertx.core.buffer.Buffer.buffer(hash)))
                .map(rows -> {
                    if (rows.size() == 0) {
                        return null;
                    }
                    Row row = rows.iterator().next();
                    Long limit = row.getLong(5);
                    java.time.OffsetDateTime expires = row.getOffsetDateTime(7);
                    return new KeyState(new AccountsContract.Principal(row.getLong(0), row.getLong(1),
                            row.getString(2), limit == null ? null : new AccountsContract.KeyLimit(limit,
                                    AccountsContract.LimitReset.ofWire(row.getString(6))),
                            expires == null ? null : expires.toInstant()), row.getBoolean(3), row.getBoolean(4),
                            Boolean.TRUE.equals(row.getBoolean(8)));
                });
    }

    private static final String OWNER_KEY_COLUMNS =
            "id, label, display, created_at, last_used_at, disabled_at, spend_limit, limit_reset, expires_at";

    /** The account's unrevoked keys, as the console lists them (usage is metering's, added by the caller). */
    public Future<JsonArray> ownerKeys(long accountId) {
        return pool.preparedQuery("SELECT " + OWNER_KEY_COLUMNS
                        + " FROM api_keys WHERE account_id = $1 AND revoked_at IS NULL ORDER BY id")
                .execute(Tuple.of(accountId))
                .map(rows -> {
                    JsonArray keys = new JsonArray();
                    rows.forEach(row -> keys.add(ownerKey(row)));
                    return keys;
                });
    }

    private static JsonObject ownerKey(Row row) {
        java.time.OffsetDateTime lastUsed = row.getOffsetDateTime("last_used_at");
        java.time.OffsetDateTime expires = row.getOffsetDateTime("expires_at");
        Long limit = row.getLong("spend_limit");
        return new JsonObject().put("id", row.getLong("id")).put("name", row.getString("label"))
                .put("prefix", row.getString("display"))
                .put("created_at", row.getOffsetDateTime("created_at").toInstant().toString())
                .put("last_used_at", lastUsed == null ? null : lastUsed.toInstant().toString())
                .put("disabled", row.getOffsetDateTime("disabled_at") != null)
                .put("limit_usd", limit == null ? null : co.corouter.server.common.Money.toUsdText(limit))
                .put("limit_reset", row.getString("limit_reset"))
                .put("expires_at", expires == null ? null : expires.toInstant().toString());
    }

    /** Stores a new key of the account with its limit and expiry; returns it as the console lists it, and the key. */
    public Future<JsonObject> createOwnerKey(long accountId, String key, String name,
            AccountsContract.KeySettings settings) {
        return pool.preparedQuery("INSERT INTO api_keys (account_id, key_hash, display, label, spend_limit, "
                        + "limit_reset, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING " + OWNER_KEY_COLUMNS)
                .execute(Tuple.of(accountId, io.vertx.core.buffer.Buffer.buffer(ApiKeys.hash(key)),
                        ApiKeys.display(key), name, settings.limit(),
                        settings.reset() == null ? null : settings.reset().wire(), expiry(settings)))
                .map(rows -> ownerKey(rows.iterator().next()).put("key", key));
    }

    /**
     * Changes an unrevoked key's limit and expiry (only the fields given); {@code accountId} null: whichever account
     * owns it (the operator). Returns the key as the console lists it plus {@code account_id}, or null.
     */
    public Future<JsonObject> updateSettings(Long accountId, long keyId, AccountsContract.KeySettings settings) {
        return pool.preparedQuery("""
                        UPDATE api_keys SET
                            spend_limit = CASE WHEN $3 THEN $4::bigint ELSE spend_limit END,
                            limit_reset = CASE WHEN $5 THEN $6::text ELSE limit_reset END,
                            expires_at = CASE WHEN $7 THEN $8::timestamptz ELSE expires_at END
                        WHERE id = $1 AND ($2::bigint IS NULL OR account_id = $2) AND revoked_at IS NULL
                        RETURNING account_id, """ + OWNER_KEY_COLUMNS)
                .execute(Tuple.tuple(java.util.Arrays.asList(keyId, accountId, settings.limitGiven(), settings.limit(),
                        settings.resetGiven(), settings.reset() == null ? null : settings.reset().wire(),
                        settings.expiresGiven(), expiry(settings))))
                .map(rows -> {
                    if (rows.size() == 0) {
                        return null;
                    }
                    Row row = rows.iterator().next();
                    return ownerKey(row).put("account_id", row.getLong("account_id"));
                });
    }

    private static java.time.OffsetDateTime expiry(AccountsContract.KeySettings settings) {
        return settings.expiresAt() == null ? null
                : java.time.OffsetDateTime.ofInstant(settings.expiresAt(), java.time.ZoneOffset.UTC);
    }

    /** Disables or enables an unrevoked key of the account; the key, or null when the account has no such key. */
    public Future<JsonObject> setDisabled(long accountId, long keyId, boolean disabled) {
        return pool.preparedQuery("UPDATE api_keys SET disabled_at = CASE WHEN $3 THEN coalesce(disabled_at, now()) "
                        + "END WHERE id = $1 AND account_id = $2 AND revoked_at IS NULL RETURNING " + OWNER_KEY_COLUMNS)
                .execute(Tuple.of(keyId, accountId, disabled))
                .map(rows -> rows.size() == 0 ? null : ownerKey(rows.iterator().next()));
    }

    /** Revokes an unrevoked key of the account; its hash (hex), or null when the account has no such key. */
    public Future<String> revokeOwnerKey(long accountId, long keyId) {
        return pool.preparedQuery("""
                        UPDATE api_keys SET revoked_at = now()
                        WHERE id = $1 AND account_id = $2 AND revoked_at IS NULL RETURNING key_hash""")
                .execute(Tuple.of(keyId, accountId))
                .map(rows -> rows.size() == 0 ? null
                        : java.util.HexFormat.of().formatHex(rows.iterator().next().getBuffer(0).getBytes()));
    }

    public Future<Void> restrict(long accountId, boolean restricted) {
        return pool.preparedQuery("""
                        UPDATE accounts SET restricted_at = CASE WHEN $2 THEN coalesce(restricted_at, now()) END
                        WHERE id = $1""")
                .execute(Tuple.of(accountId, restricted))
                .mapEmpty();
    }

    public Future<Boolean> restricted(long accountId) {
        return pool.preparedQuery("SELECT restricted_at IS NOT NULL FROM accounts WHERE id = $1")
                .execute(Tuple.of(accountId))
                .map(rows -> rows.size() > 0 && rows.iterator().next().getBoolean(0));
    }

    /** Revokes every key of the account and pseudonymises its name, in one transaction. */
    public Future<Void> erase(long accountId) {
        return pool.withTransaction(conn -> conn.preparedQuery(
                                "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE account_id = $1")
                        .execute(Tuple.of(accountId))
                        .compose(v -> conn.preparedQuery("UPDATE accounts SET name = 'erased-' || id WHERE id = $1")
                                .execute(Tuple.of(accountId))))
                .mapEmpty();
    }

    /**
     * Moves the keys' last use forward. The key rows are locked in id order first: two nodes' batches touching the
     * same keys cannot deadlock.
     */
    @Override
    public Future<Void> markUsed(io.vertx.sqlclient.SqlConnection transaction,
            java.util.SortedMap<Long, Long> lastUsed) {
        if (lastUsed.isEmpty()) {
            return Future.succeededFuture();
        }
        Long[] ids = lastUsed.keySet().toArray(Long[]::new);
        java.time.OffsetDateTime[] at = lastUsed.values().stream()
                .map(millis -> java.time.OffsetDateTime.ofInstant(java.time.Instant.ofEpochMilli(millis),
                        java.time.ZoneOffset.UTC))
                .toArray(java.time.OffsetDateTime[]::new);
        return transaction.preparedQuery("""
                        WITH used AS (
                            SELECT * FROM unnest($1::bigint[], $2::timestamptz[]) AS u(id, at)
                        ), locked AS (
                            SELECT k.id FROM api_keys k JOIN used u ON u.id = k.id
                            WHERE k.last_used_at IS NULL OR k.last_used_at < u.at
                            ORDER BY k.id FOR UPDATE OF k
                        )
                        UPDATE api_keys k SET last_used_at = u.at FROM used u
                        WHERE k.id = u.id AND k.id IN (SELECT id FROM locked)
                          AND (k.last_used_at IS NULL OR k.last_used_at < u.at)""")
                .execute(Tuple.tuple(java.util.List.of(ids, at)))
                .mapEmpty();
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
