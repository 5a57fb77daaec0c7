package co.corouter.server.accounts;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

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

    private AccountsContract() {
    }
}
