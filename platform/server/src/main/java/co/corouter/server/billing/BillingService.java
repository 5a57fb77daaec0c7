package co.corouter.server.billing;

import co.corouter.server.billing.BillingContract.Balance;
import co.corouter.server.billing.BillingContract.Movement;
import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The billing context's {@link BillingContract.Credits}: grants (announced to every credit book) and balances. */
public final class BillingService implements BillingContract.Credits {

    private static final Logger log = LoggerFactory.getLogger(BillingService.class);

    private final LedgerRepository ledger;
    private final EventBus bus;

    public BillingService(LedgerRepository ledger, EventBus bus) {
        this.ledger = ledger;
        this.bus = bus;
    }

    @Override
    public Future<Movement> grant(long accountId, long amount, String reason, String idempotencyKey) {
        return ledger.grant(accountId, amount, reason, idempotencyKey).onSuccess(movement -> {
            bus.publish(BillingContract.CREDIT_CHANGED, new BillingContract.CreditChanged(accountId));
            log.info("granted {} nano-USD to account {} (transaction {}, replayed {})", amount, accountId,
                    movement.transactionId(), movement.replayed());
        });
    }

    @Override
    public Future<BillingContract.Settlement> settle(long accountId, boolean writeOff) {
        return ledger.settle(accountId, writeOff, "settle:" + accountId + ":" + java.util.UUID.randomUUID())
                .onSuccess(settlement -> {
                    bus.publish(BillingContract.CREDIT_CHANGED, new BillingContract.CreditChanged(accountId));
                    bus.publish(co.corouter.server.accounts.AccountsContract.KEYS_CHANGED,
                            new co.corouter.server.accounts.AccountsContract.KeysChanged(accountId));
                    log.info("account {} settled: owed {}, collected {}, still owed {} nano-USD, frozen {}", accountId,
                            settlement.owedBefore(), settlement.collected(), settlement.owed(), settlement.frozen());
                });
    }

    @Override
    public Future<Balance> balance(long accountId) {
        return ledger.balance(accountId);
    }
}
