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

    /**
     * Who is calling: an active key of an account. {@code limit}: the key's spend limit, null when it has none (billing
     * enforces it); {@code expiresAt}: null when the key never expires (authentication refuses it after).
     */
    public record Principal(long keyId, long accountId, String label, KeyLimit limit, java.time.Instant expiresAt) {
    }

    /** How often a key's spend limit starts afresh: each UTC day, ISO week (Monday 00:00 UTC) or month, or never. */
    public enum LimitReset {
        DAILY, WEEKLY, MONTHLY, NEVER;

        /** The API's name: {@code daily}, {@code weekly}, {@code monthly}, or null for never. */
        public String wire() {
            return this == NEVER ? null : name().toLowerCase(java.util.Locale.ROOT);
        }

        /** From the API's name (null: never); IllegalArgumentException for anything else. */
        public static LimitReset ofWire(String value) {
            if (value == null) {
                return NEVER;
            }
            return switch (value) {
                case "daily" -> DAILY;
                case "weekly" -> WEEKLY;
                case "monthly" -> MONTHLY;
                default -> throw new IllegalArgumentException("must be daily, weekly, monthly or null");
            };
        }
    }

    /** A key may spend at most {@code amount} nano-dollars per {@code reset} period. */
    public record KeyLimit(long amount, LimitReset reset) {
    }

    /**
     * A change to a key's limit and expiry (PATCH semantics: a field not given is left as it is). {@code limit} null
     * with {@code limitGiven}: remove the limit; {@code expiresAt} null with {@code expiresGiven}: never expires.
     */
    public record KeySettings(boolean limitGiven, Long limit, boolean resetGiven, LimitReset reset,
            boolean expiresGiven, java.time.Instant expiresAt) {

        public static final KeySettings NONE = new KeySettings(false, null, false, null, false, null);

        /** A field of the request was not acceptable; {@code field} names it as the API spells it. */
        public static final class Invalid extends IllegalArgumentException {
            private final String field;

            public Invalid(String field, String message) {
                super(message);
                this.field = field;
            }

            public String field() {
                return field;
            }
        }

        public boolean any() {
            return limitGiven || resetGiven || expiresGiven;
        }

        /**
         * Reads {@code limit_usd} (a decimal USD string, or null for none), {@code limit_reset} ({@code daily},
         * {@code weekly}, {@code monthly} or null) and {@code expires_at} (an ISO-8601 instant, or null) from a request
         * body; money is never read from a JSON number with a binary fraction.
         */
        public static KeySettings parse(io.vertx.core.json.JsonObject body) {
            boolean limitGiven = body.containsKey("limit_usd");
            Long limit = null;
            if (limitGiven && body.getValue("limit_usd") != null) {
                Object given = body.getValue("limit_usd");
                String usd = given instanceof Integer || given instanceof Long ? given.toString()
                        : given instanceof String text ? text : null;
                if (usd == null) {
                    throw new Invalid("limit_usd", "'limit_usd' must be a decimal string such as \"5.00\", or null");
                }
                try {
                    limit = co.corouter.server.common.Money.parseUsd(usd, "'limit_usd'");
                } catch (IllegalArgumentException e) {
                    throw new Invalid("limit_usd", e.getMessage());
                }
                if (limit < 0) {
                    throw new Invalid("limit_usd", "'limit_usd' must not be negative");
                }
            }
            boolean resetGiven = body.containsKey("limit_reset");
            LimitReset reset = null;
            if (resetGiven) {
                Object given = body.getValue("limit_reset");
                if (given != null && !(given instanceof String)) {
                    throw new Invalid("limit_reset", "'limit_reset' must be daily, weekly, monthly or null");
                }
                try {
                    reset = LimitReset.ofWire((String) given);
                } catch (IllegalArgumentException e) {
                    throw new Invalid("limit_reset", "'limit_reset' " + e.getMessage());
                }
            }
            boolean expiresGiven = body.containsKey("expires_at");
            java.time.Instant expiresAt = null;
            if (expiresGiven && body.getValue("expires_at") != null) {
                Object given = body.getValue("expires_at");
                try {
                    expiresAt = java.time.OffsetDateTime.parse((String) given).toInstant();
                } catch (ClassCastException | java.time.format.DateTimeParseException e) {
                    throw new Invalid("expires_at", "'expires_at' must be an ISO-8601 time with an offset, "
                            + "such as 2030-01-01T00:00:00Z, or null");
                }
            }
            return new KeySettings(limitGiven, limit, resetGiven, reset, expiresGiven, expiresAt);
        }
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

        /** Changes a key's limit and expiry on every node at once: the key as the console lists it, or null. */
        Future<JsonObject> updateKey(long keyId, KeySettings settings);
    }

    /**
     * The console's view of an account's keys and of its processing restriction (the owner's requests). Every method
     * touches only keys of {@code accountId}: another account's key is "not found" (null or false).
     */
    public interface OwnerKeys {

        /**
         * The account's unrevoked keys, oldest first: {@code id, name, prefix, created_at, last_used_at, disabled,
         * limit_usd, limit_reset, expires_at}.
         */
        Future<JsonArray> ownerKeys(long accountId);

        /** A new key named {@code name}: {@code id, name, key} (shown once){@code , prefix, created_at} and settings. */
        Future<JsonObject> createOwnerKey(long accountId, String name, KeySettings settings);

        /** Changes the key's limit and expiry on every node at once; the key as {@link #ownerKeys} lists it, or null. */
        Future<JsonObject> updateOwnerKey(long accountId, long keyId, KeySettings settings);

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
