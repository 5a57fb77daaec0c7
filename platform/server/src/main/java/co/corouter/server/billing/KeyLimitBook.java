package co.corouter.server.billing;

import co.corouter.server.config.ServerOptions.BillingOptions;
import io.vertx.core.Future;
import java.time.OffsetDateTime;
import java.util.Collection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's leases of limited keys' periods ({@link KeyLimitRepository}): a request's hold on its key's limit is a
 * reservation from the node's slice of the period, in memory, exactly as a balance's ({@link CreditBook}); a request
 * the key's period cannot cover is refused with 402, {@code metadata.limit_source = "key"}. A slice is asked for with
 * the key's current limit, so a lowered limit holds from the next lease on, on every node.
 */
public final class KeyLimitBook extends LeaseBook<KeyLimitBook.Period> implements BillingContract.KeyLimits {

    private static final Logger log = LoggerFactory.getLogger(KeyLimitBook.class);

    /** A limited key's period: the UTC day, week or month starting at {@code start} (the epoch: no reset). */
    public record Period(long keyId, OffsetDateTime start) {
    }

    private final KeyLimitRepository repository;

    public KeyLimitBook(String nodeId, KeyLimitRepository repository, BillingOptions options) {
        super(new Store<>() {
            @Override
            public Future<Long> lease(Period period, long want, long need) {
                return repository.lease(nodeId, period, want, need, options.leaseTtlSeconds());
            }

            @Override
            public Future<Collection<Period>> renew() {
                return repository.renew(nodeId, options.leaseTtlSeconds());
            }

            @Override
            public Future<Void> release(Period period, long amount) {
                return repository.release(nodeId, period, amount);
            }
        }, options.leaseSliceNanos(), LimitsStage::limitReached);
        this.repository = repository;
    }

    /** The database's spent-and-leased, less what this node has leased and not reserved. */
    @Override
    public Future<Long> committed(long keyId, OffsetDateTime periodStart) {
        return repository.spentAndLeased(keyId, periodStart)
                .map(committed -> Math.max(0, committed - available(new Period(keyId, periodStart))));
    }

    /** Releases every node's expired leases; logs what it gave back. */
    public Future<Long> sweep() {
        return repository.sweepExpired().onSuccess(released -> {
            if (released > 0) {
                log.info("released {} nano-USD of expired key-limit leases", released);
            }
        });
    }
}
