package co.corouter.server.billing;

import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's leases of credit (the demarcation protocol), shared by every event loop: of an account's balance
 * ({@link CreditBook}) or of a limited key's period ({@link KeyLimitBook}). A lease is a slice of the holder's credit
 * moved from "free" to "leased to this node" by one conditional statement ({@link Store#lease}); reservations are
 * then served from memory, so admission is a method call on the calling loop. What requests are charged leaves the
 * lease with the usage batch that bills it (metering), in the same transaction.
 *
 * <p><b>Why one book per node, not one per event loop.</b> Per-loop books strand credit: the loop that leased a
 * holder's last dollar holds it while a request for that holder on another loop is refused. Here every loop draws
 * from the same per-holder counter, so a holder whose credit covers exactly one request is served whichever loop
 * the request lands on. The fast path is lock-free — a compare-and-set on the holder's {@code available} — and
 * costs no more than the per-loop book did. Only a shortfall takes the holder's monitor (microseconds, never
 * across I/O): it queues the request and runs at most one lease extension per holder while later requests, from
 * any loop, queue behind it in arrival order; each waiter is completed on its own event loop.
 *
 * <p>Invariants: {@code available} never goes below zero (a take is a CAS that checks it); credit returned to a
 * holder's entry that has been retired (released when idle) goes straight back to the database, so no nano-dollar
 * is stranded in memory; settlement never returns more than was reserved.
 */
public class LeaseBook<K> {

    private static final Logger log = LoggerFactory.getLogger(LeaseBook.class);
    private static final long EMPTY_BACKOFF_NANOS = 1_000_000_000L;
    private static final long IDLE_RELEASE_NANOS = 30_000_000_000L;

    /** Credit held for one request; give it back with {@link #settle}. */
    public static final class Reservation {
        private final Account<?> account;
        private final long amount;

        private Reservation(Account<?> account, long amount) {
            this.account = account;
            this.amount = amount;
        }

        public long amount() {
            return amount;
        }

        /** What it holds credit of: the account, or the key's period. */
        public Object holder() {
            return account.id;
        }
    }

    private record Waiter(long amount, Promise<LeaseBook.Reservation> promise, Context context) {
    }

    private static final class Account<K> {
        final K id;
        /** Leased to this node and not reserved. */
        final AtomicLong available = new AtomicLong();
        /** Reserved by requests in flight; raised before a take so an idle check never misses one. */
        final AtomicLong reserved = new AtomicLong();
        volatile long lastUsed = System.nanoTime();
        /** waiters.size(), read without the lock: the fast path must not overtake queued requests. */
        volatile int waiting;
        volatile boolean retired;
        // guarded by the monitor:
        boolean extending;
        long emptyUntil;
        long leasedAt;
        final ArrayDeque<Waiter> waiters = new ArrayDeque<>();

        Account(K id) {
            this.id = id;
        }
    }

    /**
     * Where the leases live: one conditional statement per call, each naming this node. {@code lease} moves up to
     * {@code want} of what {@code id} has free to this node, but only if at least {@code need} is free, and returns
     * what it moved (0 when less than {@code need} was free); {@code renew} extends every lease of this node and
     * returns the holders whose lease rows still exist; {@code release} gives back at most what this node's lease of
     * {@code id} holds.
     */
    public interface Store<K> {

        Future<Long> lease(K id, long want, long need);

        Future<java.util.Collection<K>> renew();

        Future<Void> release(K id, long amount);
    }

    private final Store<K> store;
    private final long sliceNanos;
    private final java.util.function.Supplier<ApiException> insufficient;
    private final ConcurrentHashMap<K, Account<K>> accounts = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /**
     * {@code sliceNanos}: the least a lease asks for; {@code insufficient}: the refusal of a request its holder cannot
     * cover.
     */
    protected LeaseBook(Store<K> store, long sliceNanos, java.util.function.Supplier<ApiException> insufficient) {
        this.store = store;
        this.sliceNanos = sliceNanos;
        this.insufficient = insufficient;
    }

    /**
     * Holds {@code amount} nano-dollars of the account's credit. Completes at once when the lease covers it;
     * fails with a 402 {@link ApiException} when the account cannot cover it, 503 when the database cannot be asked.
     * The returned future's callbacks run on the caller's event loop.
     */
    public Future<Reservation> reserve(K accountId, long amount) {
        if (amount <= 0) {
            throw new IllegalArgumentException("a reservation must be positive");
        }
        Account<K> account = accounts.get(accountId);
        if (account == null) {
            account = accounts.computeIfAbsent(accountId, Account::new);
        }
        account.lastUsed = System.nanoTime();
        if (account.waiting == 0 && take(account, amount)) {
            return Future.succeededFuture(new Reservation(account, amount));
        }
        return reserveSlowly(account, amount);
    }

    /**
     * The request ended: of the reservation, {@code charged} is spent (metering writes it to the ledger), the rest
     * returns to the node's lease. {@code 0 <= charged <= reserved}.
     */
    public void settle(Reservation reservation, long charged) {
        if (charged < 0 || charged > reservation.amount) {
            throw new IllegalArgumentException("charged must be within 0..reserved");
        }
        @SuppressWarnings("unchecked")
        Account<K> account = (Account<K>) reservation.account;
        account.reserved.addAndGet(-reservation.amount);
        long back = reservation.amount - charged;
        if (back > 0) {
            account.available.addAndGet(back);
        }
        if (account.retired) {
            reclaim(account);
        } else if (account.waiting > 0) {
            List<Runnable> done = new ArrayList<>();
            synchronized (account) {
                if (!account.extending) {
                    serveWaiters(account, false, done);
                }
            }
            done.forEach(Runnable::run);
        }
    }

    /** Credit was added to the account: ask the database again on the next shortfall. */
    public void creditChanged(K accountId) {
        Account<K> account = accounts.get(accountId);
        if (account != null) {
            synchronized (account) {
                account.emptyUntil = 0;
            }
        }
    }

    /**
     * Renews this node's lease rows; drops local credit whose row is gone (swept after renewals failed: that credit is
     * back in the wallet and no longer ours) and returns the credit of accounts idle for a while. Called periodically
     * by the billing verticle.
     */
    public Future<Void> heartbeat() {
        long started = System.nanoTime();
        return store.renew().map(renewed -> {
            Set<K> alive = new HashSet<>(renewed);
            long now = System.nanoTime();
            for (Account<K> account : accounts.values()) {
                synchronized (account) {
                    if (!alive.contains(account.id) && !account.extending && started - account.leasedAt > 0) {
                        long dropped = account.available.getAndSet(0);
                        if (dropped > 0) {
                            log.warn("lease of {} expired; dropping {} nano-USD of local credit", account.id,
                                    dropped);
                        }
                    }
                    if (account.reserved.get() == 0 && account.waiters.isEmpty() && !account.extending
                            && now - account.lastUsed > IDLE_RELEASE_NANOS) {
                        retire(account);
                    }
                }
            }
            return null;
        });
    }

    /**
     * Stops serving: queued requests fail with 503 and every unreserved nano-dollar goes back to its account. Charges
     * not yet written by metering are not part of {@code available}, so this is exact whichever of the two reaches the
     * database first.
     */
    public Future<Void> close() {
        closed = true;
        List<Future<Void>> releases = new ArrayList<>();
        List<Runnable> done = new ArrayList<>();
        for (Account<K> account : accounts.values()) {
            synchronized (account) {
                failWaiters(account, done, unavailable());
                account.retired = true;
                long give = account.available.getAndSet(0);
                if (give > 0) {
                    releases.add(store.release(account.id, give));
                }
            }
        }
        done.forEach(Runnable::run);
        return Future.join(releases).mapEmpty();
    }

    /** Unreserved credit this node holds for the account (tests, operator views). */
    public long available(K accountId) {
        Account<K> account = accounts.get(accountId);
        return account == null ? 0 : account.available.get();
    }

    private static boolean take(Account<?> account, long amount) {
        account.reserved.addAndGet(amount);
        while (true) {
            long available = account.available.get();
            if (available < amount) {
                account.reserved.addAndGet(-amount);
                return false;
            }
            if (account.available.compareAndSet(available, available - amount)) {
                return true;
            }
        }
    }

    private Future<Reservation> reserveSlowly(Account<K> account, long amount) {
        Future<Reservation> result;
        boolean extend = false;
        synchronized (account) {
            if (account.retired) {
                result = null;
            } else if (account.waiters.isEmpty() && take(account, amount)) {
                result = Future.succeededFuture(new Reservation(account, amount));
            } else if (closed) {
                result = Future.failedFuture(unavailable());
            } else if (!account.extending && account.emptyUntil - System.nanoTime() > 0) {
                result = Future.failedFuture(insufficient.get());
            } else {
                Promise<Reservation> promise = Promise.promise();
                account.waiters.add(new Waiter(amount, promise, Vertx.currentContext()));
                account.waiting = account.waiters.size();
                if (!account.extending) {
                    account.extending = true;
                    extend = true;
                }
                result = promise.future();
            }
        }
        if (result == null) {
            // retired while idle: the account starts afresh with a new entry
            return reserve(account.id, amount);
        }
        if (extend) {
            extend(account);
        }
        return result;
    }

    /** One lease query for the account; {@code extending} is already set. */
    private void extend(Account<K> account) {
        long need;
        long want;
        synchronized (account) {
            long waiting = 0;
            for (Waiter waiter : account.waiters) {
                waiting += waiter.amount;
            }
            long available = account.available.get();
            need = Math.max(1, account.waiters.isEmpty() ? 1 : account.waiters.peek().amount - available);
            want = Math.max(sliceNanos, waiting - available);
        }
        store.lease(account.id, want, need)
                .onComplete(result -> leased(account, want, result.succeeded() ? result.result() : -1,
                        result.cause()));
    }

    private void leased(Account<K> account, long want, long granted, Throwable failure) {
        List<Runnable> done = new ArrayList<>();
        boolean again;
        synchronized (account) {
            account.extending = false;
            if (failure != null) {
                log.error("leasing credit for {} failed: {}", account.id, failure.toString());
                failWaiters(account, done, unavailable());
                again = false;
            } else {
                account.available.addAndGet(granted);
                account.leasedAt = System.nanoTime();
                if (granted < want) {
                    account.emptyUntil = System.nanoTime() + EMPTY_BACKOFF_NANOS;
                }
                again = serveWaiters(account, granted >= want, done);
            }
        }
        done.forEach(Runnable::run);
        if (account.retired) {
            reclaim(account);
        }
        if (again) {
            extend(account);
        }
    }

    /**
     * Serves queued requests in order while the lease covers them (holding the monitor). Returns true when it set
     * {@code extending} for one more lease query, which the caller must start after releasing the monitor.
     */
    private boolean serveWaiters(Account<K> account, boolean moreMayBeFree, List<Runnable> done) {
        boolean again = false;
        while (!account.waiters.isEmpty()) {
            Waiter next = account.waiters.peek();
            if (take(account, next.amount)) {
                account.waiters.poll();
                Reservation reservation = new Reservation(account, next.amount);
                done.add(() -> complete(next, reservation, null));
            } else if (moreMayBeFree && !closed) {
                account.extending = true;
                again = true;
                break;
            } else {
                account.waiters.poll();
                done.add(() -> complete(next, null, insufficient.get()));
            }
        }
        account.waiting = account.waiters.size();
        return again;
    }

    private static void failWaiters(Account<?> account, List<Runnable> done, ApiException why) {
        while (!account.waiters.isEmpty()) {
            Waiter waiter = account.waiters.poll();
            done.add(() -> complete(waiter, null, why));
        }
        account.waiting = 0;
    }

    /** Completes a waiter on its own event loop (it may have queued from another one). */
    private static void complete(Waiter waiter, Reservation reservation, Throwable failure) {
        Runnable completion = () -> {
            if (failure == null) {
                waiter.promise.complete(reservation);
            } else {
                waiter.promise.fail(failure);
            }
        };
        if (waiter.context == null || Vertx.currentContext() == waiter.context) {
            completion.run();
        } else {
            waiter.context.runOnContext(v -> completion.run());
        }
    }

    /** Holding the monitor of an idle account: its credit goes back and later arrivals get a fresh entry. */
    private void retire(Account<K> account) {
        account.retired = true;
        accounts.remove(account.id, account);
        reclaim(account);
    }

    /** Returns whatever a retired entry holds to the database (credit settled into it after it retired). */
    private void reclaim(Account<K> account) {
        long give = account.available.getAndSet(0);
        if (give > 0) {
            store.release(account.id, give).onFailure(e -> log.warn(
                    "returning {} nano-USD of idle credit of {} failed: {}", give, account.id, e.toString()));
        }
    }

    private static ApiException unavailable() {
        return new ApiException(ErrorCodes.UNAVAILABLE, "billing is unavailable; try again shortly");
    }

}
