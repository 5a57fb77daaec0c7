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
 * Authenticates bearer keys with a node-wide Caffeine cache in front of PostgreSQL. A cached key costs one SHA-256 and
 * a cache read on the calling event loop. A miss first checks the key's signed checksum ({@link ApiKeys#signed}):
 * garbage and forged keys are refused without a query; a signed key costs one indexed query, and the answer — found
 * or not — is cached. Revocation drops the entry at once ({@link #invalidate}); entries also expire, so a revocation
 * on another node is seen within the positive TTL.
 */
public final class KeyAuthenticator implements AccountsContract.Authenticator {

    private static final long POSITIVE_TTL_NANOS = TimeUnit.SECONDS.toNanos(60);
    private static final long NEGATIVE_TTL_NANOS = TimeUnit.SECONDS.toNanos(30);
    private static final int MAX_ENTRIES = 100_000;
    private static final Principal UNKNOWN = new Principal(-1, -1, "");

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
    private final Cache<Hash, Principal> cache = Caffeine.newBuilder()
            .maximumSize(MAX_ENTRIES)
            .expireAfter(new Expiry<Hash, Principal>() {
                @Override
                public long expireAfterCreate(Hash key, Principal value, long currentTime) {
                    return value == UNKNOWN ? NEGATIVE_TTL_NANOS : POSITIVE_TTL_NANOS;
                }

                @Override
                public long expireAfterUpdate(Hash key, Principal value, long currentTime, long currentDuration) {
                    return expireAfterCreate(key, value, currentTime);
                }

                @Override
                public long expireAfterRead(Hash key, Principal value, long currentTime, long currentDuration) {
                    return currentDuration;
                }
            })
            .executor(Runnable::run)
            .build();

    public KeyAuthenticator(AccountRepository repository, ApiKeys keys) {
        this.repository = repository;
        this.keys = keys;
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
        Principal cached = cache.getIfPresent(hash);
        if (cached != null) {
            return cached == UNKNOWN ? invalidKey() : Future.succeededFuture(cached);
        }
        if (!keys.signed(key)) {
            return malformed();
        }
        return repository.findActiveKey(sha).compose(principal -> {
            cache.put(hash, principal == null ? UNKNOWN : principal);
            return principal != null ? Future.succeededFuture(principal) : invalidKey();
        }, failure -> Future.failedFuture(new ApiException(ErrorCodes.UNAVAILABLE, "key lookup is unavailable")));
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
