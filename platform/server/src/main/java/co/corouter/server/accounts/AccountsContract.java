package co.corouter.server.accounts;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlConnection;

/**
 * The accounts context's contract. Key lookups are a per-node cache read ({@link Authenticator}); the one message is
 * the revocation broadcast, so every node drops a revoked key at once.
 */
public final class AccountsContract {

    /** Published when a key is revoked; body: {@link KeyRevoked}. Every node's key cache listens. */
    public static final String KEY_REVOKED = "accounts.key-revoked";

    /** The revoked key's hash, hex-encoded (never the key). */
    public record KeyRevoked(String keyHashHex) {
    }

    /**
     * Published when one of an account's keys was disabled or enabled, or the account's processing was restricted or
     * the restriction lifted, or the account was erased; body: {@link KeysChanged}. Every node's key cache drops the
     * account's keys, so the next request re-reads them.
     */
    public static final String KEYS_CHANGED = "accounts.keys-changed";

    public record KeysChanged(long accountId) {
    }

    /** Who is calling: an active key of an account. */
    public record Principal(long keyId, long accountId, String label) {
    }

    /** A key just created: the secret, shown once, and what lists show. */
    public record NewKey(long id, String key, String display, String label) {
    }

    /** Resolves an {@code Authorization} header to a principal, or fails with a 401 (503 when it cannot ask). */
    public interface Authenticator {
        Future<Principal> authenticate(String authorization);
    }

    /** Accounts and keys, for the operator API and start-up. Input is validated here: invalid names are 400s. */
    public interface Accounts {

        Future<Long> createAccount(String name);

        /** The first account with this name, or null. */
        Future<Long> findAccountByName(String name);

        /** {@code id}, {@code name}, {@code created_at}, or null when there is no such account. */
        Future<JsonObject> account(long accountId);

        /** A new key for the account (404 when there is no such account). */
        Future<NewKey> createKey(long accountId, String label);

        /** Revokes the key at once on every node; false when there is no such key. */
        Future<Boolean> revokeKey(long keyId);

        Future<JsonArray> keys(long accountId);
    }

    /**
     * The console's view of an account's keys and of its processing restriction (the owner's requests). Every method
     * touches only keys of {@code accountId}: another account's key is "not found" (null or false).
     */
    public interface OwnerKeys {

        /** The account's unrevoked keys, oldest first: {@code id, name, prefix, created_at, last_used_at, disabled}. */
        Future<JsonArray> ownerKeys(long accountId);

        /** A new key named {@code name}: {@code id, name, key} (shown once){@code , prefix, created_at}. */
        Future<JsonObject> createOwnerKey(long accountId, String name);

        /** Disables or enables the key on every node at once; the key as {@link #ownerKeys} lists it, or null. */
        Future<JsonObject> setKeyDisabled(long accountId, long keyId, boolean disabled);

        /** Revokes the key on every node at once; false when the account has no such unrevoked key. */
        Future<Boolean> revokeOwnerKey(long accountId, long keyId);

        /** Sets or clears the account's processing restriction (policy §8) on every node at once. */
        Future<Void> restrict(long accountId, boolean restricted);

        /** Whether the account's processing is restricted. */
        Future<Boolean> restricted(long accountId);

        /** Revokes every key of the account and replaces its name by {@code erased-<id>} (the erasure, policy §8). */
        Future<Void> erase(long accountId);
    }

    /**
     * Last use of keys, written by metering inside the transaction of a usage batch: {@code lastUsed} maps key ids
     * to the newest request time of the batch (epoch millis); a key's time only moves forward.
     */
    public interface KeyUse {

        Future<Void> markUsed(SqlConnection transaction, java.util.SortedMap<Long, Long> lastUsed);
    }

    private AccountsContract() {
    }
}
