package co.corouter.server.billing;

import co.corouter.server.config.ServerOptions.BillingOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's billing housekeeping: returns the leases of nodes that stopped renewing them (a crashed node's credit
 * goes back to its accounts after the lease TTL). Reservations themselves are served by each ingress event loop's
 * {@link LeaseBook}, without a hop.
 */
public final class BillingVerticle extends VerticleBase {

    private static final Logger log = LoggerFactory.getLogger(BillingVerticle.class);

    private final LedgerRepository ledger;
    private final BillingOptions options;
    private long sweepTimer = -1;

    public BillingVerticle(LedgerRepository ledger, BillingOptions options) {
        this.ledger = ledger;
        this.options = options;
    }

    @Override
    public Future<?> start() {
        sweepTimer = vertx.setPeriodic(options.leaseTtlSeconds() * 1000L, id -> sweep());
        return Future.succeededFuture();
    }

    @Override
    public Future<?> stop() {
        vertx.cancelTimer(sweepTimer);
        return Future.succeededFuture();
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
}
