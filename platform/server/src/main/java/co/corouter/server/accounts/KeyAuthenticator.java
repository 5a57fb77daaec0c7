package co.corouter.server.accounts;

import co.corouter.server.accounts.AccountsContract.Principal;
import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import io.vertx.core.Future;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

/**
 * Authenticates bearer keys with a node-wide Caffeine cache in front of PostgreSQL. A key its owner disabled is refused
 * with 401, so is a key past its {@code expires_at}, every key of an account whose owner restricted processing (policy §8) with 403. A cached key costs one SHA-256 and
 * a cache read on the calling event loop. A miss first checks the key's signed checksum ({@link ApiKeys#signed}):
 * garbage and forged keys are refused without a query; a signed key costs one indexed query, and the answer — found
 * or not — is cached. Revocation drops the entry at once ({@link #invalidate}), a change to the account's keys or
 * restriction drops all of the account's entries ({@link #invalidateAccount}); both are broadcast to every node, and
 * entries also expire, so a missed broadcast is seen within the positive TTL.
 */
public final class KeyAuthenticator implements AccountsContract.Authenticator {

    private static final long POSITIVE_TTL_NANOS = TimeUnit.SECONDS.toNanos(60);
    private static final long NEGATIVE_TTL_NANOS = TimeUnit.SECONDS.toNanos(30);
    private static final int MAX_ENTRIES = 100_000;
    private static final AccountRepository.KeyState UNKNOWN =
            new AccountRepository.KeyState(new Principal(-1, -1, "", null, null), false, false, false);

    /** A key's SHA-256 as a map key, compared by content. */
    private record Hash(byte[] bytes) {
        @Override
        public boolean equals(Object other) {
            return other instanceof Hash h && Arrays.equals(bytes, h.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }
    }

    private final AccountRepository repository;
    private final ApiKeys keys;
    private final java.time.Clock clock;
    private final Cache<Hash, AccountRepository.KeyState> cache = Caffeine.newBuilder()
            .maximumSize(MAX_ENTRIES)
            .expireAfter(new Expiry<Hash, AccountRepository.KeyState>() {
                @Override
                public long expireAfterCreate(Hash key, AccountRepository.KeyState value, long currentTime) {
                    return value == UNKNOWN ? NEGATIVE_TTL_NANOS : POSITIVE_TTL_NANOS;
                }

                @Override
                public long expireAfterUpdate(Hash key, AccountRepository.KeyState value, long currentTime,
                        long currentDuration) {
                    return expireAfterCreate(key, value, currentTime);
                }

                @Override
                public long expireAfterRead(Hash key, AccountRepository.KeyState value, long currentTime,
                        long currentDuration) {
                    return currentDuration;
                }
            })
            .executor(Runnable::run)
            .build();

    /** {@code clock}: decides when a key with {@code expires_at} has expired (tests move it). */
    public KeyAuthenticator(AccountRepository repository, ApiKeys keys, java.time.Clock clock) {
        this.repository = repository;
        this.keys = keys;
        this.clock = clock;
    }

    @Override
    public Future<Principal> authenticate(String authorization) {
        String key = bearer(authorization);
        if (key == null) {
            return Future.failedFuture(new ApiException(ErrorCodes.UNAUTHORIZED,
                    "missing API key: send 'Authorization: Bearer <key>'"));
        }
        if (!ApiKeys.shaped(key)) {
            return malformed();
        }
        byte[] sha = ApiKeys.hash(key);
        Hash hash = new Hash(sha);
        AccountRepository.KeyState cached = cache.getIfPresent(hash);
        if (cached != null) {
            return admit(cached);
        }
        if (!keys.signed(key)) {
            return malformed();
        }
        return repository.findActiveKey(sha).compose(state -> {
            AccountRepository.KeyState known = state == null ? UNKNOWN : state;
            cache.put(hash, known);
            return admit(known);
        }, failure -> Future.failedFuture(new ApiException(ErrorCodes.UNAVAILABLE, "key lookup is unavailable")));
    }

    private Future<Principal> admit(AccountRepository.KeyState state) {
        if (state == UNKNOWN) {
            return invalidKey();
        }
        if (state.restricted()) {
            return Future.failedFuture(new ApiException(ErrorCodes.FORBIDDEN,
                    "processing restricted by the account owner"));
        }
        if (state.frozen()) {
            return Future.failedFuture(new ApiException(ErrorCodes.FORBIDDEN, "account frozen: a payment of this "
                    + "account was reversed after its credit was spent; the operator must settle it"));
        }
        if (state.disabled()) {
            return Future.failedFuture(new ApiException(ErrorCodes.UNAUTHORIZED, "this API key is disabled"));
        }
        java.time.Instant expiresAt = state.principal().expiresAt();
        if (expiresAt != null && clock.millis() >= expiresAt.toEpochMilli()) {
            return Future.failedFuture(new ApiException(ErrorCodes.UNAUTHORIZED, "this API key has expired"));
        }
        return Future.succeededFuture(state.principal());
    }

    /** Forgets every key of the account, so the next request re-reads its state. */
    public void invalidateAccount(long accountId) {
        cache.asMap().values().removeIf(state -> state.principal().accountId() == accountId);
    }

    /** Forgets a key (by its SHA-256, hex) so the next request re-reads it. */
    public void invalidate(String keyHashHex) {
        cache.invalidate(new Hash(HexFormat.of().parseHex(keyHashHex)));
    }

    private static Future<Principal> malformed() {
        return Future.failedFuture(new ApiException(ErrorCodes.UNAUTHORIZED, "malformed API key"));
    }

    private static Future<Principal> invalidKey() {
        return Future.failedFuture(new ApiException(ErrorCodes.UNAUTHORIZED, "invalid or revoked API key"));
    }

    private static String bearer(String authorization) {
        if (authorization == null || authorization.length() < 8
                || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        String key = authorization.substring(7).trim();
        return key.isEmpty() ? null : key;
    }
}
