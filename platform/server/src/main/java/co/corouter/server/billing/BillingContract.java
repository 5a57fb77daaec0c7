package co.corouter.server.billing;

/**
 * The billing context's event-bus contract. Billing owns each node's credit leases and the reservations served
 * from them; messages are records passed by reference on the node (see {@code LocalCodec}).
 */
public final class BillingContract {

    /** Request: {@link Reserve}; reply: {@link Reservation}, or failure {@code 402} / {@code 503}. */
    public static final String RESERVE = "billing.reserve";
    /** Send (no reply): {@link Settle}. */
    public static final String SETTLE = "billing.settle";
    /** Publish: {@link CreditChanged} after a grant or top-up, so nodes retry accounts they found empty. */
    public static final String CREDIT_CHANGED = "billing.credit-changed";

    /** Hold {@code amount} nano-dollars of the account's credit for one request. */
    public record Reserve(long accountId, long amount) {
    }

    /** A granted hold. */
    public record Reservation(long accountId, long amount) {
    }

    /**
     * The request ended: of {@code reserved}, {@code charged} is spent (and is being written to the ledger by
     * metering), the rest returns to the node's lease. {@code charged <= reserved} always.
     */
    public record Settle(long accountId, long reserved, long charged) {
        public Settle {
            if (charged < 0 || charged > reserved) {
                throw new IllegalArgumentException("charged must be within 0..reserved");
            }
        }
    }

    public record CreditChanged(long accountId) {
    }

    private BillingContract() {
    }
}
