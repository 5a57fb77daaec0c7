package co.corouter.server.console;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Failed sign-ins counted per email and per client address, in windows of fixed length that start with a key's first
 * failure: once a key has its limit of failures in its window, sign-in for it is refused until the window ends.
 * Per node (a cluster of N nodes allows up to N times the limit), held in memory for at most one window per key.
 */
final class LoginThrottle {

    private static final int MAX_KEYS = 200_000;

    /** Failures of one key since its window began. */
    private static final class Window {
        final long startedNanos = System.nanoTime();
        final AtomicInteger failures = new AtomicInteger();
    }

    private final Cache<String, Window> byAccount;
    private final Cache<String, Window> byAddress;
    private final int accountLimit;
    private final int addressLimit;
    private final long windowNanos;

    LoginThrottle(int accountLimit, int addressLimit, Duration window) {
        this.accountLimit = accountLimit;
        this.addressLimit = addressLimit;
        this.windowNanos = window.toNanos();
        this.byAccount = windows();
        this.byAddress = windows();
    }

    private Cache<String, Window> windows() {
        return Caffeine.newBuilder().maximumSize(MAX_KEYS).expireAfter(new Expiry<String, Window>() {
            @Override
            public long expireAfterCreate(String key, Window value, long currentTime) {
                return windowNanos;
            }

            @Override
            public long expireAfterUpdate(String key, Window value, long currentTime, long currentDuration) {
                return currentDuration;
            }

            @Override
            public long expireAfterRead(String key, Window value, long currentTime, long currentDuration) {
                return currentDuration;
            }
        }).build();
    }

    /** Seconds until sign-in for this email or from this address is allowed again; 0 when it is allowed now. */
    long retryAfterSeconds(String email, String address) {
        return Math.max(blockedFor(byAccount.getIfPresent(email), accountLimit),
                blockedFor(byAddress.getIfPresent(address), addressLimit));
    }

    private long blockedFor(Window window, int limit) {
        if (window == null || window.failures.get() < limit) {
            return 0;
        }
        long left = window.startedNanos + windowNanos - System.nanoTime();
        return left <= 0 ? 0 : Math.max(1, (left + 999_999_999L) / 1_000_000_000L);
    }

    void failed(String email, String address) {
        byAccount.get(email, k -> new Window()).failures.incrementAndGet();
        byAddress.get(address, k -> new Window()).failures.incrementAndGet();
    }

    /** A successful sign-in clears its email's failures (not its address's: one address may try many emails). */
    void succeeded(String email) {
        byAccount.invalidate(email);
    }
}
