package co.corouter.server.billing;

import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import co.corouter.server.config.ServerOptions.BillingOptions;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.Collection;

/** The node's leases of accounts' balances ({@link LedgerRepository}'s wallets); a request is refused with 402. */
public final class CreditBook extends LeaseBook<Long> {

    public CreditBook(String nodeId, LedgerRepository ledger, BillingOptions options) {
        super(new Store<>() {
            @Override
            public Future<Long> lease(Long accountId, long want, long need) {
                return ledger.lease(nodeId, accountId, want, need, options.leaseTtlSeconds());
            }

            @Override
            public Future<Collection<Long>> renew() {
                return ledger.heartbeat(nodeId, options.leaseTtlSeconds()).map(alive -> alive);
            }

            @Override
            public Future<Void> release(Long accountId, long amount) {
                return ledger.release(nodeId, accountId, amount);
            }
        }, options.leaseSliceNanos(), CreditBook::insufficient);
    }

    static ApiException insufficient() {
        return new ApiException(ErrorCodes.INSUFFICIENT_CREDIT, "insufficient credit: add credit or lower max_tokens",
                new JsonObject().put("limit_source", "balance"));
    }
}
