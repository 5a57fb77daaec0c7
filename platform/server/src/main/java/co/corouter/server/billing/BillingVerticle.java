package co.corouter.server.billing;

import co.corouter.server.config.ServerOptions.BillingOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's billing housekeeping, on its own context: renews this node's credit leases (and returns idle ones)
 * through the {@link CreditBook}, tells the book when an account's credit changed, and returns the leases of nodes
 * that stopped renewing theirs (a crashed node's credit goes back to its accounts after the lease TTL); the same for
 * this node's leases of limited keys' periods ({@link KeyLimitBook}).
 * Reservations themselves are served by the book on the calling event loop, without a hop.
 */
public final class BillingVerticle extends VerticleBase {

    private static final Logger log = LoggerFactory.getLogger(BillingVerticle.class);

    private final LedgerRepository ledger;
    private final CreditBook credits;
    private final KeyLimitBook keyLimits;
    private final BillingOptions options;
    private MessageConsumer<BillingContract.CreditChanged> creditChanges;
    private long heartbeatTimer = -1;
    private long sweepTimer = -1;

    public BillingVerticle(LedgerRepository ledger, CreditBook credits, KeyLimitBook keyLimits, BillingOptions options) {
        this.ledger = ledger;
        this.credits = credits;
        this.keyLimits = keyLimits;
        this.options = options;
    }

    @Override
    public Future<?> start() {
        creditChanges = vertx.eventBus().consumer(BillingContract.CREDIT_CHANGED,
                message -> credits.creditChanged(message.body().accountId()));
        heartbeatTimer = vertx.setPeriodic(options.leaseTtlSeconds() * 1000L / 3, id -> {
            credits.heartbeat().onFailure(e -> log.warn("lease heartbeat failed: {}", e.toString()));
            keyLimits.heartbeat().onFailure(e -> log.warn("key-limit lease heartbeat failed: {}", e.toString()));
        });
        sweepTimer = vertx.setPeriodic(options.leaseTtlSeconds() * 1000L, id -> sweep());
        return creditChanges.completion();
    }

    /** Stops renewing; the node's stop returns the book's credit ({@link CreditBook#close()}) once ingress is gone. */
    @Override
    public Future<?> stop() {
        vertx.cancelTimer(heartbeatTimer);
        vertx.cancelTimer(sweepTimer);
        return creditChanges.unregister();
    }

    private void sweep() {
        ledger.sweepExpired()
                .onSuccess(count -> {
                    if (count > 0) {
                        log.info("released expired leases of {} accounts", count);
                    }
                })
                .onFailure(e -> log.warn("sweeping expired leases failed: {}", e.toString()));
        keyLimits.sweep().onFailure(e -> log.warn("sweeping expired key-limit leases failed: {}", e.toString()));
    }
}
