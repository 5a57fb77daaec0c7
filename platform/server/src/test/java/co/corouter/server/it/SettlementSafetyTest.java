package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import co.corouter.server.billing.LedgerRepository;
import co.corouter.server.common.LocalCodec;
import co.corouter.server.config.ServerOptions;
import co.corouter.server.metering.MeteringContract;
import co.corouter.server.metering.MeteringContract.UsageRecord;
import co.corouter.server.metering.MeteringVerticle;
import co.corouter.server.metering.UsageBacklog;
import co.corouter.server.metering.UsageRepository;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The ledger's edges: a node that lost its lease, a release larger than the lease, a replayed idempotency key with
 * different details, and a charge the ledger refuses — none may corrupt balances or hold up other rows.
 */
class SettlementSafetyTest {

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder().build();

    Vertx vertx;
    Pool pool;
    LedgerRepository ledger;
    UsageRepository usage;

    @BeforeEach
    void ownPool() throws Exception {
        vertx = Vertx.vertx();
        pool = CorouterNode.sharedDatabase().pool(vertx, 4);
        ledger = new LedgerRepository(pool);
        usage = new UsageRepository(pool, ledger, new co.corouter.server.billing.KeyLimitRepository(pool),
                new co.corouter.server.accounts.AccountRepository(pool));
    }

    @AfterEach
    void closePool() {
        CorouterNode.await(pool.close());
        CorouterNode.await(vertx.close());
    }

    UsageRecord record(long accountId, long keyId, long cost) {
        return new UsageRecord("gen-test-" + UUID.randomUUID(), accountId, keyId, CorouterNode.MOCK_MODEL, "mock",
                "mock-small", false, 200, null, "stop", 10, 10, 0, 0, 0, false, false, cost, 5,
                System.currentTimeMillis(), null, "chat", null);
    }

    long leased(long accountId) {
        return NODE.sql("SELECT coalesce((SELECT leased FROM wallets WHERE account_id = $1), 0)::bigint", accountId).iterator().next().getLong(0);
    }

    long leaseRows(long accountId) {
        return NODE.sql("SELECT coalesce(sum(amount), 0)::bigint FROM leases WHERE account_id = $1", accountId)
                .iterator().next().getLong(0);
    }

    @Test
    void aNodeWhoseLeaseWasSweptDoesNotEatIntoAnotherNodesLeaseWhenItSettles() {
        CorouterNode.Account account = NODE.newAccount("0.000001");
        String swept = "node-swept-" + UUID.randomUUID();
        String live = "node-live-" + UUID.randomUUID();
        assertThat(CorouterNode.await(ledger.lease(swept, account.id(), 600, 600, 60))).isEqualTo(600);
        NODE.sql("DELETE FROM leases WHERE node_id = $1", swept);
        NODE.sql("UPDATE wallets SET leased = leased - 600 WHERE account_id = $1", account.id());
        assertThat(CorouterNode.await(ledger.lease(live, account.id(), 300, 300, 60))).isEqualTo(300);

        CorouterNode.await(usage.settleBatch(List.of(record(account.id(), account.keyId(), 200)), swept, false));

        assertThat(NODE.balance(account.id())).isEqualTo(800);
        assertThat(leased(account.id())).as("the live node's lease is untouched").isEqualTo(300)
                .isEqualTo(leaseRows(account.id()));
        CorouterNode.await(ledger.releaseAll(live));
        assertThat(leased(account.id())).isZero();
        NODE.assertLedgerBalances();
    }

    @Test
    void aBatchChargesEachAccountOnceAndARetriedBatchChargesNothingTwice() {
        CorouterNode.Account a = NODE.newAccount("1.00");
        CorouterNode.Account b = NODE.newAccount("1.00");
        String nodeId = "node-batch-" + UUID.randomUUID();
        List<UsageRecord> batch = List.of(record(a.id(), a.keyId(), 1_000), record(b.id(), b.keyId(), 2_000),
                record(a.id(), a.keyId(), 3_000), record(a.id(), a.keyId(), 0));

        CorouterNode.await(usage.settleBatch(batch, nodeId, false));
        // the same batch again, as after a commit whose acknowledgement was lost, plus one new row
        UsageRecord late = record(a.id(), a.keyId(), 500);
        CorouterNode.await(usage.settleBatch(List.of(batch.get(2), batch.get(0), late, batch.get(1)), nodeId, true));

        var charges = NODE.sql("""
                SELECT account_id, amount, reason FROM ledger_transactions
                WHERE kind = 'charge' AND account_id = ANY($1) ORDER BY id""", (Object) new Long[] {a.id(), b.id()});
        assertThat(charges).extracting(row -> row.getLong("account_id") + ":" + row.getLong("amount") + ":"
                        + row.getString("reason"))
                .containsExactlyInAnyOrder(a.id() + ":4000:usage of 2 requests", b.id() + ":2000:usage of 1 requests",
                        a.id() + ":500:usage of 1 requests");
        assertThat(NODE.chargeFor(batch.get(0).generationId())).isEqualTo(1_000);
        assertThat(NODE.chargeFor(batch.get(3).generationId())).as("a free request is in no charge").isZero();
        assertThat(NODE.chargeFor(late.generationId())).isEqualTo(500);
        assertThat(NODE.sql("SELECT count(*) FROM generations WHERE account_id = ANY($1)",
                (Object) new Long[] {a.id(), b.id()}).iterator().next().getLong(0)).isEqualTo(5);
        assertThat(NODE.balance(a.id())).isEqualTo(1_000_000_000L - 4_500);
        assertThat(NODE.balance(b.id())).isEqualTo(1_000_000_000L - 2_000);
        NODE.assertLedgerBalances();
    }

