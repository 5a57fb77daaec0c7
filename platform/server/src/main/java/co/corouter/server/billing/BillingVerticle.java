package co.corouter.server.billing;

import co.corouter.server.billing.BillingContract.CreditChanged;
import co.corouter.server.billing.BillingContract.Reservation;
import co.corouter.server.billing.BillingContract.Reserve;
import co.corouter.server.billing.BillingContract.Settle;
import co.corouter.server.common.ErrorCodes;
import co.corouter.server.config.ServerOptions.BillingOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
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
 * Owns this node's credit leases (the demarcation protocol). A lease is a slice of an account's credit moved
 * from "free" to "leased to this node" by one conditional UPDATE; reservations are then served from memory,
 * so admission costs no database write. When a lease runs short, one extension query runs per account while
 * later requests queue behind it. An account found empty is not asked again for a second, unless credit is
 * added ({@link BillingContract#CREDIT_CHANGED}).
 *
 * <p>State is changed only on this verticle's event loop, by messages: no locks.
 */
public final class BillingVerticle extends VerticleBase {

    private static final Logger log = LoggerFactory.getLogger(BillingVerticle.class);
    private static final long EMPTY_BACKOFF_NANOS = 1_000_000_000L;
    private static final long IDLE_RELEASE_NANOS = 30_000_000_000L;

    private record Waiter(long amount, Message<Reserve> message) {
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

    private final String nodeId;
    private final LedgerRepository ledger;
    private final BillingOptions options;
    private final Map<Long, AccountLease> leases = new HashMap<>();
    private final List<MessageConsumer<?>> consumers = new ArrayList<>();
    private long heartbeatTimer;
    private long sweepTimer;

    public BillingVerticle(String nodeId, LedgerRepository ledger, BillingOptions options) {
        this.nodeId = nodeId;
        this.ledger = ledger;
        this.options = options;
    }

    @Override
    public Future<?> start() {
        consumers.add(vertx.eventBus().<Reserve>localConsumer(BillingContract.RESERVE, this::reserve));
        consumers.add(vertx.eventBus().<Settle>localConsumer(BillingContract.SETTLE, message -> settle(message.body())));
        consumers.add(vertx.eventBus().<CreditChanged>consumer(BillingContract.CREDIT_CHANGED,
                message -> creditChanged(message.body())));
        long heartbeatMillis = options.leaseTtlSeconds() * 1000L / 3;
        heartbeatTimer = vertx.setPeriodic(heartbeatMillis, id -> heartbeat());
        sweepTimer = vertx.setPeriodic(options.leaseTtlSeconds() * 1000L, id -> sweep());
        return Future.all(consumers.stream().map(MessageConsumer::completion).toList());
    }

    @Override
    public Future<?> stop() {
        vertx.cancelTimer(heartbeatTimer);
        vertx.cancelTimer(sweepTimer);
        return Future.all(consumers.stream().map(MessageConsumer::unregister).toList())
                .compose(v -> ledger.releaseAll(nodeId))
                .onFailure(e -> log.warn("releasing leases on stop failed (they expire in {} s): {}",
                        options.leaseTtlSeconds(), e.toString()));
    }

    private void reserve(Message<Reserve> message) {
        Reserve request = message.body();
        AccountLease lease = leases.computeIfAbsent(request.accountId(), id -> new AccountLease());
        long now = System.nanoTime();
        lease.lastUsed = now;
        if (lease.waiters.isEmpty() && lease.available >= request.amount()) {
            grant(lease, request.amount(), message);
            return;
        }
        if (!lease.extending && lease.emptyUntil - now > 0) {
            insufficient(message);
            return;
        }
        lease.waiters.add(new Waiter(request.amount(), message));
        if (!lease.extending) {
            extend(request.accountId(), lease);
        }
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
                failWaiters(lease, ErrorCodes.UNAVAILABLE, "billing is unavailable; try again shortly");
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
                grant(lease, next.amount, next.message);
            } else if (moreMayBeFree) {
                extend(accountId, lease);
                return;
            } else {
                lease.waiters.poll();
                insufficient(next.message);
            }
        }
    }

    private void grant(AccountLease lease, long amount, Message<Reserve> message) {
        lease.available -= amount;
        lease.reserved += amount;
        message.reply(new Reservation(message.body().accountId(), amount));
    }

    private void settle(Settle settle) {
        AccountLease lease = leases.get(settle.accountId());
        if (lease == null) {
            log.error("settlement for account {} without a lease on this node", settle.accountId());
            return;
        }
        lease.reserved -= settle.reserved();
        lease.available += settle.reserved() - settle.charged();
        if (!lease.waiters.isEmpty() && !lease.extending) {
            serveWaiters(settle.accountId(), lease, false);
        }
    }

    private void creditChanged(CreditChanged change) {
        AccountLease lease = leases.get(change.accountId());
        if (lease != null) {
            lease.emptyUntil = 0;
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
                    // the lease row is gone (swept after we failed to renew): this credit is no longer ours
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

    private void sweep() {
        ledger.sweepExpired()
                .onSuccess(count -> {
                    if (count > 0) {
                        log.info("released expired leases of {} accounts", count);
                    }
                })
                .onFailure(e -> log.warn("sweeping expired leases failed: {}", e.toString()));
    }

    private void failWaiters(AccountLease lease, int code, String message) {
        while (!lease.waiters.isEmpty()) {
            lease.waiters.poll().message.fail(code, message);
        }
    }

    private static void insufficient(Message<Reserve> message) {
        message.fail(ErrorCodes.INSUFFICIENT_CREDIT, "insufficient credit");
    }
}
