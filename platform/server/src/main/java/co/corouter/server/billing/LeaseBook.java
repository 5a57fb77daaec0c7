package co.corouter.server.billing;

import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import co.corouter.server.config.ServerOptions.BillingOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Credit leases of one event loop (the demarcation protocol). A lease is a slice of an account's credit moved from
 * "free" to "leased to this node" by one conditional UPDATE; reservations are then served from memory on the
 * calling event loop, so admission is a method call: no database write, no thread hop. When a lease runs short,
 * one extension query runs per account while later requests queue behind it. An account found empty is not
 * asked again for a second unless credit is added ({@link #creditChanged}).
 *
 * <p>Confinement: one instance per ingress event loop, used only from that loop (like an actor whose mailbox is
 * the loop itself). Several books of one node share the node's lease rows, whose amounts are only ever added to
 * or subtracted from, so they never step on each other.
 */
public final class LeaseBook {

    private static final Logger log = LoggerFactory.getLogger(LeaseBook.class);
    private static final long EMPTY_BACKOFF_NANOS = 1_000_000_000L;
    private static final long IDLE_RELEASE_NANOS = 30_000_000_000L;

    private record Waiter(long amount, Promise<Long> promise) {
    }

    private static final class AccountLease {
        long available;
        long reserved;
        boolean extending;
        long emptyUntil;
        long lastUsed;
        long leasedAt;
        final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    }

    private final Vertx vertx;
    private final String nodeId;
    private final LedgerRepository ledger;
    private final BillingOptions options;
    private final Map<Long, AccountLease> leases = new HashMap<>();
    private long heartbeatTimer = -1;

    public LeaseBook(Vertx vertx, String nodeId, LedgerRepository ledger, BillingOptions options) {
        this.vertx = vertx;
        this.nodeId = nodeId;
        this.ledger = ledger;
        this.options = options;
    }

    /** Starts renewing this book's leases; call on the owning event loop. */
    public void start() {
        heartbeatTimer = vertx.setPeriodic(options.leaseTtlSeconds() * 1000L / 3, id -> heartbeat());
    }

    /**
     * Holds {@code amount} nano-dollars of the account's credit. Completes at once when the lease covers it;
     * fails with a 402 {@link ApiException} when the account cannot cover it, 503 when the database cannot be
     * asked.
     */
    public Future<Long> reserve(long accountId, long amount) {
        AccountLease lease = leases.computeIfAbsent(accountId, id -> new AccountLease());
        long now = System.nanoTime();
        lease.lastUsed = now;
        if (lease.waiters.isEmpty() && lease.available >= amount) {
            lease.available -= amount;
            lease.reserved += amount;
            return Future.succeededFuture(amount);
        }
        if (!lease.extending && lease.emptyUntil - now > 0) {
            return Future.failedFuture(insufficient());
        }
        Promise<Long> promise = Promise.promise();
        lease.waiters.add(new Waiter(amount, promise));
        if (!lease.extending) {
            extend(accountId, lease);
        }
        return promise.future();
    }

    /**
     * The request ended: of {@code reserved}, {@code charged} is spent (metering writes it to the ledger), the rest
     * returns to the lease. {@code 0 <= charged <= reserved}.
     */
    public void settle(long accountId, long reserved, long charged) {
        if (charged < 0 || charged > reserved) {
            throw new IllegalArgumentException("charged must be within 0..reserved");
        }
        AccountLease lease = leases.get(accountId);
        if (lease == null) {
            log.error("settlement for account {} without a lease in this book", accountId);
            return;
        }
        lease.reserved -= reserved;
        lease.available += reserved - charged;
        if (!lease.waiters.isEmpty() && !lease.extending) {
            serveWaiters(accountId, lease, false);
        }
    }

    /** Credit was added to the account: ask the database again on the next shortfall. */
    public void creditChanged(long accountId) {
        AccountLease lease = leases.get(accountId);
        if (lease != null) {
            lease.emptyUntil = 0;
        }
    }

    /**
     * Stops renewing and gives back every unreserved nano-dollar. Charges not yet written by metering are not part
     * of {@code available}, so this is exact whichever of the two reaches the database first.
     */
    public Future<Void> stop() {
        if (heartbeatTimer >= 0) {
            vertx.cancelTimer(heartbeatTimer);
        }
        List<Future<Void>> releases = new ArrayList<>();
        leases.forEach((accountId, lease) -> {
            failWaiters(lease);
            if (lease.available > 0) {
                releases.add(ledger.release(nodeId, accountId, lease.available));
                lease.available = 0;
            }
        });
        return Future.join(releases).mapEmpty();
    }

    private void extend(long accountId, AccountLease lease) {
        long waiting = 0;
        for (Waiter waiter : lease.waiters) {
            waiting += waiter.amount;
        }
        long need = Math.max(1, lease.waiters.peek().amount - lease.available);
        long want = Math.max(options.leaseSliceNanos(), waiting - lease.available);
        lease.extending = true;
        ledger.lease(nodeId, accountId, want, need, options.leaseTtlSeconds()).onComplete(result -> {
            lease.extending = false;
            if (result.failed()) {
                log.error("leasing credit for account {} failed: {}", accountId, result.cause().toString());
                failWaiters(lease);
                return;
            }
            long granted = result.result();
            lease.available += granted;
            lease.leasedAt = System.nanoTime();
            if (granted < want) {
                lease.emptyUntil = System.nanoTime() + EMPTY_BACKOFF_NANOS;
            }
            serveWaiters(accountId, lease, granted >= want);
        });
    }

    private void serveWaiters(long accountId, AccountLease lease, boolean moreMayBeFree) {
        while (!lease.waiters.isEmpty()) {
            Waiter next = lease.waiters.peek();
            if (lease.available >= next.amount) {
                lease.waiters.poll();
                lease.available -= next.amount;
                lease.reserved += next.amount;
                next.promise.complete(next.amount);
            } else if (moreMayBeFree) {
                extend(accountId, lease);
                return;
            } else {
                lease.waiters.poll().promise.fail(insufficient());
            }
        }
    }

    private void heartbeat() {
        long started = System.nanoTime();
        ledger.heartbeat(nodeId, options.leaseTtlSeconds()).onSuccess(renewed -> {
            Set<Long> alive = new HashSet<>(renewed);
            long now = System.nanoTime();
            List<Long> idle = new ArrayList<>();
            leases.forEach((accountId, lease) -> {
                if (!alive.contains(accountId) && lease.available > 0 && !lease.extending
                        && started - lease.leasedAt > 0) {
                    // the lease row is gone (swept after renewals failed): this credit is no longer ours
                    log.warn("lease of account {} expired; dropping {} nano-USD of local credit", accountId,
                            lease.available);
                    lease.available = 0;
                }
                if (lease.reserved == 0 && lease.waiters.isEmpty() && !lease.extending
                        && now - lease.lastUsed > IDLE_RELEASE_NANOS) {
                    idle.add(accountId);
                }
            });
            for (Long accountId : idle) {
                AccountLease lease = leases.remove(accountId);
                ledger.release(nodeId, accountId, lease.available)
                        .onFailure(e -> log.warn("returning an idle lease of account {} failed: {}", accountId,
                                e.toString()));
            }
        }).onFailure(e -> log.warn("lease heartbeat failed: {}", e.toString()));
    }

    private static void failWaiters(AccountLease lease) {
        while (!lease.waiters.isEmpty()) {
            lease.waiters.poll().promise.fail(new ApiException(ErrorCodes.UNAVAILABLE,
                    "billing is unavailable; try again shortly"));
        }
    }

    private static ApiException insufficient() {
        return new ApiException(ErrorCodes.INSUFFICIENT_CREDIT, "insufficient credit: add credit or lower max_tokens",
                new io.vertx.core.json.JsonObject().put("limit_source", "corouter_credits"));
    }
}