    /** A bare ledger transaction of 5 nano-USD for the account, to hand-write entries against. */
    static long bareTransaction(long accountId) {
        return NODE.sql("INSERT INTO ledger_transactions (idempotency_key, kind, account_id, amount, reason) "
                + "VALUES ($1, 'adjustment', $2, 5, 'test') RETURNING id", "bare-" + UUID.randomUUID(), accountId)
                .iterator().next().getLong(0);
    }

    /** Inserts a grants entry of -5 and a customer entry in one statement, as every movement does. */
    static void insertEntries(long txn, long customerAccount, long customerAmount) {
        NODE.sql("INSERT INTO ledger_entries (txn_id, book, account_id, amount) "
                + "VALUES ($1, 'grants', NULL, -5), ($1, 'customer', $2, $3)", txn, customerAccount, customerAmount);
    }

    @Test
    void theDatabaseRefusesALedgerTransactionWhoseEntriesDoNotBalance() {
        CorouterNode.Account account = NODE.newAccount("0");
        long txn = bareTransaction(account.id());
        assertThatThrownBy(() -> insertEntries(txn, account.id(), 6)).hasMessageContaining("does not balance");
        NODE.sql("DELETE FROM ledger_transactions WHERE id = $1", txn);
        NODE.assertLedgerBalances();
    }

    @Test
    void theDatabaseRefusesACustomerEntryThatNamesAnotherAccountThanItsTransaction() {
        CorouterNode.Account owner = NODE.newAccount("0");
        CorouterNode.Account other = NODE.newAccount("0");
        long txn = bareTransaction(owner.id());
        assertThatThrownBy(() -> insertEntries(txn, other.id(), 5)).hasMessageContaining("another account");
        assertThatThrownBy(() -> insertEntries(txn + 1_000_000, owner.id(), 5))
                .hasMessageContaining("missing transaction");
        NODE.sql("DELETE FROM ledger_transactions WHERE id = $1", txn);
        NODE.assertLedgerBalances();
    }

    @Test
    void aReleaseNeverGivesBackMoreThanTheNodesLeaseHolds() {
        CorouterNode.Account account = NODE.newAccount("0.000001");
        String a = "node-a-" + UUID.randomUUID();
        String b = "node-b-" + UUID.randomUUID();
        CorouterNode.await(ledger.lease(a, account.id(), 300, 300, 60));
        CorouterNode.await(ledger.lease(b, account.id(), 500, 500, 60));

        CorouterNode.await(ledger.release(a, account.id(), 700));

        assertThat(leased(account.id())).isEqualTo(500).isEqualTo(leaseRows(account.id()));
        CorouterNode.await(ledger.releaseAll(b));
        CorouterNode.await(ledger.releaseAll(a));
    }

    @Test
    void replayingAGrantKeyWithDifferentDetailsIsAConflictAndChangesNothing() {
        CorouterNode.Account first = NODE.newAccount("0");
        CorouterNode.Account second = NODE.newAccount("0");
        String key = "grant-" + UUID.randomUUID();
        JsonObject grant = new JsonObject().put("amount_usd", "1.00").put("reason", "r").put("idempotency_key", key);
        NODE.admin("POST", "/admin/accounts/" + first.id() + "/credits", grant, 201);
        JsonObject replay = new JsonObject(NODE.admin("POST", "/admin/accounts/" + first.id() + "/credits", grant, 201));
        assertThat(replay.getBoolean("replayed")).isTrue();

        NODE.admin("POST", "/admin/accounts/" + first.id() + "/credits", grant.copy().put("amount_usd", "2.00"), 409);
        NODE.admin("POST", "/admin/accounts/" + second.id() + "/credits", grant, 409);

        assertThat(NODE.balance(first.id())).isEqualTo(1_000_000_000L);
        assertThat(NODE.balance(second.id())).isZero();
        NODE.assertLedgerBalances();
    }

    @Test
    void aChargeTheLedgerRefusesIsKeptAtCostZeroAndDoesNotHoldUpTheOtherRows() {
        CorouterNode.Account poor = NODE.newAccount("0.000001");
        CorouterNode.Account rich = NODE.newAccount("1.00");
        String nodeId = "node-metering-" + UUID.randomUUID();
        LocalCodec.register(vertx.eventBus(), UsageRecord.class);
        UsageBacklog backlog = new UsageBacklog(100_000);
        CorouterNode.await(vertx.deployVerticle(new MeteringVerticle(nodeId, usage,
                new ServerOptions.MeteringOptions(100, 10, 100_000), backlog)));

        UsageRecord good1 = record(rich.id(), rich.keyId(), 5_000);
        UsageRecord refused = record(poor.id(), poor.keyId(), 2_000); // more than the 1,000 nano-USD it holds
        UsageRecord good2 = record(rich.id(), rich.keyId(), 7_000);
        for (UsageRecord r : List.of(good1, refused, good2)) {
            backlog.offer(r);
        }
        CorouterNode.await(vertx.eventBus().request(MeteringContract.FLUSH, null));

        assertThat(NODE.chargeFor(good1.generationId())).isEqualTo(5_000);
        assertThat(NODE.chargeFor(good2.generationId())).isEqualTo(7_000);
        assertThat(NODE.chargeFor(refused.generationId())).isZero();
        var row = NODE.sql("SELECT cost, error_code FROM generations WHERE id = $1", refused.generationId())
                .iterator().next();
        assertThat(row.getLong("cost")).isZero();
        assertThat(row.getString("error_code")).isEqualTo("charge_failed");
        assertThat(NODE.balance(poor.id())).isEqualTo(1_000);
        assertThat(NODE.balance(rich.id())).isEqualTo(1_000_000_000L - 12_000);
        NODE.assertLedgerBalances();
    }
}
