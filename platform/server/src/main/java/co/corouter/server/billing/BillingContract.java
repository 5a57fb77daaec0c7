package co.corouter.server.billing;

import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import java.util.List;
import java.util.Map;

/**
 * The billing context's contract: what other contexts may use of it. Reservations are not messages: billing's own
 * pipeline stages (limits, admit, settle) call the node's {@link CreditBook} directly. What crosses contexts is the
 * news that an account's credit changed, the operator's credit service and the charge half of a usage batch.
 */
public final class BillingContract {

    /** Publish: {@link CreditChanged} after a grant or top-up, so credit books retry accounts they found empty. */
    public static final String CREDIT_CHANGED = "billing.credit-changed";

    public record CreditChanged(long accountId) {
    }

    /** A movement's outcome; {@code replayed} is true when the idempotency key had been used before. */
    public record Movement(long transactionId, long balance, boolean replayed) {
    }

    /**
     * An account's money, in nano-dollars; {@code owed}: what a reversed payment could not claw back, and then the
     * wallet is {@code frozen}.
     */
    public record Balance(long credited, long charged, long refunded, long balance, long leased, long owed,
                          boolean frozen) {
    }

    /** Credit and balances, for the operator API and the account endpoints. */
    public interface Credits {

        /**
         * Operator credit (grants → customer), idempotent by {@code idempotencyKey}: a replay with the same details
         * changes nothing; with other details it fails with 409. Fails with 404 for an unknown account and 400 when
         * the balance would leave the nano-dollar range.
         */
        Future<Movement> grant(long accountId, long amount, String reason, String idempotencyKey);

        /** Everything ever credited and charged, the balance and the part of it leased to nodes. */
        Future<Balance> balance(long accountId);

        /**
         * The operator settles a frozen wallet (a reversed payment whose credit was spent): collects what it owes from
         * its unleased balance, forgives the rest when {@code writeOff}, and unfreezes it once nothing is owed.
         */
        Future<Settlement> settle(long accountId, boolean writeOff);
    }

    /** A frozen wallet's debt: owed before, collected now, still owed, and whether the wallet is still frozen. */
    public record Settlement(long owedBefore, long collected, long owed, boolean frozen) {
    }

    /** One account's share of a usage batch: the sum of its requests' costs, collected as one charge. */
    public record UsageCharge(long accountId, long amount, int requests, String idempotencyKey) {
    }

    /**
     * The charge half of a usage batch, run by metering inside its own transaction so usage rows and their charges
     * commit together. Per account: one 'charge' transaction with two balanced entries, the wallet debited and this
     * node's lease shrunk by the charge (never below what its lease row holds).
     */
    public interface UsageCharges {

        /** Returns, per account, the charge transaction that collected its share and the balance it left. */
        Future<Map<Long, Collected>> collect(SqlConnection transaction, String nodeId, List<UsageCharge> charges);
    }

    /** A collected share: the charge transaction's id and the account's balance after it (nano-dollars). */
    public record Collected(long transactionId, long balance) {
    }

    /**
     * A movement of an account's credit other than usage charges (grants, top-ups, refunds, adjustments), for the
     * console's billing history. {@code amount} is positive (nano-dollars): a 'refund' (a reversed payment clawed back)
     * takes it from the account, every other kind credits it. {@code orderId}: the top-up order moved, or null.
     */
    public record CreditMovement(long id, String kind, long amount, String reason, java.time.OffsetDateTime createdAt,
                                 String orderId) {
    }

    /** Read side of the ledger for the account's owner (the console). */
    public interface History {

        /**
         * The account's movements except charges, newest first, strictly before ({@code beforeAt}, {@code beforeId})
         * in (created_at, id) order (both null: from the newest), at most {@code limit}.
         */
        Future<List<CreditMovement>> movements(long accountId, java.time.OffsetDateTime beforeAt, Long beforeId, int limit);

        /** Every ledger transaction of the account (charges included), oldest first, for the data export. */
        Future<io.vertx.core.json.JsonArray> transactions(long accountId);
    }

    /**
     * Lock order, everywhere money moves in PostgreSQL: wallets first (ascending account id), then lease rows. A
     * transaction that touches both takes the wallet locks with this statement before anything else; otherwise a
     * lease extension (wallet, then lease) and a settlement (lease, then wallet) deadlock under load.
     */
    static final String LOCK_WALLETS =
            "SELECT account_id FROM wallets WHERE account_id = ANY($1::bigint[]) ORDER BY account_id FOR UPDATE";

    /** The periods of limited keys, for {@code GET /v1/key}. */
    public interface KeyLimits {

        /**
         * What the key's period starting at {@code periodStart} has spent plus what other nodes hold of it and what
         * requests in flight on this node hold: the limit minus this is what remains for new requests.
         */
        Future<Long> committed(long keyId, java.time.OffsetDateTime periodStart);
    }

    /**
     * What a usage batch charged a limited key's period: {@code amount} nano-dollars of the requests whose holds were
     * taken in the period starting at {@code periodStart} (the same amounts as their balance charges).
     */
    public record KeySpend(long keyId, java.time.OffsetDateTime periodStart, long amount) {
    }

    /** Billing's side of a usage batch for limited keys, in metering's transaction after {@link UsageCharges}. */
    public interface KeySpends {

        /** Adds the spends to their periods and takes them out of this node's leases of them. */
        Future<Void> spend(SqlConnection transaction, String nodeId, List<KeySpend> spends);
    }

    private BillingContract() {
    }
}
