package co.corouter.server.billing;

/**
 * The billing context's event-bus contract. Reservations are not messages: each ingress event loop owns a
 * {@link LeaseBook} and calls it directly. What crosses contexts is the news that an account's credit changed.
 */
public final class BillingContract {

    /** Publish: {@link CreditChanged} after a grant or top-up, so lease books retry accounts they found empty. */
    public static final String CREDIT_CHANGED = "billing.credit-changed";

    public record CreditChanged(long accountId) {
    }

    /**
     * Lock order, everywhere money moves in PostgreSQL: wallets first (ascending account id), then lease rows. A
     * transaction that touches both takes the wallet locks with this statement before anything else; otherwise a
     * lease extension (wallet, then lease) and a settlement (lease, then wallet) deadlock under load.
     */
    public static final String LOCK_WALLETS =
            "SELECT account_id FROM wallets WHERE account_id = ANY($1::bigint[]) ORDER BY account_id FOR UPDATE";

    private BillingContract() {
    }
}
