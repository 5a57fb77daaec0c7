package co.corouter.server.billing;

import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import co.corouter.server.config.ServerOptions.BillingOptions;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
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
 * The node's credit leases (the demarcation protocol), shared by every event loop. A lease is a slice of an
 * account's credit moved from "free" to "leased to this node" by one conditional UPDATE ({@link LedgerRepository#lease});
 * reservations are then served from memory, so admission is a method call on the calling loop.
 *
 * <p><b>Why one book per node, not one per event loop.</b> Per-loop books strand credit: the loop that leased an
 * account's last dollar holds it while a request for that account on another loop is refused. Here every loop draws
 * from the same per-account counter, so an account whose credit covers exactly one request is served whichever loop
 * the request lands on. The fast path is lock-free — a compare-and-set on the account's {@code available} — and
 * costs no more than the per-loop book did. Only a shortfall takes the account's monitor (microseconds, never
 * across I/O): it queues the request and runs at most one lease extension per account while later requests, from
 * any loop, queue behind it in arrival order; each waiter is completed on its own event loop.
 *
 * <p>Invariants: {@code available} never goes below zero (a take is a CAS that checks it); credit returned to an
 * account entry that has been retired (released when idle) goes straight back to the database, so no nano-dollar
 * is stranded in memory; settlement never returns more than was reserved.
 */
public final class CreditBook {

    private static final Logger log = LoggerFactory.getLogger(CreditBook.class);
    private static final long EMPTY_BACKOFF_NANOS = 1_000_000_000L;
    private static final long IDLE_RELEASE_NANOS = 30_000_000_000L;

    /** Credit held for one request; give it back with {@link #settle}. */
    public static final class Reservation {
        private final Account account;
        private final long amount;

        private Reservation(Account account, long amount) {
            this.account = account;
            this.amount = amount;
        }

        public long amount() {
            return amount;
        }

        public long accountId() {
            return account.id;
        }
    }

    private record Waiter(long amount, Promise<Reservation> promise, Context context) {
    }

    private static final class Account {
        final long id;
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

        Account(long id) {
            this.id = id;
        }
    }

    private final String nodeId;
    private final LedgerRepository ledger;
    private final BillingOptions options;
    private final ConcurrentHashMap<Long, Account> accounts = new ConcurrentHashMap<>();
    private volatile boolean closed;

    public CreditBook(String nodeId, LedgerRepository ledger, BillingOptions options) {
        this.nodeId = nodeId;
        this.ledger = ledger;
        this.options = options;
    }

    /**
     * Holds {@code amount} nano-dollars of the account's credit. Completes at once when the lease covers it;
     * fails with a 402 {@link ApiException} when the account cannot cover it, 503 when the database cannot be asked.
     * The returned future's callbacks run on the caller's event loop.
     */
    public Future<Reservation> reserve(long accountId, long amount) {
        if (amount <= 0) {
            throw new IllegalArgumentException("a reservation must be positive");
        }
        Account account = accounts.get(accountId);
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
        Account account = reservation.account;
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
    public void creditChanged(long accountId) {
        Account account = accounts.get(accountId);
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
        return ledger.heartbeat(nodeId, options.leaseTtlSeconds()).map(renewed -> {
            Set<Long> alive = new HashSet<>(renewed);
            long now = System.nanoTime();
            for (Account account : accounts.values()) {
                synchronized (account) {
                    if (!alive.contains(account.id) && !account.extending && started - account.leasedAt > 0) {
                        long dropped = account.available.getAndSet(0);
                        if (dropped > 0) {
                            log.warn("lease of account {} expired; dropping {} nano-USD of local credit", account.id,
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
        for (Account account : accounts.values()) {
            synchronized (account) {
                failWaiters(account, done, unavailable());
                account.retired = true;
                long give = account.available.getAndSet(0);
                if (give > 0) {
                    releases.add(ledger.release(nodeId, account.id, give));
                }
            }
        }
        done.forEach(Runnable::run);
        return Future.join(releases).mapEmpty();
    }

    /** Unreserved credit this node holds for the account (tests, operator views). */
    public long available(long accountId) {
        Account account = accounts.get(accountId);
        return account == null ? 0 : account.available.get();
    }

    private static boolean take(Account account, long amount) {
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

    private Future<Reservation> reserveSlowly(Account account, long amount) {
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
                result = Future.failedFuture(insufficient());
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
    private void extend(Account account) {
        long need;
        long want;
        synchronized (account) {
            long waiting = 0;
            for (Waiter waiter : account.waiters) {
                waiting += waiter.amount;
            }
            long available = account.available.get();
            need = Math.max(1, account.waiters.isEmpty() ? 1 : account.waiters.peek().amount - available);
            want = Math.max(options.leaseSliceNanos(), waiting - available);
        }
        ledger.lease(nodeId, account.id, want, need, options.leaseTtlSeconds())
                .onComplete(result -> leased(account, want, result.succeeded() ? result.result() : -1,
                        result.cause()));
    }

    private void leased(Account account, long want, long granted, Throwable failure) {
        List<Runnable> done = new ArrayList<>();
        boolean again;
        synchronized (account) {
            account.extending = false;
            if (failure != null) {
                log.error("leasing credit for account {} failed: {}", account.id, failure.toString());
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
    private boolean serveWaiters(Account account, boolean moreMayBeFree, List<Runnable> done) {
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
                done.add(() -> complete(next, null, insufficient()));
            }
        }
        account.waiting = account.waiters.size();
        return again;
    }

    private static void failWaiters(Account account, List<Runnable> done, ApiException why) {
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
    private void retire(Account account) {
        account.retired = true;
        accounts.remove(account.id, account);
        reclaim(account);
    }

    /** Returns whatever a retired entry holds to the database (credit settled into it after it retired). */
    private void reclaim(Account account) {
        long give = account.available.getAndSet(0);
        if (give > 0) {
            ledger.release(nodeId, account.id, give).onFailure(e -> log.warn(
                    "returning {} nano-USD of idle credit of account {} failed: {}", give, account.id, e.toString()));
        }
    }

    private static ApiException unavailable() {
        return new ApiException(ErrorCodes.UNAVAILABLE, "billing is unavailable; try again shortly");
    }

    static ApiException insufficient() {
        return new ApiException(ErrorCodes.INSUFFICIENT_CREDIT, "insufficient credit: add credit or lower max_tokens",
                new JsonObject().put("limit_source", "balance"));
    }
}
