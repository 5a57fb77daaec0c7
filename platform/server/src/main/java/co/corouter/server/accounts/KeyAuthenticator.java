package co.corouter.server.accounts;

import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import io.vertx.core.Future;
import java.util.HexFormat;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Authenticates bearer keys with a per-node cache in front of PostgreSQL. A cached key costs one SHA-256 and a
 * map read on the calling event loop; a miss costs one indexed query. Revocation drops the entry at once
 * ({@link #invalidate}); entries also expire so a revocation on another node is seen within the TTL.
 */
public final class KeyAuthenticator {

    private static final long POSITIVE_TTL_NANOS = 60_000_000_000L;
    private static final long NEGATIVE_TTL_NANOS = 5_000_000_000L;
    private static final int MAX_ENTRIES = 100_000;

    private record Entry(AccountsContract.Principal principal, long expiresAt) {
    }

    private final AccountRepository repository;
    private final ConcurrentHashMap<String, Entry> cache = new ConcurrentHashMap<>();

    public KeyAuthenticator(AccountRepository repository) {
        this.repository = repository;
    }

    /** The principal for an {@code Authorization} header value, or a failed future with a 401 ApiException. */
    public Future<AccountsContract.Principal> authenticate(String authorization) {
        String key = bearer(authorization);
        if (key == null) {
            return Future.failedFuture(new ApiException(ErrorCodes.UNAUTHORIZED,
                    "missing API key: send 'Authorization: Bearer <key>'"));
        }
        if (!ApiKeys.wellFormed(key)) {
            return Future.failedFuture(new ApiException(ErrorCodes.UNAUTHORIZED, "malformed API key"));
        }
        byte[] hash = ApiKeys.hash(key);
        String cacheKey = HexFormat.of().formatHex(hash);
        long now = System.nanoTime();
        Entry entry = cache.get(cacheKey);
        if (entry != null && entry.expiresAt - now > 0) {
            return entry.principal != null ? Future.succeededFuture(entry.principal) : invalidKey();
        }
        return repository.findActiveKey(hash).compose(principal -> {
            if (cache.size() >= MAX_ENTRIES) {
                cache.clear();
            }
            long ttl = principal != null ? POSITIVE_TTL_NANOS : NEGATIVE_TTL_NANOS;
            cache.put(cacheKey, new Entry(principal, System.nanoTime() + ttl));
            return principal != null ? Future.succeededFuture(principal) : invalidKey();
        }, failure -> Future.failedFuture(new ApiException(ErrorCodes.UNAVAILABLE, "key lookup is unavailable")));
    }

    /** Forgets a key (by its SHA-256, hex) so the next request re-reads it. */
    public void invalidate(String keyHashHex) {
        cache.remove(keyHashHex);
    }

    private static Future<AccountsContract.Principal> invalidKey() {
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
