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

    private BillingContract() {
    }
}
